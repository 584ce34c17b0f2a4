// Safety of a scheduling plan, checked independently of how decide() reasons: what must never be
// written whatever the state. Used by the property tests, and by the scheduler as an assertion before
// it writes (a plan that breaks one of these is a bug: it is logged and not written).

import type { Action, PlacedAssignment, SchedulerState } from './decide.ts'
import { graceOver } from './decide.ts'
import { replicaId } from './layout.ts'
import { replicaNames, RESOURCE_NAMES } from './spec.ts'

function wanted(state: SchedulerState, job: string, replica: string, machine: string): boolean {
  const j = state.jobs.get(job)
  if (j === undefined) return false
  return j.spec.global ? replica === machine : replicaNames(j.spec).includes(replica)
}

/** The assignments after the plan is written (unassigns first, as the scheduler writes them). */
export function applyPlan(assignments: readonly PlacedAssignment[], actions: readonly Action[], revisionOf: (job: string) => number): PlacedAssignment[] {
  const gone = new Set(actions.filter((a) => a.kind === 'unassign').map((a) => `${a.machine}/${replicaId(a)}`))
  const out = assignments.filter((a) => !gone.has(`${a.machine}/${replicaId(a)}`))
  for (const a of actions) {
    if (a.kind === 'assign') out.push({ machine: a.machine, job: a.job, replica: a.replica, revision: revisionOf(a.job) })
    if (a.kind === 'update') {
      const i = out.findIndex((x) => x.machine === a.machine && replicaId(x) === replicaId(a))
      if (i >= 0) out[i] = { ...out[i]!, revision: revisionOf(a.job) }
    }
  }
  return out
}

/** Every rule the plan breaks, as one line each; empty when it is safe. */
export function planViolations(state: SchedulerState, actions: readonly Action[]): string[] {
  const problems: string[] = []
  const existing = new Set(state.assignments.map((a) => `${a.machine}/${replicaId(a)}`))
  const statusOf = new Map<string, string[]>()
  for (const s of state.statuses) statusOf.set(replicaId(s), [...(statusOf.get(replicaId(s)) ?? []), s.machine])
  for (const a of actions) {
    const where = `${replicaId(a)} on ${a.machine}`
    if (a.kind !== 'assign' && !existing.has(`${a.machine}/${replicaId(a)}`)) problems.push(`${a.kind} of a missing assignment ${where}`)
    if (a.kind === 'unassign' && wanted(state, a.job, a.replica, a.machine)) {
      const absence = state.absent.get(a.machine)
      if (!state.machines.has(a.machine) && absence !== undefined && !graceOver(state, absence)) problems.push(`moved ${where} within the grace period`)
      const m = state.machines.get(a.machine)
      const j = state.jobs.get(a.job)!
      const labelsOk = m !== undefined && Object.entries(j.spec.constraints.labels).every(([k, v]) => m.labels[k] === v)
      const duplicated = state.assignments.filter((x) => replicaId(x) === replicaId(a)).length > 1
      if (labelsOk && !duplicated && j.spec.constraints.conflicts.length === 0 && !conflictedBy(state, a.job)) problems.push(`moved ${where} off a healthy machine`)
    }
    if (a.kind !== 'assign') continue
    if (!state.machines.has(a.machine)) problems.push(`assigned ${where}, a machine that is not present`)
    if (!wanted(state, a.job, a.replica, a.machine)) problems.push(`assigned ${where}, which no job wants`)
    const elsewhere = statusOf.get(replicaId(a)) ?? []
    if (elsewhere.length > 0) problems.push(`assigned ${where} while it may still run on ${elsewhere.join(', ')}`)
    const m = state.machines.get(a.machine)
    const j = state.jobs.get(a.job)
    if (m && j && !Object.entries(j.spec.constraints.labels).every(([k, v]) => m.labels[k] === v)) problems.push(`assigned ${where}, whose labels do not match`)
  }
  const after = applyPlan(state.assignments, actions, (job) => state.jobs.get(job)?.revision ?? -1)
  const machinesOf = new Map<string, string[]>()
  for (const a of after) machinesOf.set(replicaId(a), [...(machinesOf.get(replicaId(a)) ?? []), a.machine])
  // Doubles the plan creates (the scheduler never writes one; one found in the store is repaired
  // by unassigning, except within a grace period, where nothing may be taken away).
  const assigned = new Set(actions.filter((a) => a.kind === 'assign').map(replicaId))
  for (const [id, ms] of machinesOf) if (ms.length > 1 && assigned.has(id)) problems.push(`${id} assigned to ${ms.length} machines (${ms.join(', ')})`)
  problems.push(...newPlacementProblems(state, actions, after))
  return problems
}

function conflictedBy(state: SchedulerState, job: string): boolean {
  for (const j of state.jobs.values()) if (j.spec.constraints.conflicts.includes(job)) return true
  return false
}

/** Conflicts and capacity on the machines that received new work. */
function newPlacementProblems(state: SchedulerState, actions: readonly Action[], after: readonly PlacedAssignment[]): string[] {
  const problems: string[] = []
  const touched = new Set(actions.filter((a) => a.kind === 'assign').map((a) => a.machine))
  for (const machine of touched) {
    const here = after.filter((a) => a.machine === machine)
    const jobsHere = new Set([...here.map((a) => a.job), ...state.statuses.filter((s) => s.machine === machine).map((s) => s.job)])
    for (const a of actions) {
      if (a.kind !== 'assign' || a.machine !== machine) continue
      const j = state.jobs.get(a.job)
      for (const other of jobsHere) {
        if (other === a.job) continue
        const o = state.jobs.get(other)
        if (j?.spec.constraints.conflicts.includes(other) || o?.spec.constraints.conflicts.includes(a.job)) problems.push(`assigned ${replicaId(a)} on ${machine} beside conflicting ${other}`)
      }
    }
    const m = state.machines.get(machine)
    if (m === undefined) continue
    for (const r of RESOURCE_NAMES) {
      const cap = m.capacity[r]
      if (cap === undefined) continue
      const used = here.reduce((sum, a) => sum + (state.jobs.get(a.job)?.spec.resources[r] ?? 0), 0)
      if (used > cap) problems.push(`${machine} over its ${r} capacity (${used} > ${cap}) after new assignments`)
    }
  }
  return problems
}
