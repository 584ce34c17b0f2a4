// A cluster of real `cairn serve` processes on loopback for fault testing. Unlike test/cluster's
// TestCluster, every directed peer link A→B goes through its own LinkProxy (CAIRN_TEST_PEER_URLS gives
// each member its own map), members can be paused (SIGSTOP) and replaced by a fresh member in the same
// slot (same ports, new data dir), and each member's stderr is kept in a log file under the run's dir.
//
// Every process is killed when the cluster stops, when the test process exits, or on SIGINT/SIGTERM.

import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, post, sleep } from '../cluster/harness.ts'
import { LinkProxy } from './proxy.ts'
import type { LinkMode } from './proxy.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const BIN = join(ROOT, 'bin/cairn.js')
/** node_modules may be shared by several checkouts (a symlink), so bundles are named by their content. */
const BUNDLE_DIR = join(ROOT, 'node_modules/.cache/cairn-chaos')
/** Failpoints of the members (core/server/failpoints.ts); the others belong to client recipes. */
export const MEMBER_FAILPOINTS = ['stale-reads', 'ack-before-fsync'] as const
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

export type MemberState = 'running' | 'paused' | 'dead' | 'removed'

export interface ChaosMember {
  index: number
  name: string
  clientUrl: string
  peerUrl: string
  peerPort: number
  /** Bumped each time the slot gets a fresh data dir (a removed member re-added). */
  generation: number
  /**
   * For a re-added member: the --initial-cluster it joins with, kept for restarts of the same data dir
   * (a join that failed leaves it empty, and starting it as a new cluster would found a rival one).
   */
  join: string | undefined
  dataDir: string
  logFile: string
  proc: ChildProcess | undefined
  state: MemberState
  /** The tail of this member's stderr (JSON log lines), for failure reports. */
  tail: string
  /** Member ID (decimal string) as the cluster knows it; learned from /v3/maintenance/status. */
  id: string | undefined
}

export interface ChaosClusterOptions {
  size: number
  root: string
  heartbeatMs: number
  electionMs: number
  snapshotCount: number
  failpoints: string[]
  /** Run bin/cairn.js (tsx) instead of the esbuild bundle of the same sources. */
  useTsx: boolean
  log: (line: string) => void
}

let bundle: string | undefined

/**
 * The members run the CLI compiled once by esbuild (the compiler tsx uses) into one ES module that
 * imports its packages from node_modules: the same code as `bin/cairn.js`, but a restart costs ~0.4 s
 * instead of ~1.5 s of on-the-fly compiling, which matters when three members restart at once on two
 * cores. `useTsx` runs bin/cairn.js instead.
 *
 * Each run builds into a file of its own, then renames it to `cairn-<hash of its content>.mjs`: two
 * checkouts sharing node_modules (or two runs of one checkout at once) never run each other's code,
 * and never start a member from a half-written file.
 */
function entryPoint(useTsx: boolean): string {
  if (useTsx) return BIN
  if (bundle === undefined) {
    mkdirSync(BUNDLE_DIR, { recursive: true })
    const building = join(BUNDLE_DIR, `building-${process.pid}-${Date.now()}.mjs`)
    execFileSync(
      join(ROOT, 'node_modules/.bin/esbuild'),
      ['core/cli/main.ts', '--bundle', '--platform=node', '--format=esm', '--packages=external', `--outfile=${building}`, '--log-level=warning'],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    )
    const hash = createHash('sha256').update(readFileSync(building)).digest('hex').slice(0, 16)
    const target = join(BUNDLE_DIR, `cairn-${hash}.mjs`)
    if (existsSync(target)) rmSync(building, { force: true })
    else renameSync(building, target)
    bundle = target
  }
  return bundle
}

export class ChaosCluster {
  readonly members: ChaosMember[] = []
  /** proxies[from][to] carries from's connections to to's peer port. */
  readonly proxies: Array<Array<LinkProxy | undefined>> = []
  private initialCluster = ''
  private stopped = false

  private constructor(readonly opts: ChaosClusterOptions) {}

