// The small pure pieces of work assignment: spec validation, flags, key parsing, restart policy,
// absence tracking, the `work ls` rows, and the no-double-run check used by the process tests.

import { describe, expect, it } from 'vitest'
import { AbsenceTracker } from '../../agents/scheduler/absence.ts'
import { buildSchedulerConfig } from '../../agents/scheduler/config.ts'
import { buildAgentConfig } from '../../agents/agent/config.ts'
import { restartDelayMs, shouldRestart } from '../../agents/agent/policy.ts'
import { specFromFlags } from '../../agents/workctl/cli.ts'
import { age, replicaRows, table } from '../../agents/workctl/view.ts'
import { encodeAssignment, parseAssignment } from '../../recipes/work/assignment.ts'
import { assignKey, ASSIGN_PREFIX, parseReplicaKey, statusKey } from '../../recipes/work/layout.ts'
import { parseCapacityFlag, parseLabelsFlag } from '../../recipes/work/machine.ts'
import type { World } from '../../recipes/work/read.ts'
import { encodeJobSpec, parseJobSpec, parseJobSpecText } from '../../recipes/work/spec.ts'
import { doubleRuns, parseRecords } from './fleet.ts'
import { job, machine } from './fixtures.ts'

describe('parseJobSpec()', () => {
  it('fills defaults and round-trips through its canonical JSON', () => {
    const spec = parseJobSpec({ name: 'web', command: ['python3', '-m', 'http.server'] })
    expect(spec).toEqual({
      name: 'web',
      command: ['python3', '-m', 'http.server'],
      env: {},
      workingDir: undefined,
      replicas: 1,
      global: false,
      constraints: { labels: {}, conflicts: [] },
      resources: { cpu: 0, memory: 0 },
      restart: 'always',
    })
    expect(parseJobSpecText(encodeJobSpec(spec))).toEqual(spec)
    const full = parseJobSpec({ name: 'db', command: ['pg'], env: { A: '1' }, workingDir: '/srv', global: true, constraints: { labels: { disk: 'ssd' }, conflicts: ['web'] }, resources: { cpu: 2 }, restart: 'on-failure' })
    expect(parseJobSpecText(encodeJobSpec(full))).toEqual(full)
  })

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"name": ', /^job spec: not valid JSON/],
    ['an array', '[]', /^job spec: expected a JSON object, got an array$/],
    ['a typo', '{"name":"w","command":["x"],"replica":3}', /^job spec: unknown field "replica"/],
    ['a bad name', '{"name":"a/b","command":["x"]}', /^name: expected 1-63 letters/],
    ['no command', '{"name":"w"}', /^command: expected a non-empty array/],
    ['an empty program', '{"name":"w","command":[""]}', /^command\[0\]: expected a non-empty string/],
    ['negative replicas', '{"name":"w","command":["x"],"replicas":-1}', /^replicas: expected a whole number in \[0, 1000\]/],
    ['global with replicas', '{"name":"w","command":["x"],"global":true,"replicas":2}', /^replicas: a global job runs one replica per machine/],
    ['a bad policy', '{"name":"w","command":["x"],"restart":"sometimes"}', /^restart: expected one of always, on-failure, never/],
    ['a self-conflict', '{"name":"w","command":["x"],"constraints":{"conflicts":["w"]}}', /^constraints.conflicts: a job cannot conflict with itself/],
    ['an unknown resource', '{"name":"w","command":["x"],"resources":{"gpu":1}}', /^resources: unknown field "gpu"/],
    ['a bad env name', '{"name":"w","command":["x"],"env":{"A-B":"1"}}', /^env: expected variable names/],
    ['a bad label', '{"name":"w","command":["x"],"constraints":{"labels":{"disk":"s s d"}}}', /^constraints.labels.disk: expected 1-63/],
  ]
  for (const [what, text, message] of bad) {
    it(`refuses ${what} with one line`, () => {
      let error: Error | undefined
      try {
        parseJobSpecText(text)
      } catch (e) {
        error = e as Error
      }
      expect(error).toBeInstanceOf(Error)
      expect(error!.message).toMatch(message)
      expect(error!.message).not.toContain('\n')
    })
  }
})

