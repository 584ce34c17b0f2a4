// ReplicaRunner with real child processes and a recording status sink (no store): restart policies,
// a new spec restarts the program, a program that ignores SIGTERM is killed after the stop timeout,
// a program that cannot start is reported failed, the output goes to the log file, and the status
// exists for as long as the program may run (written before it starts, deleted after it exited).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { Child, logFileOf } from '../../agents/agent/child.ts'
import { stopLeftovers } from '../../agents/agent/leftovers.ts'
import { ReplicaRunner } from '../../agents/agent/replica.ts'
import type { Assignment } from '../../recipes/work/assignment.ts'
import { parseStatus } from '../../recipes/work/status.ts'
import type { ReplicaStatus } from '../../recipes/work/status.ts'
import { parseJobSpec } from '../../recipes/work/spec.ts'
import { until } from './fleet.ts'

const logDir = mkdtempSync(join(tmpdir(), 'cairn-runner-'))
afterAll(() => rmSync(logDir, { recursive: true, force: true }))

const quiet = { debug() {}, info() {}, warn() {}, error() {} }

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A runner whose reports are kept; each deletion also checks that the last program is gone. */
function runner(replica: string, spec: Record<string, unknown>, revision = 1, stopTimeoutMs = 2000) {
  const reports: Array<ReplicaStatus | null> = []
  const pids: number[] = []
  let deletedWhileAlive = false
  const a: Assignment = { spec: parseJobSpec({ name: 'job', ...spec }), revision }
  const r = new ReplicaRunner({ job: 'job', replica }, a, {
    machine: 'm1',
    logDir,
    stopTimeoutMs,
    restartDelayMinMs: 50,
    restartDelayMaxMs: 200,
    log: quiet,
    report: async (v) => {
      const s = v === null ? null : parseStatus(v)
      if (s?.pid) pids.push(s.pid)
      if (s === null && pids.some(alive)) deletedWhileAlive = true
      reports.push(s)
      return true
    },
  })
  return { r, reports, states: () => reports.map((s) => s?.state ?? 'deleted'), deletedWhileAlive: () => deletedWhileAlive, pids }
}

describe('ReplicaRunner', () => {
  it('restart on-failure: restarts a failing program, counting restarts; remove() stops it and deletes the status', async () => {
    const t = runner('0', { command: ['sh', '-c', 'echo out; echo err >&2; exit 3'], restart: 'on-failure' })
    await until('two restarts', () => t.reports.some((s) => s !== null && s.restarts >= 2), 10_000, () => t.states().join(','))
    t.r.remove()
    await t.r.done
    expect(t.states().slice(0, 4)).toEqual(['starting', 'running', 'failed', 'starting'])
    expect(t.reports.find((s) => s?.state === 'failed')?.exitCode).toBe(3)
    expect(t.states().at(-1)).toBe('deleted')
    expect(t.deletedWhileAlive()).toBe(false)
    const log = readFileSync(logFileOf(logDir, { job: 'job', replica: '0' }), 'utf8')
    expect(log).toContain('out\nerr\n')
    expect(log).toMatch(/cairn agent: starting job#0 on m1/)
  })

  it('restart never: a program that exits 0 stays exited until its assignment changes', async () => {
    const t = runner('1', { command: ['sh', '-c', 'exit 0'], restart: 'never' })
    await until('exited', () => t.states().includes('exited'), 5000, () => t.states().join(','))
    await new Promise((r) => setTimeout(r, 300))
    expect(t.states()).toEqual(['starting', 'running', 'exited'])
    t.r.update({ spec: parseJobSpec({ name: 'job', command: ['sh', '-c', 'exit 0'], restart: 'never' }), revision: 2 })
    await until('ran again', () => t.states().length === 6, 5000, () => t.states().join(','))
    expect(t.reports.at(-1)?.revision).toBe(2)
    t.r.remove()
    await t.r.done
  })

  it('a new spec stops the running program and starts the new one; the same revision again changes nothing', async () => {
    const spec = { command: ['sleep', '30'] }
    const t = runner('2', spec, 1)
    await until('running', () => t.states().includes('running'), 5000, () => t.states().join(','))
    const first = t.pids[0]!
    expect(t.r.update({ spec: parseJobSpec({ name: 'job', ...spec }), revision: 1 })).toBe(true)
    await new Promise((r) => setTimeout(r, 200))
    expect(alive(first)).toBe(true)
    t.r.update({ spec: parseJobSpec({ name: 'job', command: ['sleep', '31'] }), revision: 2 })
    await until('the new program', () => t.pids.length === 2, 5000, () => t.states().join(','))
    expect(alive(first)).toBe(false)
    expect(t.reports.at(-1)).toMatchObject({ state: 'running', revision: 2, restarts: 0 })
    t.r.remove()
    await t.r.done
    expect(t.deletedWhileAlive()).toBe(false)
  })

  it('a program that ignores SIGTERM is killed after the stop timeout', async () => {
    const t = runner('3', { command: ['sh', '-c', 'trap "" TERM; while :; do sleep 0.05; done'] }, 1, 300)
    await until('running', () => t.states().includes('running'), 5000, () => t.states().join(','))
    await new Promise((r) => setTimeout(r, 100))
    const at = Date.now()
    t.r.remove()
    await t.r.done
    expect(Date.now() - at).toBeGreaterThanOrEqual(250)
    expect(alive(t.pids[0]!)).toBe(false)
    expect(t.deletedWhileAlive()).toBe(false)
  })

  it('a program that cannot start is reported failed with the reason', async () => {
    const t = runner('4', { command: ['/nonexistent/program'], restart: 'never' })
    await until('failed', () => t.states().includes('failed'), 5000, () => t.states().join(','))
    const failed = t.reports.find((s) => s?.state === 'failed')!
    expect(failed.exitCode).toBe(127)
    expect(failed.message).toMatch(/^cannot start "\/nonexistent\/program": .*ENOENT/)
    t.r.remove()
    await t.r.done
  })

  it('programs left by a crashed agent are stopped by the next one; a recycled pid is not touched', async () => {
    const dir = join(logDir, 'leftovers')
    const orphan = await Child.start({ spec: parseJobSpec({ name: 'job', command: ['sleep', '30'] }), ref: { job: 'job', replica: '9' }, machine: 'm1', logDir: dir, stopTimeoutMs: 1000 })
    // A pid file naming some other live process (its start time differs): must be left alone.
    const stranger = spawn('sleep', ['30'], { stdio: 'ignore' })
    writeFileSync(join(dir, 'other#0.pid'), `${stranger.pid} 1\n`)
    try {
      expect(await stopLeftovers(dir, 1000)).toEqual(['job#9.pid'])
      await orphan.exited
      expect(alive(orphan.pid)).toBe(false)
      expect(alive(stranger.pid!)).toBe(true)
      expect(await stopLeftovers(dir, 1000)).toEqual([])
    } finally {
      stranger.kill('SIGKILL')
    }
  })
})
