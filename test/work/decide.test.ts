// The scheduler's pure decision: examples of each rule, then properties over random states (no plan
// breaks a safety rule; repeated rounds converge; the result does not depend on input order), and
// proof that the properties can fail: deliberately broken variants are caught.

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyPlan, planViolations } from '../../recipes/work/check.ts'
import { decide } from '../../recipes/work/decide.ts'
import type { Action, Decision, JobEntry, PlacedAssignment, Placement, SchedulerState } from '../../recipes/work/decide.ts'
import { replicaId } from '../../recipes/work/layout.ts'
import type { MachineInfo } from '../../recipes/work/machine.ts'
import { at, job, machine, state } from './fixtures.ts'

const assigns = (d: Decision) => d.actions.filter((a) => a.kind === 'assign').map((a) => `${replicaId(a)}@${a.machine}`).sort()
const unassigns = (d: Decision) => d.actions.filter((a) => a.kind === 'unassign').map((a) => `${replicaId(a)}@${a.machine}`).sort()

describe('decide() examples', () => {
  it('spreads the replicas of a job across machines', () => {
    const d = decide(state({ jobs: [job('web', { replicas: 3 })], machines: [machine('a'), machine('b'), machine('c')] }))
    expect(assigns(d)).toEqual(['web#0@a', 'web#1@b', 'web#2@c'])
  })

  it('places on the least-loaded machine', () => {
    const d = decide(state({ jobs: [job('old', { replicas: 2 }), job('new')], machines: [machine('a'), machine('b'), machine('c')], assignments: [at('a', 'old', '0'), at('b', 'old', '1')] }))
    expect(assigns(d)).toEqual(['new#0@c'])
  })

  it('runs a global job once on every machine that matches its labels', () => {
    const d = decide(state({ jobs: [job('logs', { global: true, constraints: { labels: { os: 'linux' } } })], machines: [machine('a', { os: 'linux' }), machine('b'), machine('c', { os: 'linux' })] }))
    expect(assigns(d)).toEqual(['logs#a@a', 'logs#c@c'])
  })

  it('places a constrained job only where the labels match, and leaves it unplaced when none does', () => {
    const d = decide(state({ jobs: [job('db', { constraints: { labels: { disk: 'ssd' } } }), job('gpu', { constraints: { labels: { gpu: 'yes' } } })], machines: [machine('a'), machine('b', { disk: 'ssd' })] }))
    expect(assigns(d)).toEqual(['db#0@b'])
    expect(d.unplaced).toEqual([{ job: 'gpu', replica: '0' }])
  })

  it('keeps conflicting jobs apart, whichever side declares the conflict', () => {
    const d = decide(state({ jobs: [job('a1', { constraints: { conflicts: ['b1'] } }), job('b1'), job('c1')], machines: [machine('m1')], assignments: [at('m1', 'b1', '0')] }))
    expect(assigns(d)).toEqual(['c1#0@m1'])
    expect(d.unplaced).toEqual([{ job: 'a1', replica: '0' }])
  })

  it('places the most constrained job first, so a job that could run anywhere does not take its only machine', () => {
    // "cache" sorts first by name and conflicts with "db", which can run on b only.
    const d = decide(state({ jobs: [job('cache', { constraints: { conflicts: ['db'] } }), job('db', { constraints: { labels: { disk: 'ssd' } } })], machines: [machine('b', { disk: 'ssd' }), machine('c')] }))
    expect(assigns(d)).toEqual(['cache#0@c', 'db#0@b'])
  })

  it('respects capacity', () => {
    const d = decide(state({ jobs: [job('big', { replicas: 3, resources: { cpu: 2 } })], machines: [machine('a', {}, { cpu: 3 }), machine('b', {}, { cpu: 4 })] }))
    expect(assigns(d)).toEqual(['big#0@a', 'big#1@b', 'big#2@b'])
    const full = decide(state({ jobs: [job('big', { replicas: 4, resources: { cpu: 2 } })], machines: [machine('a', {}, { cpu: 3 }), machine('b', {}, { cpu: 4 })] }))
    expect(full.unplaced).toEqual([{ job: 'big', replica: '3' }])
  })

  it('keeps the work of a vanished machine during the grace period, then moves it in one plan', () => {
    const base = { jobs: [job('web', { replicas: 2 })], machines: [machine('a'), machine('c')], assignments: [at('a', 'web', '0'), at('b', 'web', '1')] }
    const within = decide(state({ ...base, absent: [['b', 80_000]], nowMs: 100_000, graceMs: 30_000 }))
    expect(within.actions).toEqual([])
    expect(within.waiting).toEqual(['b'])
    const after = decide(state({ ...base, absent: [['b', 60_000]], nowMs: 100_000, graceMs: 30_000 }))
    expect(unassigns(after)).toEqual(['web#1@b'])
    expect(assigns(after)).toEqual(['web#1@c'])
  })

  it('waits for the machine\'s own stop timeout when it is longer than the grace period', () => {
    const s = state({ jobs: [job('web')], machines: [machine('c')], assignments: [at('b', 'web', '0')], nowMs: 100_000, graceMs: 1000 })
    const absent = new Map([['b', { sinceMs: 95_000, stopTimeoutMs: 10_000 }]])
    expect(decide({ ...s, absent }).actions).toEqual([])
    expect(assigns(decide({ ...s, absent: new Map([['b', { sinceMs: 85_000, stopTimeoutMs: 10_000 }]]) }))).toEqual(['web#0@c'])
  })

  it('never moves a global job: it is removed with its machine', () => {
    const d = decide(state({ jobs: [job('logs', { global: true })], machines: [machine('a')], assignments: [at('a', 'logs', 'a'), at('b', 'logs', 'b')], absent: [['b', 0]] }))
    expect(unassigns(d)).toEqual(['logs#b@b'])
    expect(assigns(d)).toEqual([])
  })

  it('removes every replica of a removed job and replicas above a lowered count', () => {
    const d = decide(state({ jobs: [job('web', { replicas: 1 })], machines: [machine('a'), machine('b')], assignments: [at('a', 'web', '0'), at('b', 'web', '1'), at('a', 'old', '0'), at('b', 'old', '1')] }))
    expect(unassigns(d)).toEqual(['old#0@a', 'old#1@b', 'web#1@b'])
    expect(assigns(d)).toEqual([])
  })

  it('rewrites an assignment whose job spec changed', () => {
    const d = decide(state({ jobs: [job('web', {}, 12)], machines: [machine('a')], assignments: [at('a', 'web', '0', 10)] }))
    expect(d.actions).toEqual([{ kind: 'update', machine: 'a', job: 'web', replica: '0' }])
  })

  it('moves work off a live machine in two rounds: unassign, then place once its status is gone', () => {
    const jobs = [job('db', { constraints: { labels: { disk: 'ssd' } } })]
    const machines = [machine('a'), machine('b', { disk: 'ssd' })]
    const first = decide(state({ jobs, machines, assignments: [at('a', 'db', '0')], statuses: [{ machine: 'a', job: 'db', replica: '0' }] }))
    expect(unassigns(first)).toEqual(['db#0@a'])
    expect(assigns(first)).toEqual([])
    const stopping = decide(state({ jobs, machines, statuses: [{ machine: 'a', job: 'db', replica: '0' }] }))
    expect(stopping.actions).toEqual([])
    const stopped = decide(state({ jobs, machines }))
    expect(assigns(stopped)).toEqual(['db#0@b'])
  })

  it('keeps one of two assignments of the same replica', () => {
    const d = decide(state({ jobs: [job('web')], machines: [machine('a'), machine('b')], assignments: [at('b', 'web', '0'), at('a', 'web', '0')] }))
    expect(unassigns(d)).toEqual(['web#0@b'])
    expect(assigns(d)).toEqual([])
  })
})