describe('flags', () => {
  it('--labels and --capacity', () => {
    expect(parseLabelsFlag('disk=ssd, zone=a')).toEqual({ disk: 'ssd', zone: 'a' })
    expect(parseLabelsFlag('')).toEqual({})
    expect(() => parseLabelsFlag('disk')).toThrow(/^--labels: expected key=value pairs/)
    expect(() => parseLabelsFlag('a=1,a=2')).toThrow(/^--labels: a given twice/)
    expect(parseCapacityFlag('cpu=4,memory=8192')).toEqual({ cpu: 4, memory: 8192 })
    expect(() => parseCapacityFlag('gpu=1')).toThrow(/unknown field "gpu"/)
    expect(() => parseCapacityFlag('cpu=-1')).toThrow(/^--capacity: expected name=number pairs/)
  })

  it('cairn scheduler settings: flags over environment over defaults', () => {
    const cfg = buildSchedulerConfig({ machineGrace: '2s' }, { CAIRN_SCHEDULER_MACHINE_GRACE: '9s', CAIRN_SCHEDULER_TTL: '3' })
    expect(cfg.machineGraceMs).toBe(2000)
    expect(cfg.ttlSeconds).toBe(3)
    expect(buildSchedulerConfig({}, {}).machineGraceMs).toBe(30_000)
    expect(() => buildSchedulerConfig({ machineGrace: '30' }, {})).toThrow('--machine-grace: missing unit in duration "30" (e.g. 30s, 1h)')
    expect(() => buildSchedulerConfig({ ttl: '0' }, {})).toThrow(/^--ttl: expected whole seconds/)
    expect(() => buildSchedulerConfig({ logLevel: 'loud' }, {})).toThrow(/^--log-level: expected one of/)
  })

  it('cairn agent settings', () => {
    const cfg = buildAgentConfig({ machineId: 'm1', labels: 'zone=a' }, { CAIRN_AGENT_STOP_TIMEOUT: '3s' })
    expect(cfg).toMatchObject({ machineId: 'm1', labels: { zone: 'a' }, stopTimeoutMs: 3000, ttlSeconds: 10, restartDelayMinMs: 1000, restartDelayMaxMs: 30_000 })
    expect(() => buildAgentConfig({}, {})).toThrow('--machine-id: required (or CAIRN_AGENT_MACHINE_ID)')
    expect(() => buildAgentConfig({ machineId: 'a/b' }, {})).toThrow(/^--machine-id: expected 1-63 letters/)
    expect(() => buildAgentConfig({ machineId: 'm', restartDelay: '5s', restartDelayMax: '1s' }, {})).toThrow(/^--restart-delay-max/)
  })

  it('cairn work submit --name … -- COMMAND builds a spec', () => {
    const spec = specFromFlags({ name: 'web', replicas: '3', labels: 'zone=a', conflicts: 'db, cache', cpu: '1.5', env: ['A=1', 'B=x=y'], restart: 'never' }, ['sleep', '10'])
    expect(spec).toMatchObject({ name: 'web', command: ['sleep', '10'], replicas: 3, env: { A: '1', B: 'x=y' }, constraints: { labels: { zone: 'a' }, conflicts: ['cache', 'db'] }, resources: { cpu: 1.5, memory: 0 }, restart: 'never' })
    expect(() => specFromFlags({ name: 'web', replicas: 'three' }, ['x'])).toThrow(/^replicas: expected a whole number/)
    expect(() => specFromFlags({ name: 'web', env: ['NOVALUE'] }, ['x'])).toThrow('--env: expected NAME=value, got "NOVALUE"')
  })
})

describe('keys and values', () => {
  it('assignment and status keys parse back; other shapes do not', () => {
    const ref = { job: 'web', replica: '2' }
    expect(assignKey('m1', ref)).toBe('/cairn/work/assign/m1/web#2')
    expect(statusKey('m1', ref)).toBe('/cairn/work/status/m1/web#2')
    expect(parseReplicaKey(ASSIGN_PREFIX, assignKey('m1', ref))).toEqual({ machine: 'm1', ...ref })
    for (const k of ['/cairn/work/assign/m1/web', '/cairn/work/assign/m1/web#2/x', '/cairn/work/assign/web#2', '/other/m1/web#2']) expect(parseReplicaKey(ASSIGN_PREFIX, k), k).toBeUndefined()
  })

  it('an assignment carries its spec and revision', () => {
    const a = { spec: job('web').spec, revision: 42 }
    expect(parseAssignment(encodeAssignment(a))).toEqual(a)
  })
})