  static async create(opts: ChaosClusterOptions): Promise<ChaosCluster> {
    const c = new ChaosCluster(opts)
    mkdirSync(opts.root, { recursive: true })
    for (let i = 0; i < opts.size; i++) {
      const [clientPort, peerPort] = [await freePort(), await freePort()]
      c.members.push({
        index: i,
        name: `n${i + 1}`,
        clientUrl: `http://127.0.0.1:${clientPort}`,
        peerUrl: `http://127.0.0.1:${peerPort}`,
        peerPort,
        generation: 0,
        join: undefined,
        dataDir: join(opts.root, `n${i + 1}.0`),
        logFile: join(opts.root, `n${i + 1}.log`),
        proc: undefined,
        state: 'dead',
        tail: '',
        id: undefined,
      })
    }
    for (let from = 0; from < opts.size; from++) {
      const row: Array<LinkProxy | undefined> = []
      for (let to = 0; to < opts.size; to++) {
        if (from === to) {
          row.push(undefined)
          continue
        }
        const proxy = new LinkProxy(from, to, c.members[to]!.peerPort)
        await proxy.listen(0)
        row.push(proxy)
      }
      c.proxies.push(row)
    }
    c.initialCluster = c.members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
    return c
  }

  get size(): number {
    return this.members.length
  }

  /** Each member dials every peer through the proxy of that directed link. */
  private peerRewrites(i: number): string {
    const map: Record<string, string> = {}
    for (const m of this.members) {
      const proxy = this.proxies[i]?.[m.index]
      if (proxy) map[m.peerUrl] = `http://127.0.0.1:${proxy.port}`
    }
    return JSON.stringify(map)
  }