// ---- properties ----

const MACHINE_IDS = ['a', 'b', 'c', 'd', 'e']
const JOB_NAMES = ['j0', 'j1', 'j2', 'j3', 'j4']

const jobArb: fc.Arbitrary<JobEntry> = fc
  .record({
    name: fc.constantFrom(...JOB_NAMES),
    global: fc.boolean(),
    replicas: fc.integer({ min: 0, max: 4 }),
    zone: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }),
    conflicts: fc.subarray(JOB_NAMES),
    cpu: fc.integer({ min: 0, max: 2 }),
    revision: fc.integer({ min: 1, max: 3 }),
  })
  .map((r) =>
    job(
      r.name,
      {
        ...(r.global ? { global: true } : { replicas: r.replicas }),
        constraints: { labels: r.zone ? { zone: r.zone } : {}, conflicts: r.conflicts.filter((c) => c !== r.name) },
        resources: { cpu: r.cpu },
      },
      r.revision,
    ),
  )

const machineArb: fc.Arbitrary<MachineInfo> = fc
  .record({ id: fc.constantFrom(...MACHINE_IDS), zone: fc.option(fc.constantFrom('x', 'y'), { nil: undefined }), cpu: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }) })
  .map((r) => machine(r.id, r.zone ? { zone: r.zone } : {}, r.cpu === undefined ? {} : { cpu: r.cpu }))