describe('restart policy', () => {
  it('always, on-failure, never', () => {
    const ok = { code: 0, signal: null }
    const bad = { code: 3, signal: null }
    const killed = { code: null, signal: 'SIGKILL' }
    expect([ok, bad, killed].map((e) => shouldRestart('always', e))).toEqual([true, true, true])
    expect([ok, bad, killed].map((e) => shouldRestart('on-failure', e))).toEqual([false, true, true])
    expect([ok, bad, killed].map((e) => shouldRestart('never', e))).toEqual([false, false, false])
  })

  it('backs off by doubling, capped', () => {
    expect([1, 2, 3, 4, 10, 100].map((n) => restartDelayMs(n, 1000, 30_000))).toEqual([1000, 2000, 4000, 8000, 30_000, 30_000])
  })
})

describe('AbsenceTracker', () => {
  it('counts a machine gone from the first read that missed it, forgets it when back or when nothing refers to it', () => {
    const t = new AbsenceTracker()
    const m1 = { ...machine('m1'), stopTimeoutMs: 5000 }
    t.update(new Map([['m1', m1]]), ['m1'], 1000)
    expect(t.update(new Map(), ['m1'], 2000).get('m1')).toEqual({ sinceMs: 2000, stopTimeoutMs: 5000 })
    expect(t.update(new Map(), ['m1'], 9000).get('m1')).toEqual({ sinceMs: 2000, stopTimeoutMs: 5000 })
    expect(t.nextExpiry(1000)).toBe(7000)
    expect(t.update(new Map([['m1', m1]]), ['m1'], 9500).size).toBe(0)
    t.update(new Map(), ['m1'], 10_000)
    expect(t.update(new Map(), [], 11_000).size).toBe(0)
    expect(t.nextExpiry(1000)).toBeUndefined()
  })
})

describe('cairn work ls rows', () => {
  it('shows running, pending, machine-gone, stopping and unplaced replicas', () => {
    const world: World = {
      revision: 1,
      jobs: new Map([['web', job('web', { replicas: 4 })]]),
      machines: new Map([['m1', machine('m1')]]),
      assignments: [
        { machine: 'm1', job: 'web', replica: '0', revision: 10 },
        { machine: 'm1', job: 'web', replica: '1', revision: 10 },
        { machine: 'm2', job: 'web', replica: '2', revision: 10 },
      ],
      statuses: [
        { machine: 'm1', job: 'web', replica: '0', status: { state: 'running', pid: 7, exitCode: null, signal: null, restarts: 1, since: 5000, revision: 10 } },
        { machine: 'm1', job: 'old', replica: '0', status: { state: 'running', pid: 8, exitCode: null, signal: null, restarts: 0, since: 5000, revision: 3 } },
      ],
      bad: [],
    }
    const rows = replicaRows(world).map((r) => `${r.job}#${r.replica} ${r.machine || '-'} ${r.state}`)
    expect(rows).toEqual(['old#0 m1 stopping', 'web#0 m1 running', 'web#1 m1 pending', 'web#2 m2 machine-gone', 'web#3 - unplaced'])
    expect(age(0, 1000)).toBe('-')
    expect(age(1000, 3_725_000)).toBe('1h2m')
    expect(table(['A', 'BB'], [['xyz', '1']])).toBe('A    BB\nxyz  1\n')
  })
})

describe('doubleRuns() (the process tests\' no-double-run check)', () => {
  it('passes runs one after another, on any machines', () => {
    const records = parseRecords(['start web#0 m1 1000 11', 'stop web#0 m1 2000 11', 'start web#0 m2 2500 12', 'start web#1 m1 1000 13'].join('\n'))
    expect(doubleRuns(records)).toEqual([])
  })

  it('catches a replica started elsewhere before the first run stopped, and one that never stopped', () => {
    const overlapping = parseRecords(['start web#0 m1 1000 11', 'start web#0 m2 1500 12', 'stop web#0 m1 2000 11'].join('\n'))
    expect(doubleRuns(overlapping)).toEqual(['web#0: m1 [1000, 2000) overlaps m2 [1500, Infinity)'])
    const neverStopped = parseRecords(['start web#0 m1 1000 11', 'start web#0 m2 5000 12', 'stop web#0 m2 6000 12', 'start web#0 m3 7000 13'].join('\n'))
    expect(doubleRuns(neverStopped)).toHaveLength(2)
  })
})
