// The scheduler's decision, a pure function of what it read: jobs, present machines, assignments,
// statuses, and how long each vanished machine has been gone. It returns the writes to make. Rules:
//
//  - Stability first: a valid assignment on a present machine is never moved, and one on a machine
//    that vanished less than the grace period ago is kept (a slow store, a store leader change or an
//    agent restart must not reschedule the fleet — fleet's worst failure).
//  - One place per replica: a replica is placed only when it has no assignment anywhere and no status
//    anywhere (a status means a process may still be running or stopping there). So moving work off
//    a live machine takes two rounds: unassign, wait for that agent to remove the status, place.
//  - Placement: the most constrained jobs first (fewest machines matching their labels), each on a
//    machine that matches its labels, conflicts with none of the jobs there (either side may declare
//    the conflict) and has the capacity; replicas of a job spread (fewest replicas of that job first),
//    then the least loaded machine, then the machine ID, so the result is deterministic.
//  - A global job has one replica per fitting present machine, named after the machine; it is never
//    moved, only removed when its machine has been gone past the grace period.

import type { ReplicaRef } from './layout.ts'
import { replicaId } from './layout.ts'
import type { MachineInfo } from './machine.ts'
import type { JobSpec, Resources } from './spec.ts'
import { RESOURCE_NAMES, replicaNames } from './spec.ts'

export interface JobEntry {
  spec: JobSpec
  /** Mod revision of the job key. */
  revision: number
}

export interface Placement extends ReplicaRef {
  machine: string
}

export interface PlacedAssignment extends Placement {
  /** Revision recorded in the assignment (-1 when its value could not be read: it is rewritten). */
  revision: number
}

export interface Absence {
  /** When the scheduler first saw the machine missing (ms). */
  sinceMs: number
  /** The machine's announced stop timeout, if it was ever seen (ms). */
  stopTimeoutMs: number
}

export interface SchedulerState {
  jobs: ReadonlyMap<string, JobEntry>
  /** Machines whose presence key exists. */
  machines: ReadonlyMap<string, MachineInfo>
  assignments: readonly PlacedAssignment[]
  /** Replicas with a status key (a process may run there). */
  statuses: readonly Placement[]
  /** Machines referenced by assignments but not present. */
  absent: ReadonlyMap<string, Absence>
  nowMs: number
  graceMs: number
}

export type Action =
  | ({ kind: 'assign' } & Placement)
  /** The job's spec changed: rewrite the assignment (the agent restarts the replica). */
  | ({ kind: 'update' } & Placement)
  | ({ kind: 'unassign'; reason: string } & Placement)

export interface Decision {
  actions: Action[]
  /** Replicas that fit nowhere right now. */
  unplaced: ReplicaRef[]
  /** Absent machines still within their grace period (their work is kept). */
  waiting: string[]
}

/** Whether a vanished machine has been gone long enough for its work to move. */
export function graceOver(state: Pick<SchedulerState, 'nowMs' | 'graceMs'>, a: Absence): boolean {
  return state.nowMs - a.sinceMs >= Math.max(state.graceMs, a.stopTimeoutMs)
}

function labelsMatch(spec: JobSpec, m: MachineInfo): boolean {
  return Object.entries(spec.constraints.labels).every(([k, v]) => m.labels[k] === v)
}

function conflicts(a: string, b: string, jobs: ReadonlyMap<string, JobEntry>): boolean {
  if (a === b) return false
  return (jobs.get(a)?.spec.constraints.conflicts.includes(b) ?? false) || (jobs.get(b)?.spec.constraints.conflicts.includes(a) ?? false)
}

/** What is on each machine as the plan grows: jobs (for conflicts), replica count and resources used. */
class Occupancy {
  private readonly jobsOn = new Map<string, Map<string, number>>()
  private readonly used = new Map<string, Resources>()
  private readonly count = new Map<string, number>()