const placementArb: fc.Arbitrary<Placement> = fc.record({
  machine: fc.constantFrom(...MACHINE_IDS),
  job: fc.constantFrom(...JOB_NAMES, 'gone'),
  replica: fc.constantFrom('0', '1', '2', '3', '4', ...MACHINE_IDS),
})

const stateArb: fc.Arbitrary<SchedulerState> = fc
  .record({
    jobs: fc.uniqueArray(jobArb, { selector: (j) => j.spec.name, maxLength: 5 }),
    machines: fc.uniqueArray(machineArb, { selector: (m) => m.id, maxLength: 5 }),
    assignments: fc.array(fc.tuple(placementArb, fc.integer({ min: 1, max: 3 })), { maxLength: 12 }),
    statuses: fc.array(placementArb, { maxLength: 6 }),
    absentSince: fc.array(fc.integer({ min: 0, max: 100_000 }), { minLength: 5, maxLength: 5 }),
  })
  .map((r) => {
    const present = new Set(r.machines.map((m) => m.id))
    const seen = new Set<string>()
    const assignments = r.assignments
      .map(([p, revision]) => ({ ...p, revision }))
      .filter((a) => {
        const k = `${a.machine}/${replicaId(a)}`
        if (seen.has(k)) return false
        seen.add(k)
        return true
      })
    // A status exists only on a present machine (it is bound to the agent's lease).
    const statuses = r.statuses.filter((s) => present.has(s.machine))
    const absent = MACHINE_IDS.filter((id) => !present.has(id)).map((id) => [id, r.absentSince[MACHINE_IDS.indexOf(id)]!] as [string, number])
    return state({ jobs: r.jobs, machines: r.machines, assignments, statuses, absent, nowMs: 100_000, graceMs: 30_000 })
  })

type Decider = (s: SchedulerState) => Decision

/** Runs of the safety property (WORK_PROPERTY_RUNS=20000 for a longer search). */
const RUNS = Number(process.env.WORK_PROPERTY_RUNS ?? 400)

/** One round of the world: the plan is written; agents on present machines start what they are given and stop what was taken away. */
function step(s: SchedulerState, d: Decision): SchedulerState {
  const assignments = applyPlan(s.assignments, d.actions, (j) => s.jobs.get(j)?.revision ?? -1)
  const statuses = assignments.filter((a) => s.machines.has(a.machine)).map(({ machine: m, job: j, replica }) => ({ machine: m, job: j, replica }))
  return { ...s, assignments, statuses, nowMs: s.nowMs + 1000 }
}

