// A fleet of `cairn rebootd` processes for tests: each "machine" has its own state dir, boot ID file
// and reboot-needed file, and reboots with test/reboot/fake-reboot.sh, which records start and end
// times and then kills the agent; the fleet starts a killed agent again (the "boot") unless told not
// to. A semaphore observer records when each holder appears and disappears.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Client } from '../../core/client/index.ts'
import { toText } from '../../core/client/index.ts'
import { semaphoreKey } from '../../recipes/semaphore/index.ts'
import { STATE_FILE } from '../../agents/rebootd/state.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const BIN = join(ROOT, 'bin/cairn.js')
export const FAKE_REBOOT = join(ROOT, 'test/reboot/fake-reboot.sh')
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

export interface Machine {
  id: string
  dir: string
  args: string[]
  env: Record<string, string>
  proc: ChildProcess | undefined
  /** Start the agent again when the fake reboot kills it. */
  restart: boolean
  boots: number
  stderr: string
  exitCodes: Array<number | null>
}

export interface MachineOptions {
  /** More rebootd flags. */
  args?: string[]
  /** More environment (CAIRN_REBOOTD_* settings, FAKE_MODE, FAKE_SECONDS). */
  env?: Record<string, string>
  rebootNeeded?: boolean
  restart?: boolean
}

export class Fleet {
  readonly machines: Machine[] = []
  readonly log: string

  constructor(
    readonly root: string,
    readonly endpoints: string,
    readonly group: string,
  ) {
    mkdirSync(root, { recursive: true })
    this.log = join(root, 'reboots.log')
    writeFileSync(this.log, '')
  }

  add(id: string, opts: MachineOptions = {}): Machine {
    const dir = join(this.root, id)
    mkdirSync(dir, { recursive: true })
    const needed = join(dir, 'reboot-required')
    const bootId = join(dir, 'boot_id')
    writeFileSync(bootId, `boot-initial-${id}\n`)
    if (opts.rebootNeeded !== false) writeFileSync(needed, '')
    const m: Machine = {
      id,
      dir,
      args: [
        'rebootd',
        '--id', id,
        '--group', this.group,
        '--reboot-command', FAKE_REBOOT,
        '--reboot-needed-file', needed,
        '--state-dir', join(dir, 'state'),
        '--boot-id-file', bootId,
        ...(opts.args ?? []),
      ],
      env: {
        CAIRN_ENDPOINTS: this.endpoints,
        CAIRN_REBOOTD_CHECK_INTERVAL: '200ms',
        CAIRN_REBOOTD_LOCK_BACKOFF_MIN: '100ms',
        CAIRN_REBOOTD_LOCK_BACKOFF_MAX: '500ms',
        FAKE_LOG: this.log,
        FAKE_NEEDED: needed,
        FAKE_BOOT_ID: bootId,
        ...(opts.env ?? {}),
      },
      proc: undefined,
      restart: opts.restart ?? true,
      boots: 0,
      stderr: '',
      exitCodes: [],
    }
    this.machines.push(m)
    return m
  }

  start(m: Machine): void {
    const proc = spawn(process.execPath, [BIN, ...m.args], { cwd: ROOT, env: { ...process.env, ...m.env }, stdio: ['ignore', 'ignore', 'pipe'] })
    m.proc = proc
    m.boots++
    live.add(proc)
    proc.stderr!.on('data', (d: Buffer) => {
      m.stderr = (m.stderr + d.toString()).slice(-100_000)
    })
    proc.on('exit', (code, signal) => {
      live.delete(proc)
      m.exitCodes.push(code)
      if (m.proc !== proc) return
      m.proc = undefined
      // Killed by the fake reboot: the machine comes back after a short "boot".
      if (signal === 'SIGKILL' && m.restart) setTimeout(() => this.start(m), 200)
    })
  }

  startAll(): void {
    for (const m of this.machines) this.start(m)
  }

  /** SIGTERM to every running agent; resolves with their exit codes. */
  async stopAll(): Promise<Array<number | null>> {
    for (const m of this.machines) m.restart = false
    const running = this.machines.filter((m) => m.proc !== undefined)
    return Promise.all(
      running.map(
        (m) =>
          new Promise<number | null>((resolve) => {
            const p = m.proc!
            const t = setTimeout(() => p.kill('SIGKILL'), 20_000)
            p.once('exit', (code) => {
              clearTimeout(t)
              resolve(code)
            })
            p.kill('SIGTERM')
          }),
      ),
    )
  }

  killAll(): void {
    for (const m of this.machines) {
      m.restart = false
      m.proc?.kill('SIGKILL')
    }
  }

  /** The fake reboots so far: per id, start and end times (ms). */
  reboots(): Map<string, { starts: number[]; ends: number[] }> {
    const out = new Map<string, { starts: number[]; ends: number[] }>()
    for (const line of readFileSync(this.log, 'utf8').split('\n')) {
      const [what, id, at] = line.split(' ')
      if (id === undefined || at === undefined) continue
      const r = out.get(id) ?? { starts: [], ends: [] }
      if (what === 'start') r.starts.push(Number(at))
      if (what === 'end') r.ends.push(Number(at))
      out.set(id, r)
    }
    return out
  }

  hasState(m: Machine): boolean {
    return existsSync(join(m.dir, 'state', STATE_FILE))
  }

  dump(): string {
    return this.machines.map((m) => `--- ${m.id} (boots ${m.boots}, exits ${m.exitCodes.join(',')})\n${m.stderr.slice(-3000)}`).join('\n')
  }
}

/** Records each holder's slot as [taken, released) from the semaphore's changes. */
export class HolderObserver {
  readonly spans = new Map<string, Array<{ from: number; to: number | undefined }>>()
  private readonly stopper = new AbortController()
  readonly done: Promise<void>
  maxHolders = 0

  private constructor(client: Client, key: string, fromRevision: number) {
    this.done = this.follow(client, key, fromRevision)
  }

  /** Starts following the group's semaphore from now on. */
  static async start(client: Client, group: string): Promise<HolderObserver> {
    const r = await client.get(semaphoreKey(group))
    return new HolderObserver(client, semaphoreKey(group), r.header.revision + 1)
  }

  private async follow(client: Client, key: string, fromRevision: number): Promise<void> {
    let current = new Set<string>()
    for await (const resp of client.watch(key, { startRevision: fromRevision, signal: this.stopper.signal })) {
      for (const e of resp.events) {
        const now = Date.now()
        const holders = new Set<string>(e.type === 'PUT' ? ((JSON.parse(toText(e.kv.value)) as { holders: string[] | null }).holders ?? []) : [])
        this.maxHolders = Math.max(this.maxHolders, holders.size)
        for (const h of holders) if (!current.has(h)) this.spans.set(h, [...(this.spans.get(h) ?? []), { from: now, to: undefined }])
        for (const h of current) {
          if (holders.has(h)) continue
          const last = this.spans.get(h)?.at(-1)
          if (last) last.to = now
        }
        current = holders
      }
    }
  }

  async stop(): Promise<void> {
    this.stopper.abort()
    await this.done
  }
}

/** Most intervals open at one time. */
export function maxOverlap(intervals: Array<[number, number]>): number {
  const points: Array<[number, number]> = []
  for (const [a, b] of intervals) points.push([a, 1], [b, -1])
  // Ends before starts at the same instant: [a, b) intervals.
  points.sort((x, y) => x[0] - y[0] || x[1] - y[1])
  let open = 0
  let max = 0
  for (const [, d] of points) {
    open += d
    max = Math.max(max, open)
  }
  return max
}

export async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs: number, dump: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}\n${dump()}`)
}