  add(machine: string, job: string, need: Resources | undefined): void {
    const jobs = this.jobsOn.get(machine) ?? new Map<string, number>()
    jobs.set(job, (jobs.get(job) ?? 0) + 1)
    this.jobsOn.set(machine, jobs)
    this.count.set(machine, (this.count.get(machine) ?? 0) + 1)
    const u = this.used.get(machine) ?? { cpu: 0, memory: 0 }
    if (need) for (const r of RESOURCE_NAMES) u[r] += need[r]
    this.used.set(machine, u)
  }

  /** Adds a job seen only through a status (a process stopping): counts for conflicts, not for load. */
  addPresence(machine: string, job: string): void {
    const jobs = this.jobsOn.get(machine) ?? new Map<string, number>()
    if (!jobs.has(job)) jobs.set(job, 0)
    this.jobsOn.set(machine, jobs)
  }

  replicasOf(machine: string, job: string): number {
    return this.jobsOn.get(machine)?.get(job) ?? 0
  }

  load(machine: string): number {
    return this.count.get(machine) ?? 0
  }

  conflictsOn(machine: string, job: string, jobs: ReadonlyMap<string, JobEntry>): boolean {
    for (const other of this.jobsOn.get(machine)?.keys() ?? []) if (conflicts(job, other, jobs)) return true
    return false
  }

  fits(m: MachineInfo, need: Resources): boolean {
    const u = this.used.get(m.id) ?? { cpu: 0, memory: 0 }
    return RESOURCE_NAMES.every((r) => m.capacity[r] === undefined || u[r] + need[r] <= m.capacity[r]!)
  }
}

function byPlacement(a: Placement, b: Placement): number {
  return a.job < b.job ? -1 : a.job > b.job ? 1 : a.replica < b.replica ? -1 : a.replica > b.replica ? 1 : a.machine < b.machine ? -1 : a.machine > b.machine ? 1 : 0
}

/** Why an existing assignment must go, or undefined to keep it (conflicts are checked by the caller). */
function invalidReason(state: SchedulerState, a: PlacedAssignment): string | undefined {
  const job = state.jobs.get(a.job)
  if (job === undefined) return 'job removed'
  if (job.spec.global ? a.replica !== a.machine : !replicaNames(job.spec).includes(a.replica)) return 'replica no longer wanted'
  const machine = state.machines.get(a.machine)
  if (machine === undefined) {
    const absence = state.absent.get(a.machine) ?? { sinceMs: state.nowMs, stopTimeoutMs: 0 }
    return graceOver(state, absence) ? 'machine gone past the grace period' : undefined
  }
  if (!labelsMatch(job.spec, machine)) return 'machine labels no longer match'
  return undefined
}

/** The plan as it grows: the writes so far and what they leave on each machine. */
class Plan {
  readonly actions: Action[] = []
  readonly occupancy = new Occupancy()
  /** Replicas that have a place (kept, placed, or held by a status). */
  readonly taken = new Set<string>()
  readonly waiting = new Set<string>()
  readonly unplaced: ReplicaRef[] = []

  constructor(readonly state: SchedulerState) {}

  place(p: Placement): void {
    this.actions.push({ kind: 'assign', ...p })
    this.taken.add(replicaId(p))
    this.occupancy.add(p.machine, p.job, this.state.jobs.get(p.job)!.spec.resources)
  }
}

/** Decides the writes that bring assignments closer to the jobs. Pure and deterministic. */
export function decide(state: SchedulerState): Decision {
  const plan = new Plan(state)
  keepOrRemove(plan)
  // A status anywhere holds its replica: the process there may not have stopped yet.
  for (const s of state.statuses) {
    plan.taken.add(replicaId(s))
    plan.occupancy.addPresence(s.machine, s.job)
  }
  placeAll(plan)
  return { actions: plan.actions, unplaced: plan.unplaced, waiting: [...plan.waiting].sort() }
}

/**
 * Keeps what is valid, in a fixed order so that conflicts and duplicates resolve the same way each
 * time. Work on a machine within its grace period comes first and is never taken away for a conflict
 * or a duplicate: nobody knows what still runs there, so it must not become placeable.
 */
