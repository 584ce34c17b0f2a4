// Real `cairn agent` and `cairn scheduler` processes for the work tests, and the checks made from
// the jobs' own records (test/work/fake-job.sh appends `start|stop <job#replica> <machine> <ms> <pid>`).

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const ROOT = new URL('../..', import.meta.url).pathname
const BIN = join(ROOT, 'bin/cairn.js')
export const FAKE_JOB = join(ROOT, 'test/work/fake-job.sh')
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

export interface Daemon {
  name: string
  args: string[]
  proc: ChildProcess | undefined
  stderr: string
}

export class WorkFleet {
  readonly daemons = new Map<string, Daemon>()
  readonly record: string

  constructor(
    readonly root: string,
    readonly endpoints: string,
  ) {
    this.record = join(root, 'record.log')
    writeFileSync(this.record, '')
  }

  start(name: string, args: string[]): Daemon {
    const d: Daemon = { name, args, proc: undefined, stderr: '' }
    const proc = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, CAIRN_ENDPOINTS: this.endpoints, RECORD: this.record },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    d.proc = proc
    live.add(proc)
    proc.stderr!.on('data', (b: Buffer) => (d.stderr = (d.stderr + b.toString()).slice(-100_000)))
    proc.on('exit', () => live.delete(proc))
    this.daemons.set(name, d)
    return d
  }

  agent(id: string, labels: string, extra: string[] = []): Daemon {
    return this.start(id, ['agent', '--machine-id', id, '--labels', labels, '--ttl', '3', '--log-dir', join(this.root, 'logs', id), '--stop-timeout', '2s', '--restart-delay', '200ms', ...extra])
  }

  scheduler(id: string, graceMs: number): Daemon {
    return this.start(id, ['scheduler', '--id', id, '--machine-grace', `${graceMs}ms`, '--ttl', '2', '--interval', '1s', '--debounce', '50ms', '--log-level', 'debug'])
  }

  kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.daemons.get(name)?.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      p.once('exit', () => resolve())
      p.kill(signal)
    })
  }

  /** SIGTERM to everything (their programs stop cleanly), SIGKILL after 15 s. */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.daemons.keys()].map(async (name) => {
        const t = setTimeout(() => void this.kill(name, 'SIGKILL'), 15_000)
        await this.kill(name, 'SIGTERM')
        clearTimeout(t)
      }),
    )
  }

  records(): RunRecord[] {
    return existsSync(this.record) ? parseRecords(readFileSync(this.record, 'utf8')) : []
  }

  dump(): string {
    return [...this.daemons.values()].map((d) => `--- ${d.name}\n${d.stderr.slice(-4000)}`).join('\n')
  }
}

export interface RunRecord {
  what: 'start' | 'stop'
  replica: string
  machine: string
  atMs: number
  pid: number
}

export function parseRecords(text: string): RunRecord[] {
  const out: RunRecord[] = []
  for (const line of text.split('\n')) {
    const [what, replica, machine, at, pid] = line.split(' ')
    if ((what !== 'start' && what !== 'stop') || replica === undefined || machine === undefined || pid === undefined) continue
    out.push({ what, replica, machine, atMs: Number(at), pid: Number(pid) })
  }
  return out
}

export interface Run {
  replica: string
  machine: string
  pid: number
  from: number
  /** Infinity while running. */
  to: number
}

/** Each process's run, from its start and stop records (matched by pid). */
export function runsOf(records: readonly RunRecord[]): Run[] {
  const open = new Map<number, Run>()
  const runs: Run[] = []
  for (const r of records) {
    if (r.what === 'start') {
      const run = { replica: r.replica, machine: r.machine, pid: r.pid, from: r.atMs, to: Infinity }
      open.set(r.pid, run)
      runs.push(run)
    } else {
      const run = open.get(r.pid)
      if (run) run.to = r.atMs
      open.delete(r.pid)
    }
  }
  return runs
}

/** Replicas that ran in two places at once: `web#1: m1 [a, b) overlaps m2 [c, d)`. Empty when none. */
export function doubleRuns(records: readonly RunRecord[]): string[] {
  const byReplica = new Map<string, Run[]>()
  for (const run of runsOf(records)) byReplica.set(run.replica, [...(byReplica.get(run.replica) ?? []), run])
  const problems: string[] = []
  for (const [replica, runs] of byReplica) {
    const sorted = [...runs].sort((a, b) => a.from - b.from)
    // The run reaching furthest so far: any later start before its end overlaps it.
    let reach: Run | undefined
    for (const cur of sorted) {
      if (reach !== undefined && cur.from < reach.to) problems.push(`${replica}: ${reach.machine} [${reach.from}, ${reach.to}) overlaps ${cur.machine} [${cur.from}, ${cur.to})`)
      if (reach === undefined || cur.to > reach.to) reach = cur
    }
  }
  return problems
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, dump: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}\n${dump()}`)
}
