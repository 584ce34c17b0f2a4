// Real multi-process clusters for tests: `cairn serve` child processes on loopback ports, each with
// its own temporary data dir. Every process is killed when the cluster is stopped (or the test
// process exits), so tests stop by themselves.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = new URL('../..', import.meta.url).pathname
const BIN = join(ROOT, 'bin/cairn.js')
const live = new Set<ChildProcess>()
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL')
})

// Ports for test members come from below Linux's ephemeral range (32768+): a port the kernel handed
// out for listen(0) was free when asked, but any outbound connection (a keep-alive agent, a peer
// link) could take it before the member bound it ("address already in use" in CI). Each test process
// walks the range from its own random start, checking each port by binding it.
const PORT_LOW = 15_000
const PORT_HIGH = 32_000
let nextPort = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW))

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.unref()
    s.once('error', () => resolve(false))
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
  })
}

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const port = nextPort
    nextPort = nextPort + 1 >= PORT_HIGH ? PORT_LOW : nextPort + 1
    if (await bindable(port)) return port
  }
  throw new Error(`no free port in ${PORT_LOW}-${PORT_HIGH - 1}`)
}

export interface MemberProcess {
  name: string
  clientUrl: string
  peerUrl: string
  dataDir: string
  proc: ChildProcess | undefined
  stderr: string
  /** Environment for this member's process (e.g. CAIRN_* settings). */
  env?: Record<string, string>
  /** More flags for this member only. */
  extraArgs?: string[]
  /** Set for members that join a running cluster (--initial-cluster-state existing). */
  join?: { initialCluster: string }
}

export interface ClusterOptions {
  size: number
  heartbeatMs?: number
  electionMs?: number
  snapshotCount?: number
  extraArgs?: string[]
  /** URL schemes of the members' client and peer listeners (https needs TLS flags in extraArgs). */
  clientScheme?: 'http' | 'https'
  peerScheme?: 'http' | 'https'
  /** How the harness itself reaches members (an https cluster needs the test CA). Default: fetch. */
  fetch?: (url: string, init?: { method?: string; body?: string; signal?: AbortSignal }) => Promise<Response>
}

export class TestCluster {
  readonly members: MemberProcess[] = []
  readonly root = mkdtempSync(join(tmpdir(), 'cairn-cluster-'))
  private initialCluster = ''

  constructor(readonly opts: ClusterOptions) {}

  static async start(opts: ClusterOptions): Promise<TestCluster> {
    const c = await TestCluster.allocate(opts)
    for (let i = 0; i < opts.size; i++) c.startMember(i)
    await c.waitForLeader()
    // A quorum can elect before the last member listens; tests expect every member up.
    await Promise.all(c.members.map((_, i) => c.waitHealthy(i)))
    return c
  }

  /** Picks ports and data dirs without starting anything (e.g. to restore a backup into them first). */
  static async allocate(opts: ClusterOptions): Promise<TestCluster> {
    const c = new TestCluster(opts)
    for (let i = 1; i <= opts.size; i++) {
      const [cp, pp] = [await freePort(), await freePort()]
      c.members.push({
        name: `m${i}`,
        clientUrl: `${opts.clientScheme ?? 'http'}://127.0.0.1:${cp}`,
        peerUrl: `${opts.peerScheme ?? 'http'}://127.0.0.1:${pp}`,
        dataDir: join(c.root, `m${i}`),
        proc: undefined,
        stderr: '',
      })
    }
    c.initialCluster = c.members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
    return c
  }

  get initialClusterFlag(): string {
    return this.initialCluster
  }