function keepOrRemove(plan: Plan): void {
  const { state, occupancy, taken } = plan
  const absentFirst = (a: Placement, b: Placement) => Number(state.machines.has(a.machine)) - Number(state.machines.has(b.machine))
  for (const a of [...state.assignments].sort((x, y) => absentFirst(x, y) || byPlacement(x, y))) {
    const id = replicaId(a)
    const present = state.machines.has(a.machine)
    const invalid = invalidReason(state, a)
    if (taken.has(id) && !present && invalid === undefined) continue // a duplicate within its grace period: left alone
    const reason = taken.has(id)
      ? 'replica already assigned elsewhere'
      : (invalid ?? (present && occupancy.conflictsOn(a.machine, a.job, state.jobs) ? 'conflicts with a job on the machine' : undefined))
    if (reason !== undefined) {
      plan.actions.push({ kind: 'unassign', reason, machine: a.machine, job: a.job, replica: a.replica })
      continue
    }
    taken.add(id)
    if (!present) plan.waiting.add(a.machine)
    const job = state.jobs.get(a.job)!
    occupancy.add(a.machine, a.job, job.spec.resources)
    if (a.revision !== job.revision) plan.actions.push({ kind: 'update', machine: a.machine, job: a.job, replica: a.replica })
  }
}

/**
 * Places every replica without a place. The most constrained jobs first (fewest machines with
 * matching labels), so that a job that can run in one place only is not crowded out of it by one
 * that could have run anywhere.
 */
function placeAll(plan: Plan): void {
  const { state } = plan
  const machines = [...state.machines.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  const fitCount = new Map([...state.jobs.values()].map(({ spec }) => [spec.name, machines.filter((m) => labelsMatch(spec, m)).length]))
  const order = [...state.jobs.keys()].sort((a, b) => fitCount.get(a)! - fitCount.get(b)! || (a < b ? -1 : a > b ? 1 : 0))
  for (const name of order) {
    const { spec } = state.jobs.get(name)!
    if (spec.global) placeGlobal(plan, spec, machines)
    else placeReplicas(plan, spec, machines)
  }
}

function fits(plan: Plan, spec: JobSpec, m: MachineInfo): boolean {
  return labelsMatch(spec, m) && !plan.occupancy.conflictsOn(m.id, spec.name, plan.state.jobs) && plan.occupancy.fits(m, spec.resources)
}

/** One replica, named after the machine, on every machine whose labels match. */
function placeGlobal(plan: Plan, spec: JobSpec, machines: readonly MachineInfo[]): void {
  for (const m of machines) {
    const ref = { job: spec.name, replica: m.id }
    if (plan.taken.has(replicaId(ref)) || !labelsMatch(spec, m)) continue
    if (fits(plan, spec, m)) plan.place({ machine: m.id, ...ref })
    else plan.unplaced.push(ref)
  }
}

/** Each missing replica on the fitting machine with the fewest of this job, then the fewest in all, then the lowest ID. */
function placeReplicas(plan: Plan, spec: JobSpec, machines: readonly MachineInfo[]): void {
  const { occupancy } = plan
  const better = (m: MachineInfo, than: MachineInfo): boolean => {
    const [a, b] = [occupancy.replicasOf(m.id, spec.name), occupancy.replicasOf(than.id, spec.name)]
    if (a !== b) return a < b
    const [la, lb] = [occupancy.load(m.id), occupancy.load(than.id)]
    if (la !== lb) return la < lb
    return m.id < than.id
  }
  for (const replica of replicaNames(spec)) {
    const ref = { job: spec.name, replica }
    if (plan.taken.has(replicaId(ref))) continue
    let best: MachineInfo | undefined
    for (const m of machines) if (fits(plan, spec, m) && (best === undefined || better(m, best))) best = m
    if (best === undefined) plan.unplaced.push(ref)
    else plan.place({ machine: best.id, ...ref })
  }
}
