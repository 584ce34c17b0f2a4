// Work assignment with real processes: a 3-member cluster, three `cairn agent`s and two `cairn
// scheduler`s. Jobs run test/work/fake-job.sh, which records every start and stop; the no-double-run
// check reads those records. Scenarios, in order, on one fleet: ten jobs reach running once per
// replica; store leader changes under load move nothing; the acting scheduler killed → the standby
// takes over (and moves nothing); an agent killed -9 → its work runs elsewhere within TTL + grace +
// a few seconds; a removed job stops everywhere. Every start/stop record is checked for overlaps.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, toText } from '../../core/client/index.ts'
import { Election } from '../../recipes/election/index.ts'
import { ELECTION_NAME, jobKey, replicaId } from '../../recipes/work/layout.ts'
import { readWorld } from '../../recipes/work/read.ts'
import type { World } from '../../recipes/work/read.ts'
import { encodeJobSpec, parseJobSpec, replicaNames } from '../../recipes/work/spec.ts'
import { cairn } from '../cli/run.ts'
import { post, TestCluster } from '../cluster/harness.ts'
import { doubleRuns, FAKE_JOB, until, WorkFleet } from './fleet.ts'
import { writePlan } from '../../agents/scheduler/write.ts'
import type { Action } from '../../recipes/work/decide.ts'

const GRACE_MS = 2000
/** The agents' lease TTL (3 s: short, yet a loaded test machine does not miss keep-alives). */
const TTL_MS = 3000

let cluster: TestCluster
let client: Client
let endpoints: string
let root: string
let fleet: WorkFleet

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  endpoints = cluster.members.map((m) => m.clientUrl).join(',')
  client = new Client({ endpoints: endpoints.split(',') })
  root = mkdtempSync(join(tmpdir(), 'cairn-work-'))
  fleet = new WorkFleet(root, endpoints)
  fleet.agent('m1', 'zone=a,disk=ssd')
  fleet.agent('m2', 'zone=b')
  fleet.agent('m3', 'zone=c')
  fleet.scheduler('s1', GRACE_MS)
  fleet.scheduler('s2', GRACE_MS)
}, 60_000)

afterAll(async () => {
  await fleet?.stopAll()
  client?.close()
  await cluster?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
}, 60_000)

const JOBS: Array<Record<string, unknown>> = [
  { name: 'web', replicas: 3 },
  { name: 'api', replicas: 2 },
  { name: 'worker', replicas: 2 },
  { name: 'db', constraints: { labels: { disk: 'ssd' } } },
  { name: 'cache', constraints: { conflicts: ['db'] } },
  { name: 'logs', global: true },
  { name: 'batch1' },
  { name: 'batch2' },
  { name: 'batch3' },
  { name: 'batch4' },
]

/** The program and environment of every test job: the fake job, recording into the fleet's file. */
function job(): { command: string[]; env: Record<string, string> } {
  return { command: [FAKE_JOB], env: { RECORD: fleet.record } }
}

/** Problems with the current picture: every wanted replica running exactly once, on a present machine. */
function unconverged(world: World): string[] {
  const problems: string[] = []
  const placements = new Map<string, string[]>()
  for (const a of world.assignments) placements.set(replicaId(a), [...(placements.get(replicaId(a)) ?? []), a.machine])
  const wanted = new Set<string>()
  for (const { spec } of world.jobs.values()) {
    const names = spec.global ? [...world.machines.keys()] : replicaNames(spec)
    for (const replica of names) wanted.add(replicaId({ job: spec.name, replica }))
  }
  for (const id of wanted) {
    const ms = placements.get(id) ?? []
    if (ms.length !== 1) {
      problems.push(`${id} assigned to [${ms.join(',')}]`)
      continue
    }
    const status = world.statuses.find((s) => replicaId(s) === id && s.machine === ms[0])
    if (!world.machines.has(ms[0]!)) problems.push(`${id} on absent ${ms[0]}`)
    if (status?.status?.state !== 'running') problems.push(`${id} on ${ms[0]} is ${status?.status?.state ?? 'not reported'}`)
  }
  for (const id of placements.keys()) if (!wanted.has(id)) problems.push(`${id} assigned but not wanted`)
  for (const s of world.statuses) if (!wanted.has(replicaId(s))) problems.push(`status left for ${replicaId(s)} on ${s.machine}`)
  return problems
}

