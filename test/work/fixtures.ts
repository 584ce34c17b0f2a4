// Builders for scheduler states in unit and property tests.

import type { JobEntry, PlacedAssignment, Placement, SchedulerState } from '../../recipes/work/decide.ts'
import type { MachineInfo } from '../../recipes/work/machine.ts'
import { parseJobSpec } from '../../recipes/work/spec.ts'

export function job(name: string, extra: Record<string, unknown> = {}, revision = 10): JobEntry {
  return { spec: parseJobSpec({ name, command: ['/bin/true'], ...extra }), revision }
}

export function machine(id: string, labels: Record<string, string> = {}, capacity: MachineInfo['capacity'] = {}): MachineInfo {
  return { id, labels, capacity, stopTimeoutMs: 0, startedAt: 0 }
}

export function state(parts: {
  jobs?: JobEntry[]
  machines?: MachineInfo[]
  assignments?: PlacedAssignment[]
  statuses?: Placement[]
  absent?: Array<[string, number]>
  nowMs?: number
  graceMs?: number
}): SchedulerState {
  return {
    jobs: new Map((parts.jobs ?? []).map((j) => [j.spec.name, j])),
    machines: new Map((parts.machines ?? []).map((m) => [m.id, m])),
    assignments: parts.assignments ?? [],
    statuses: parts.statuses ?? [],
    absent: new Map((parts.absent ?? []).map(([id, sinceMs]) => [id, { sinceMs, stopTimeoutMs: 0 }])),
    nowMs: parts.nowMs ?? 100_000,
    graceMs: parts.graceMs ?? 30_000,
  }
}

export function at(machine: string, jobName: string, replica: string, revision = 10): PlacedAssignment {
  return { machine, job: jobName, replica, revision }
}
