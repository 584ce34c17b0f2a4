// A local cluster of Cairn or etcd members for one benchmark: separate processes on loopback ports,
// data dirs in one temporary directory under os.tmpdir() (so both systems write to the same disk),
// the same heartbeat and election settings, fsync on (neither system is given an unsafe flag).

import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getText, postJson } from './http-client.ts'
import { startChild, stopChild, registerTempDir, removeTempDir } from './procs.ts'
import type { Child } from './procs.ts'
import { cpuSeconds, parsePrometheus, rssMiB } from './proc-stats.ts'

export type SystemName = 'cairn' | 'etcd'

export const ROOT = new URL('..', import.meta.url).pathname
const CAIRN_BIN = join(ROOT, 'bin/cairn.js')

export interface ClusterConfig {
  system: SystemName
  members: number
  heartbeatMs: number
  electionMs: number
  snapshotCount: number
  /** etcd: --enable-v2 (Cairn serves v2 when it has it, without a flag). */
  enableV2: boolean
  /** Cairn only: write a V8 CPU profile per member into this directory (node --cpu-prof). */
  cpuProfDir?: string
  /** etcd: raise the backend quota for the scale workload. */
  quotaBackendBytes?: number
}

export interface BenchMember {
  name: string
  clientUrl: string
  peerUrl: string
  dataDir: string
  child: Child | undefined
}

export interface MemberStatus {
  memberId: string
  leader: string
  raftTerm: number
  revision: number
}

const START_ATTEMPTS_MAX = 3
const READY_TIMEOUT_MS = 30_000

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

export class BenchCluster {
  readonly members: BenchMember[] = []
  private initialCluster = ''

  private constructor(
    readonly cfg: ClusterConfig,
    readonly root: string,
  ) {}

  /**
   * Starts the members and waits for a leader. Ports come from the OS and may be taken by someone
   * else between the probe and the bind (other processes share this machine): a member that exits
   * while starting makes us retry the whole cluster on fresh ports.
   */
  static async start(cfg: ClusterConfig): Promise<BenchCluster> {
    let last: Error | undefined
    for (let attempt = 1; attempt <= START_ATTEMPTS_MAX; attempt++) {
      const root = mkdtempSync(join(tmpdir(), `bench-${cfg.system}-`))
      registerTempDir(root)
      const c = new BenchCluster(cfg, root)
      try {
        await c.init()
        return c
      } catch (e) {
        last = e as Error
        await c.stop()
      }
    }
    throw new Error(`${cfg.system}: cluster did not start after ${START_ATTEMPTS_MAX} attempts: ${last?.message ?? ''}`)
  }

  private async init(): Promise<void> {
    for (let i = 1; i <= this.cfg.members; i++) {
      const [cp, pp] = [await freePort(), await freePort()]
      this.members.push({
        name: `m${i}`,
        clientUrl: `http://127.0.0.1:${cp}`,
        peerUrl: `http://127.0.0.1:${pp}`,
        dataDir: join(this.root, `m${i}`),
        child: undefined,
      })
    }
    this.initialCluster = this.members.map((m) => `${m.name}=${m.peerUrl}`).join(',')
    for (let i = 0; i < this.members.length; i++) this.startMember(i)
    await Promise.all(this.members.map((_, i) => this.waitServing(i, READY_TIMEOUT_MS)))
    await this.leaderIndex(READY_TIMEOUT_MS)
    await this.checkOwnership()
  }

  get system(): SystemName {
    return this.cfg.system
  }