async function waitConverged(what: string, timeoutMs: number): Promise<World> {
  let last: string[] = []
  let world: World | undefined
  await until(
    what,
    async () => {
      world = await readWorld(client)
      last = unconverged(world)
      return last.length === 0
    },
    timeoutMs,
    () => `${last.join('\n')}\n${fleet.dump()}`,
  )
  return world!
}

/** Assignment keys with their mod revisions: any rescheduling or rewrite changes this. */
async function assignmentRevisions(): Promise<Map<string, number>> {
  const r = await client.get('/cairn/work/assign/', { prefix: true })
  return new Map(r.kvs.map((kv) => [toText(kv.key), kv.modRevision]))
}

function startsPerReplica(): Map<string, number> {
  const out = new Map<string, number>()
  for (const r of fleet.records()) if (r.what === 'start') out.set(r.replica, (out.get(r.replica) ?? 0) + 1)
  return out
}

describe('cairn scheduler + cairn agent', () => {
  it('ten jobs (replicated, global, constrained, conflicting) reach running once per replica', async () => {
    // Spreading is decided at placement time: let every agent register first.
    await until('three machines', async () => (await readWorld(client)).machines.size === 3, 30_000, () => fleet.dump())
    for (const spec of JOBS.slice(0, -2)) {
      await client.put(jobKey(spec.name as string), encodeJobSpec(parseJobSpec({ ...spec, ...job() })))
    }
    // The last two through the command line, as a user would.
    for (const spec of JOBS.slice(-2)) {
      const file = join(root, `${spec.name as string}.json`)
      writeFileSync(file, JSON.stringify({ ...spec, ...job() }))
      const r = await cairn(['work', 'submit', file], { endpoints })
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(r.stdout).toBe(`job ${spec.name as string} submitted\n`)
    }
    const world = await waitConverged('all replicas running', 40_000)
    expect(world.assignments).toHaveLength(3 + 2 + 2 + 1 + 1 + 3 + 4)
    const db = world.assignments.find((a) => a.job === 'db')!
    expect(db.machine).toBe('m1')
    expect(world.assignments.find((a) => a.job === 'cache')!.machine).not.toBe('m1')
    // Replicas of a job spread over machines.
    for (const job of ['web', 'api', 'worker']) {
      const machines = world.assignments.filter((a) => a.job === job).map((a) => a.machine)
      expect(new Set(machines).size, job).toBe(machines.length)
    }
    // Exactly one start per replica, no stops, as the programs themselves recorded.
    await until('every program to record its start', () => fleet.records().length >= 16, 5000, () => fleet.dump())
    expect([...startsPerReplica().values()].every((n) => n === 1)).toBe(true)
    expect(startsPerReplica().size).toBe(16)
    expect(fleet.records().filter((r) => r.what === 'stop')).toEqual([])

    const [ls, machines, status] = await Promise.all([cairn(['work', 'ls'], { endpoints }), cairn(['work', 'machines'], { endpoints }), cairn(['work', 'status', 'db'], { endpoints })])
    expect(ls.code).toBe(0)
    expect(ls.stdout.split('\n')[0]).toMatch(/^JOB\s+REPLICA\s+MACHINE\s+STATE\s+SINCE$/)
    expect(ls.stdout).toMatch(/^db\s+0\s+m1\s+running\s+\d+s$/m)
    expect(ls.stdout.trim().split('\n')).toHaveLength(17)
    expect(machines.stdout).toMatch(/^m1\s+disk=ssd,zone=a\s+-\s+\d+\s+\d+s$/m)
    expect(status.code).toBe(0)
    expect(status.stdout).toContain('labels:      disk=ssd\n')
    expect(status.stdout).toMatch(/^0\s+m1\s+running\s+\d+\s+0\s+-\s+\d+s$/m)
  }, 60_000)

  it('a changed spec restarts the job\'s replica where it runs, without moving it', async () => {
    const before = (await readWorld(client)).assignments.find((a) => a.job === 'batch1')!
    const startsBefore = fleet.records().filter((r) => r.replica === 'batch1#0').length
    await client.put(jobKey('batch1'), encodeJobSpec(parseJobSpec({ name: 'batch1', ...job(), env: { RECORD: fleet.record, VERSION: '2' } })))
    await until('batch1 to restart', () => fleet.records().filter((r) => r.replica === 'batch1#0').length === startsBefore + 2, 10_000, () => fleet.dump())
    const world = await waitConverged('batch1 running again', 10_000)
    const after = world.assignments.find((a) => a.job === 'batch1')!
    expect(after.machine).toBe(before.machine)
    expect(after.revision).toBe(world.jobs.get('batch1')!.revision)
    const [stop, start] = fleet.records().filter((r) => r.replica === 'batch1#0').slice(-2)
    expect([stop!.what, start!.what]).toEqual(['stop', 'start'])
    expect(start!.machine).toBe(before.machine)
  }, 30_000)

  it('a job whose constraints no longer match moves off a live machine: stopped there first, then started elsewhere', async () => {
    const before = await readWorld(client)
    expect(before.assignments.find((a) => a.job === 'db')!.machine).toBe('m1')
    // Wherever "cache" (which conflicts with db) is not.
    const cacheOn = before.assignments.find((a) => a.job === 'cache')!.machine
    const [target, zone] = cacheOn === 'm2' ? ['m3', 'c'] : ['m2', 'b']
    const dbOn = async (machine: string) => {
      const w = await readWorld(client)
      return w.assignments.find((a) => a.job === 'db')?.machine === machine && unconverged(w).length === 0
    }
    await client.put(jobKey('db'), encodeJobSpec(parseJobSpec({ name: 'db', ...job(), constraints: { labels: { zone } } })))
    await until(`db to move to ${target}`, () => dbOn(target), 15_000, () => fleet.dump())
    await until('db to record its start on the new machine', () => fleet.records().some((r) => r.replica === 'db#0' && r.what === 'start' && r.machine === target), 5000, () => fleet.dump())
    const db = fleet.records().filter((r) => r.replica === 'db#0')
    const stopped = db.find((r) => r.what === 'stop' && r.machine === 'm1')!
    const started = db.find((r) => r.what === 'start' && r.machine === target)!
    expect(started.atMs).toBeGreaterThanOrEqual(stopped.atMs)
    // And back, for the scenarios that follow.
    await client.put(jobKey('db'), encodeJobSpec(parseJobSpec({ name: 'db', ...job(), constraints: { labels: { disk: 'ssd' } } })))
    await until('db to move back to m1', () => dbOn('m1'), 15_000, () => fleet.dump())
    await until('db to record its start on m1 again', () => fleet.records().filter((r) => r.replica === 'db#0' && r.what === 'start').length === 3, 5000, () => fleet.dump())
    expect(doubleRuns(fleet.records())).toEqual([])
  }, 40_000)

  it('a deposed scheduler\'s plan is refused by the fence, and a plan from a stale read by the freshness guard', async () => {
    const world = await readWorld(client)
    const plan: Action[] = [{ kind: 'assign', machine: 'ghost', job: 'batch2', replica: '0' }]
    const leadership = await new Election(client, 'test/fence-election').campaign('deposed')
    await leadership.resign()
    expect(await writePlan(client, leadership.guard(), world.revision, plan, world.jobs)).toEqual({ kind: 'refused', written: 0 })
    const leading = await new Election(client, 'test/fence-election').campaign('stale')
    try {
      // A read from just before the latest assignment write.
      const stale = Math.max(...(await assignmentRevisions()).values()) - 1
      expect(await writePlan(client, leading.guard(), stale, plan, world.jobs)).toEqual({ kind: 'refused', written: 0 })
    } finally {
      await leading.resign()
    }
    expect((await client.get('/cairn/work/assign/ghost/', { prefix: true })).kvs).toEqual([])
  }, 30_000)

  it('store leader changes under load move nothing and restart nothing', async () => {
    const before = await assignmentRevisions()
    const startsBefore = fleet.records().filter((r) => r.what === 'start').length
    const stopLoad = new AbortController()
    const load = (async () => {
      for (let i = 0; !stopLoad.signal.aborted; i++) await client.put(`load/${i % 50}`, 'x'.repeat(512)).catch(() => undefined)
    })()
    try {
      for (let round = 0; round < 2; round++) {
        const leader = await cluster.waitForLeader()
        const target = (leader + 1) % 3
        const status = await cluster.status(target)
        const r = await post(cluster.members[leader]!.clientUrl, '/v3/maintenance/transfer-leadership', { targetID: status!.memberId }, 15_000)
        expect(r.status, JSON.stringify(r.body)).toBe(200)
        await until('the new leader', async () => (await cluster.waitForLeader()) === target, 10_000, () => '')
      }
      // Longer than the agents' TTL plus the grace period: a machine wrongly seen as gone would have moved by now.
      await new Promise((r) => setTimeout(r, TTL_MS + GRACE_MS + 1500))
    } finally {
      stopLoad.abort()
      await load
    }
    expect(await assignmentRevisions()).toEqual(before)
    expect(fleet.records().filter((r) => r.what === 'start')).toHaveLength(startsBefore)
    expect(unconverged(await readWorld(client))).toEqual([])
  }, 60_000)

  it('the standby scheduler takes over when the acting one is killed, and moves nothing', async () => {
    const election = new Election(client, ELECTION_NAME)
    const acting = toText((await election.leader())!.value)
    expect(['s1', 's2']).toContain(acting)
    const before = await assignmentRevisions()
    await fleet.kill(acting)
    const standby = acting === 's1' ? 's2' : 's1'
    await until('the standby to lead', async () => toText((await election.leader())?.value ?? new Uint8Array()) === standby, 15_000, () => fleet.dump())
    const r = await cairn(['work', 'submit', '--name', 'late', '--env', `RECORD=${fleet.record}`, '--', FAKE_JOB], { endpoints })
    expect(r.code).toBe(0)
    await waitConverged('the new job to run', 15_000)
    const after = await assignmentRevisions()
    for (const [key, rev] of before) expect(after.get(key), key).toBe(rev)
    fleet.scheduler(acting, GRACE_MS)
  }, 60_000)

  it('kill -9 of an agent: its work runs elsewhere within TTL + grace + a few seconds, never twice at once', async () => {
    const world = await readWorld(client)
    const victim = 'm2'
    const moved = world.assignments.filter((a) => a.machine === victim && a.job !== 'logs').map(replicaId)
    expect(moved.length).toBeGreaterThan(0)
    const killedAt = Date.now()
    await fleet.kill(victim)
    await until('m2 to vanish', async () => !(await readWorld(client)).machines.has(victim), TTL_MS + 5000, () => fleet.dump())
    const after = await waitConverged('the work of m2 to run elsewhere', TTL_MS + GRACE_MS + 15_000)
    const tookMs = Date.now() - killedAt
    expect(tookMs).toBeLessThan(TTL_MS + GRACE_MS + 8000)
    for (const id of moved) expect(after.assignments.find((a) => replicaId(a) === id)?.machine, id).not.toBe(victim)
    // …and not before the grace period: the lease ran out at the kill at the earliest.
    // (`running` is reported at spawn; the program writes its own record a moment later.)
    const restartedOf = () => fleet.records().filter((r) => r.what === 'start' && moved.includes(r.replica) && r.machine !== victim)
    await until('the moved programs to record their start', () => restartedOf().length >= moved.length, 5000, () => fleet.dump())
    const restarted = restartedOf()
    expect(restarted).toHaveLength(moved.length)
    for (const r of restarted) expect(r.atMs, r.replica).toBeGreaterThanOrEqual(killedAt + GRACE_MS)
    expect(after.assignments.some((a) => a.machine === victim)).toBe(false)
    expect(doubleRuns(fleet.records())).toEqual([])
  }, 60_000)

  it('an agent that loses its lease stops its work at once, registers again and resumes it in place', async () => {
    const machine = (await client.get('/cairn/work/machines/m3')).kvs[0]!
    const before = await assignmentRevisions()
    const onM3 = new Set((await readWorld(client)).assignments.filter((a) => a.machine === 'm3').map(replicaId))
    const recordsBefore = fleet.records().length
    await client.lease.revoke(machine.lease)
    await until(
      'every program on m3 to stop',
      () => fleet.records().slice(recordsBefore).filter((r) => r.what === 'stop' && r.machine === 'm3').length === onM3.size,
      10_000,
      () => fleet.dump(),
    )
    await waitConverged('m3 to run its work again', 15_000)
    await until(
      'the programs on m3 to record their start again',
      () => fleet.records().slice(recordsBefore).filter((r) => r.what === 'start' && r.machine === 'm3').length === onM3.size,
      5000,
      () => fleet.dump(),
    )
    const again = await client.get('/cairn/work/machines/m3')
    expect(again.kvs[0]!.lease).not.toBe(machine.lease)
    // Back well within the grace period: nothing moved.
    expect(await assignmentRevisions()).toEqual(before)
    expect(doubleRuns(fleet.records())).toEqual([])
  }, 60_000)

  it('removing a job stops it everywhere', async () => {
    const r = await cairn(['work', 'rm', 'web'], { endpoints })
    expect(r.code).toBe(0)
    expect(r.stdout).toBe('job web removed\n')
    await waitConverged('web to be gone', 15_000)
    const world = await readWorld(client)
    expect(world.assignments.some((a) => a.job === 'web')).toBe(false)
    expect(world.statuses.some((s) => s.job === 'web')).toBe(false)
    // Every web process recorded its stop.
    const webRecords = fleet.records().filter((x) => x.replica.startsWith('web#'))
    const runs = new Map<number, number>()
    for (const x of webRecords) runs.set(x.pid, (runs.get(x.pid) ?? 0) + 1)
    expect([...runs.values()].every((n) => n === 2)).toBe(true)
    const gone = await cairn(['work', 'rm', 'web'], { endpoints })
    expect(gone.code).toBe(1)
    expect(gone.stderr).toBe('Error: job web not found\n')
    expect(doubleRuns(fleet.records())).toEqual([])
  }, 60_000)

  it('SIGTERM to an agent stops its programs, revokes its presence and exits 0', async () => {
    const onM1 = (await readWorld(client)).assignments.filter((a) => a.machine === 'm1').map(replicaId)
    expect(onM1.length).toBeGreaterThan(0)
    const lease = (await client.get('/cairn/work/machines/m1')).kvs[0]!.lease
    const recordsBefore = fleet.records().length
    await fleet.kill('m1', 'SIGTERM')
    expect(fleet.daemons.get('m1')!.proc!.exitCode).toBe(0)
    const stopped = fleet.records().slice(recordsBefore).filter((r) => r.what === 'stop' && r.machine === 'm1')
    expect(stopped.map((r) => r.replica).sort()).toEqual([...onM1].sort())
    const world = await readWorld(client)
    // Gone at once: the lease was revoked, not left to expire.
    expect(world.machines.has('m1')).toBe(false)
    expect(world.statuses.some((x) => x.machine === 'm1')).toBe(false)
    expect((await client.lease.timeToLive(lease)).ttl).toBe(-1)
    expect(doubleRuns(fleet.records())).toEqual([])
  }, 30_000)
})