  startMember(i: number): void {
    const m = this.members[i]!
    const args = [
      BIN,
      'serve',
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      ...(m.env?.CAIRN_INITIAL_CLUSTER ? [] : ['--initial-cluster', m.join?.initialCluster ?? this.initialCluster]),
      ...(m.join && !m.env?.CAIRN_INITIAL_CLUSTER_STATE ? ['--initial-cluster-state', 'existing'] : []),
      '--heartbeat-interval', String(this.opts.heartbeatMs ?? 50),
      '--election-timeout', String(this.opts.electionMs ?? 500),
      '--snapshot-count', String(this.opts.snapshotCount ?? 10000),
      '--log-level', 'info',
      ...(this.opts.extraArgs ?? []),
      ...(m.extraArgs ?? []),
    ]
    const proc = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...m.env } })
    m.stderr = ''
    proc.stderr!.on('data', (d: Buffer) => {
      m.stderr = (m.stderr + d.toString()).slice(-200_000)
    })
    live.add(proc)
    proc.on('exit', () => live.delete(proc))
    m.proc = proc
  }

  /** Allocates a new member that will join the running cluster; returns its index (not started yet). */
  async newJoiner(): Promise<number> {
    const [cp, pp] = [await freePort(), await freePort()]
    const i = this.members.length
    const m: MemberProcess = {
      name: `m${i + 1}`,
      clientUrl: `${this.opts.clientScheme ?? 'http'}://127.0.0.1:${cp}`,
      peerUrl: `${this.opts.peerScheme ?? 'http'}://127.0.0.1:${pp}`,
      dataDir: join(this.root, `m${i + 1}`),
      proc: undefined,
      stderr: '',
    }
    const others = this.members.filter((x) => x.proc && x.proc.exitCode === null && x.proc.signalCode === null)
    m.join = { initialCluster: [...others, m].map((x) => `${x.name}=${x.peerUrl}`).join(',') }
    this.members.push(m)
    return i
  }

  /** Resolves with the exit code once member i's process exits (or after timeoutMs with undefined). */
  waitExit(i: number, timeoutMs = 10_000): Promise<number | null | undefined> {
    const p = this.members[i]!.proc
    if (!p) return Promise.resolve(undefined)
    if (p.exitCode !== null) return Promise.resolve(p.exitCode)
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), timeoutMs)
      p.once('exit', (code) => {
        clearTimeout(t)
        resolve(code)
      })
    })
  }

  kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.members[i]!.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve()
    return new Promise((resolve) => {
      p.once('exit', () => resolve())
      p.kill(signal)
    })
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((_, i) => this.kill(i)))
    rmSync(this.root, { recursive: true, force: true })
  }

  async status(i: number): Promise<{ leader: string; raftTerm: string; memberId: string } | undefined> {
    const p = this.members[i]?.proc
    if (!p || p.exitCode !== null || p.signalCode !== null) return undefined
    try {
      const r = await post(this.members[i]!.clientUrl, '/v3/maintenance/status', {}, 1000, this.opts.fetch)
      if (r.status !== 200) return undefined
      const b = r.body as { leader: string; raftTerm: string; header: { member_id: string } }
      return { leader: b.leader, raftTerm: b.raftTerm, memberId: b.header.member_id }
    } catch {
      return undefined
    }
  }

  /** Index of the member that is leader according to a majority of live members. */
  async waitForLeader(timeoutMs = 15_000, except?: number): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const statuses = await Promise.all(this.members.map((_, i) => (i === except ? undefined : this.status(i))))
      for (let i = 0; i < statuses.length; i++) {
        const s = statuses[i]
        if (s && s.leader === s.memberId && s.leader !== '0') return i
      }
      await sleep(50)
    }
    throw new Error(`no leader within ${timeoutMs} ms\n${this.members.map((m) => `${m.name}: ${m.stderr.slice(-2000)}`).join('\n')}`)
  }

  async waitHealthy(i: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      try {
        const r = await (this.opts.fetch ?? fetch)(`${this.members[i]!.clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
        if (r.status === 200) return
      } catch {
        // not up yet
      }
      await sleep(50)
    }
    throw new Error(`member ${i} not healthy within ${timeoutMs} ms\n${this.members[i]!.stderr.slice(-3000)}`)
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

export async function post(
  base: string,
  path: string,
  body: unknown,
  timeoutMs = 5000,
  get: NonNullable<ClusterOptions['fetch']> = fetch,
): Promise<{ status: number; body: unknown }> {
  const r = await get(base + path, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) })
  const text = await r.text()
  return { status: r.status, body: text ? (JSON.parse(text) as unknown) : undefined }
}

export const b64 = (s: string) => Buffer.from(s).toString('base64')
export const unb64 = (s: string | undefined) => (s === undefined ? '' : Buffer.from(s, 'base64').toString())