  startMember(i: number): void {
    const m = this.members[i]!
    const common = [
      '--name', m.name,
      '--data-dir', m.dataDir,
      '--listen-client-urls', m.clientUrl,
      '--advertise-client-urls', m.clientUrl,
      '--listen-peer-urls', m.peerUrl,
      '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster', this.initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', `bench-${this.cfg.system}`,
      '--heartbeat-interval', String(this.cfg.heartbeatMs),
      '--election-timeout', String(this.cfg.electionMs),
      '--snapshot-count', String(this.cfg.snapshotCount),
      '--log-level', 'warn',
    ]
    if (this.cfg.system === 'cairn') {
      // --cpu-prof is refused in NODE_OPTIONS, so it goes on the command line
      const prof = this.cfg.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(this.cfg.cpuProfDir, m.name)}`] : []
      m.child = startChild(process.execPath, [...prof, CAIRN_BIN, 'serve', ...common], { ...process.env }, ROOT)
    } else {
      const extra = [
        // Cairn always runs pre-vote and check-quorum; etcd 3.4 always checks quorum, pre-vote is a flag
        '--pre-vote=true',
        '--logger', 'zap',
        '--log-outputs', 'stderr',
      ]
      if (this.cfg.enableV2) extra.push('--enable-v2=true')
      if (this.cfg.quotaBackendBytes) extra.push('--quota-backend-bytes', String(this.cfg.quotaBackendBytes))
      m.child = startChild('etcd', [...common, ...extra], { ...process.env }, ROOT)
    }
  }

  pid(i: number): number {
    return this.members[i]?.child?.pid ?? -1
  }

  alive(i: number): boolean {
    const c = this.members[i]?.child
    return c !== undefined && !c.exited()
  }

  /** Polls until the member answers /health with 200; fails at once if it exits. */
  async waitServing(i: number, timeoutMs: number): Promise<number> {
    const started = performance.now()
    const deadline = Date.now() + timeoutMs
    const m = this.members[i]!
    while (Date.now() < deadline) {
      if (!this.alive(i)) throw new Error(`${this.cfg.system} ${m.name} exited while starting: ${m.child?.stderrTail().slice(-1500) ?? ''}`)
      try {
        const r = await getText(m.clientUrl, '/health', 1000)
        if (r.status === 200 && this.alive(i)) return performance.now() - started
      } catch {
        // not listening yet
      }
      await sleep(25)
    }
    throw new Error(`${this.cfg.system} ${m.name} not serving within ${timeoutMs} ms: ${m.child?.stderrTail().slice(-1500) ?? ''}`)
  }

  async status(i: number, timeoutMs = 1000): Promise<MemberStatus | undefined> {
    try {
      const r = await postJson(this.members[i]!.clientUrl, '/v3/maintenance/status', {}, timeoutMs)
      if (r.status !== 200) return undefined
      const b = r.json as { leader?: string; raftTerm?: string; header?: { member_id?: string; revision?: string } }
      return {
        memberId: b.header?.member_id ?? '',
        leader: b.leader ?? '0',
        raftTerm: Number(b.raftTerm ?? 0),
        revision: Number(b.header?.revision ?? 0),
      }
    } catch {
      return undefined
    }
  }

  /** Index of the member that reports itself leader; waits for one. */
  async leaderIndex(timeoutMs = 15_000, except?: number): Promise<number> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const statuses = await Promise.all(this.members.map((_, i) => (i === except || !this.alive(i) ? undefined : this.status(i))))
      for (let i = 0; i < statuses.length; i++) {
        const s = statuses[i]
        if (s && s.leader !== '0' && s.leader === s.memberId) return i
      }
      await sleep(20)
    }
    throw new Error(`${this.cfg.system}: no leader within ${timeoutMs} ms`)
  }

  /** The member list must show exactly our peer URLs: guards against answering someone else's server. */
  private async checkOwnership(): Promise<void> {
    const r = await postJson(this.members[0]!.clientUrl, '/v3/cluster/member/list', {}, 3000)
    const list = (r.json as { members?: { peerURLs?: string[] }[] } | undefined)?.members ?? []
    const seen = list.flatMap((x) => x.peerURLs ?? []).sort()
    const ours = this.members.map((m) => m.peerUrl).sort()
    if (JSON.stringify(seen) !== JSON.stringify(ours)) {
      throw new Error(`${this.cfg.system}: member list ${JSON.stringify(seen)} is not ours ${JSON.stringify(ours)}`)
    }
  }

  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const c = this.members[i]?.child
    if (c) await stopChild(c, signal)
  }

  /** Restarts a stopped member on its data dir; resolves with ms until it serves. */
  async restart(i: number, timeoutMs = READY_TIMEOUT_MS): Promise<number> {
    const started = performance.now()
    this.startMember(i)
    await this.waitServing(i, timeoutMs)
    return performance.now() - started
  }

  rssMiB(i: number): number {
    return rssMiB(this.pid(i))
  }

  cpuSeconds(i: number): number {
    return cpuSeconds(this.pid(i))
  }

  async metrics(i: number): Promise<Map<string, number>> {
    try {
      const r = await getText(this.members[i]!.clientUrl, '/metrics', 3000)
      return r.status === 200 ? parsePrometheus(r.text) : new Map()
    } catch {
      return new Map()
    }
  }

  /** Counter names for fsyncs and applied proposals in this system's /metrics. */
  get fsyncMetric(): string {
    return this.cfg.system === 'cairn' ? 'cairn_disk_wal_fsync_duration_seconds_count' : 'etcd_disk_wal_fsync_duration_seconds_count'
  }

  get committedMetric(): string {
    return this.cfg.system === 'cairn' ? 'cairn_server_proposals_committed_total' : 'etcd_server_proposals_committed_total'
  }

  get leaderChangesMetric(): string {
    return this.cfg.system === 'cairn' ? 'cairn_server_leader_changes_seen_total' : 'etcd_server_leader_changes_seen_total'
  }

  async supportsV2(): Promise<boolean> {
    try {
      const r = await getText(this.members[0]!.clientUrl, '/v2/keys/?quorum=false', 2000)
      return r.status === 200
    } catch {
      return false
    }
  }

  clientUrls(): string[] {
    return this.members.map((m) => m.clientUrl)
  }

  /** Stops every member (SIGTERM first when profiling, so V8 writes its profile) and removes the data. */
  async stop(): Promise<void> {
    const signal: NodeJS.Signals = this.cfg.cpuProfDir ? 'SIGTERM' : 'SIGKILL'
    await Promise.all(this.members.map((m) => (m.child ? stopChild(m.child, signal, 10_000) : Promise.resolve())))
    removeTempDir(this.root)
  }
}
