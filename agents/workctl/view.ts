// What `cairn work ls|status|machines` print, computed from a read of the work keyspace. Pure.

import type { World } from '../../recipes/work/read.ts'
import { replicaId } from '../../recipes/work/layout.ts'
import { replicaNames } from '../../recipes/work/spec.ts'

export interface ReplicaRow {
  job: string
  replica: string
  /** Where it is assigned ('' while unplaced). */
  machine: string
  /**
   * The agent's state; `pending` while the agent has not reported it, `machine-gone` while its machine
   * is absent (within the grace period), `stopping` for a status left after unassignment, `unplaced`
   * while nowhere fits (or no scheduler acted yet).
   */
  state: string
  pid: number
  restarts: number
  exitCode: number | null
  since: number
}

function byReplica(a: { replica: string }, b: { replica: string }): number {
  const [x, y] = [Number(a.replica), Number(b.replica)]
  if (Number.isInteger(x) && Number.isInteger(y)) return x - y
  return a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : 0
}

/** One row per wanted or assigned replica (and per stray status), sorted by job then replica. */
export function replicaRows(world: World, onlyJob?: string): ReplicaRow[] {
  const rows = new Map<string, ReplicaRow>()
  const key = (machine: string, id: string) => `${id}@${machine}`
  for (const a of world.assignments) {
    if (onlyJob !== undefined && a.job !== onlyJob) continue
    // No status yet: the agent has not started it, or the machine is gone (its statuses went with its lease).
    const state = world.machines.has(a.machine) ? 'pending' : 'machine-gone'
    rows.set(key(a.machine, replicaId(a)), { job: a.job, replica: a.replica, machine: a.machine, state, pid: 0, restarts: 0, exitCode: null, since: 0 })
  }
  for (const s of world.statuses) {
    if (onlyJob !== undefined && s.job !== onlyJob) continue
    const k = key(s.machine, replicaId(s))
    const row = rows.get(k) ?? { job: s.job, replica: s.replica, machine: s.machine, state: 'stopping', pid: 0, restarts: 0, exitCode: null, since: 0 }
    if (s.status) {
      if (rows.has(k)) row.state = s.status.state
      row.pid = s.status.pid
      row.restarts = s.status.restarts
      row.exitCode = s.status.exitCode
      row.since = s.status.since
    }
    rows.set(k, row)
  }
  const placed = new Set([...rows.values()].map((r) => replicaId(r)))
  for (const { spec } of world.jobs.values()) {
    if (onlyJob !== undefined && spec.name !== onlyJob) continue
    if (spec.global) continue
    for (const replica of replicaNames(spec)) {
      if (!placed.has(replicaId({ job: spec.name, replica }))) rows.set(key('', `${spec.name}#${replica}`), { job: spec.name, replica, machine: '', state: 'unplaced', pid: 0, restarts: 0, exitCode: null, since: 0 })
    }
  }
  return [...rows.values()].sort((a, b) => (a.job < b.job ? -1 : a.job > b.job ? 1 : byReplica(a, b) || (a.machine < b.machine ? -1 : 1)))
}

export interface MachineRow {
  machine: string
  labels: string
  capacity: string
  replicas: number
  since: number
}

export function machineRows(world: World): MachineRow[] {
  return [...world.machines.values()]
    .sort((a, b) => (a.id < b.id ? -1 : 1))
    .map((m) => ({
      machine: m.id,
      labels: Object.entries(m.labels).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(','),
      capacity: Object.entries(m.capacity).map(([k, v]) => `${k}=${v}`).join(','),
      replicas: world.assignments.filter((a) => a.machine === m.id).length,
      since: m.startedAt,
    }))
}

/** "3m12s ago"-style age, or "-" for 0. */
export function age(sinceMs: number, nowMs: number): string {
  if (sinceMs <= 0) return '-'
  let s = Math.max(0, Math.floor((nowMs - sinceMs) / 1000))
  const h = Math.floor(s / 3600)
  s -= h * 3600
  const m = Math.floor(s / 60)
  s -= m * 60
  return h > 0 ? `${h}h${m}m` : m > 0 ? `${m}m${s}s` : `${s}s`
}

/** Columns padded to their widest cell, separated by two spaces (the last column unpadded). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}