function converges(decider: Decider, s0: SchedulerState): string[] {
  let s = s0
  for (let round = 0; round < 8; round++) {
    const d = decider(s)
    const problems = planViolations(s, d.actions)
    if (problems.length > 0) return problems.map((p) => `round ${round}: ${p}`)
    if (d.actions.length === 0) return []
    s = step(s, d)
  }
  return ['no fixed point after 8 rounds']
}

function shuffled<T>(xs: readonly T[], seed: number): T[] {
  const out = [...xs]
  let x = seed || 1
  for (let i = out.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648
    const j = x % (i + 1)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

describe('decide() properties', () => {
  it('no plan breaks a safety rule, and rounds reach a fixed point', () => {
    fc.assert(
      fc.property(stateArb, (s) => {
        expect(converges(decide, s)).toEqual([])
      }),
      { numRuns: RUNS },
    )
  })

  it('at the fixed point every wanted replica is placed once or has nowhere to go', () => {
    fc.assert(
      fc.property(stateArb, (s0) => {
        let s = s0
        let d = decide(s)
        for (let i = 0; i < 8 && d.actions.length > 0; i++) {
          s = step(s, d)
          d = decide(s)
        }
        // (Rounds advance time, so a grace period may run out on the way: stop at the fixed point.)
        expect(d.actions).toEqual([])
        const placed = new Map<string, string[]>()
        for (const a of s.assignments) placed.set(replicaId(a), [...(placed.get(replicaId(a)) ?? []), a.machine])
        // A replica on a present machine is there once; only a duplicate the state began with on
        // machines within their grace period may remain (nothing is taken away from those).
        for (const ms of placed.values()) if (ms.some((m) => s.machines.has(m))) expect(ms).toHaveLength(1)
        for (const u of d.unplaced) expect(placed.has(replicaId(u))).toBe(false)
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })

  it('the plan does not depend on the order of its inputs', () => {
    fc.assert(
      fc.property(stateArb, fc.integer({ min: 1, max: 1_000_000 }), (s, seed) => {
        const reordered: SchedulerState = {
          ...s,
          jobs: new Map(shuffled([...s.jobs], seed)),
          machines: new Map(shuffled([...s.machines], seed + 1)),
          assignments: shuffled(s.assignments, seed + 2),
          statuses: shuffled(s.statuses, seed + 3),
        }
        const sortKey = (a: Action) => `${a.kind} ${a.machine} ${replicaId(a)}`
        expect(decide(reordered).actions.map(sortKey).sort()).toEqual(decide(s).actions.map(sortKey).sort())
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    )
  })
})

describe('the properties catch a broken scheduler', () => {
  const broken: Array<[string, Decider]> = [
    ['one that ignores statuses (moves work off a live machine before it stopped)', (s) => decide({ ...s, statuses: [] })],
    ['one that ignores the grace period', (s) => decide({ ...s, graceMs: 0, absent: new Map([...s.absent].map(([id, a]) => [id, { ...a, sinceMs: -1e9 }])) })],
    [
      'one that places a replica again without removing the old assignment',
      (s) => {
        const d = decide(s)
        return { ...d, actions: d.actions.filter((a) => a.kind !== 'unassign') }
      },
    ],
  ]
  for (const [what, decider] of broken) {
    it(`finds ${what}`, () => {
      const r = fc.check(fc.property(stateArb, (s) => converges(decider, s).length === 0), { numRuns: 2000 })
      expect(r.failed).toBe(true)
    })
  }

  it('planViolations() names a replica assigned to two machines', () => {
    const s = state({ jobs: [job('web')], machines: [machine('a'), machine('b')], assignments: [at('a', 'web', '0')] })
    const bad: Action[] = [{ kind: 'assign', machine: 'b', job: 'web', replica: '0' }]
    expect(planViolations(s, bad)).toContain('web#0 assigned to 2 machines (a, b)')
  })
})

export type { PlacedAssignment }