  /** Starts member i; `join` lists the running members to join (--initial-cluster-state existing). */
  start(i: number, join?: string): void {
    if (this.stopped) return
    const m = this.members[i]!
    if (m.proc && m.proc.exitCode === null && m.proc.signalCode === null) throw new Error(`${m.name} is already running`)
    if (join !== undefined) m.join = join
    join = m.join
    const args = [
      entryPoint(this.opts.useTsx),
      'serve',
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-cluster', join ?? this.initialCluster,
      ...(join ? ['--initial-cluster-state', 'existing'] : []),
      '--heartbeat-interval', String(this.opts.heartbeatMs),
      '--election-timeout', String(this.opts.electionMs),
      '--snapshot-count', String(this.opts.snapshotCount),
      '--log-level', 'info',
    ]
    const env: NodeJS.ProcessEnv = { ...process.env, CAIRN_TEST_PEER_URLS: this.peerRewrites(i) }
    // Only the members' own failpoints (a client recipe's, such as skip-lease-recheck, stays in this process).
    const failpoints = this.opts.failpoints.filter((f) => (MEMBER_FAILPOINTS as readonly string[]).includes(f))
    if (failpoints.length > 0) env.CAIRN_FAILPOINTS = failpoints.join(',')
    else delete env.CAIRN_FAILPOINTS
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env })
    appendFileSync(m.logFile, `--- start ${m.name} generation ${m.generation} pid ${proc.pid} at ${new Date().toISOString()}\n`)
    // A member that learns it was removed says so and exits: from then on it can only come back as a
    // new member (a removal the nemesis could not confirm still took effect, e.g. after a timeout).
    let removedSeen = false
    proc.stderr!.on('data', (d: Buffer) => {
      const text = d.toString()
      if (text.includes('was removed from the cluster')) removedSeen = true
      m.tail = (m.tail + text).slice(-20_000)
      appendFileSync(m.logFile, d)
    })
    live.add(proc)
    proc.on('exit', (code, signal) => {
      live.delete(proc)
      if (m.proc !== proc) return
      appendFileSync(m.logFile, `--- exit ${m.name} code ${code} signal ${signal}\n`)
      if (m.state !== 'removed') m.state = removedSeen ? 'removed' : 'dead'
    })
    m.proc = proc
    m.state = 'running'
    // Connections of the previous incarnation are gone; so must be those held in the proxies.
    for (const row of this.proxies) row[i]?.resetConnections()
    for (const p of this.proxies[i] ?? []) p?.resetConnections()
  }

  isAlive(i: number): boolean {
    const p = this.members[i]?.proc
    return p !== undefined && p.exitCode === null && p.signalCode === null
  }

  /** kill -9 (or another signal) and wait for the exit. */
  kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = this.members[i]!
    const p = m.proc
    if (!p || !this.isAlive(i)) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, 10_000)
      p.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      p.kill(signal)
    })
  }

  pause(i: number): boolean {
    const m = this.members[i]!
    if (!this.isAlive(i) || m.state !== 'running') return false
    m.proc!.kill('SIGSTOP')
    m.state = 'paused'
    return true
  }

  resume(i: number): void {
    const m = this.members[i]!
    if (m.state !== 'paused') return
    if (this.isAlive(i)) m.proc!.kill('SIGCONT')
    m.state = this.isAlive(i) ? 'running' : 'dead'
  }

  setLink(from: number, to: number, mode: LinkMode): void {
    this.proxies[from]?.[to]?.setMode(mode)
  }

  healNetwork(): void {
    for (const row of this.proxies) for (const p of row) p?.setMode({ kind: 'pass' })
  }

  /** A fresh data dir for slot i (the member was removed; it comes back as a new member). */
  freshDataDir(i: number): void {
    const m = this.members[i]!
    m.generation++
    m.dataDir = join(this.opts.root, `${m.name}.${m.generation}`)
    m.id = undefined
    m.join = undefined
  }

  /** --initial-cluster for a member joining slot i: the members in the cluster now, plus itself. */
  joinFlag(i: number, memberNames: Map<string, string>): string {
    const entries = [...memberNames].map(([name, url]) => `${name}=${url}`)
    const self = this.members[i]!
    if (!memberNames.has(self.name)) entries.push(`${self.name}=${self.peerUrl}`)
    return entries.join(',')
  }

  async status(i: number, timeoutMs = 1000): Promise<{ leader: string; memberId: string; raftTerm: string; applied: number } | undefined> {
    if (!this.isAlive(i) || this.members[i]!.state !== 'running') return undefined
    try {
      const r = await post(this.members[i]!.clientUrl, '/v3/maintenance/status', {}, timeoutMs)
      if (r.status !== 200) return undefined
      const b = r.body as { leader: string; raftTerm: string; raftAppliedIndex: string; header: { member_id: string } }
      this.members[i]!.id = b.header.member_id
      return { leader: b.leader, memberId: b.header.member_id, raftTerm: b.raftTerm, applied: Number(b.raftAppliedIndex) }
    } catch {
      return undefined
    }
  }

  /** Index of a member that says it leads (undefined if none answers so within the time). */
  async leader(timeoutMs = 1500): Promise<number | undefined> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && !this.stopped) {
      const statuses = await Promise.all(this.members.map((_, i) => this.status(i, 500)))
      let best: { i: number; term: number } | undefined
      statuses.forEach((s, i) => {
        if (s && s.leader === s.memberId && s.leader !== '0' && (!best || Number(s.raftTerm) > best.term)) best = { i, term: Number(s.raftTerm) }
      })
      if (best) return best.i
      await sleep(100)
    }
    return undefined
  }

  /** Waits until every running member answers /health (a leader known and a ReadIndex served). */
  async waitHealthy(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline && !this.stopped) {
      const checks = await Promise.all(
        this.members.map(async (m, i) => {
          if (m.state === 'removed' || !this.isAlive(i)) return true
          try {
            const r = await fetch(`${m.clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
            await r.text()
            return r.status === 200
          } catch {
            return false
          }
        }),
      )
      if (checks.every(Boolean)) return true
      await sleep(200)
    }
    return false
  }

  async stop(keepData: boolean): Promise<void> {
    this.stopped = true
    for (let i = 0; i < this.members.length; i++) if (this.members[i]!.state === 'paused') this.resume(i)
    await Promise.all(this.members.map((_, i) => this.kill(i)))
    await Promise.all(this.proxies.flat().map((p) => p?.close()))
    if (!keepData) rmSync(this.opts.root, { recursive: true, force: true })
  }
}
