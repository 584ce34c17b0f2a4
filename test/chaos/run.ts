// One chaos run: start a cluster, run a workload (and the ledger beside it) while the nemesis follows
// its schedule, heal everything, let the clients go on a little on the healed cluster, stop them, run
// the final reads and the checks, and kill every process (also when something throws).

import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { sleep } from '../cluster/harness.ts'
import { Prng } from '../sim/prng.ts'
import { ChaosCluster, MEMBER_FAILPOINTS } from './cluster.ts'
import { DEFAULT_FAULTS, FAULT_KINDS, Nemesis, schedule } from './nemesis.ts'
import type { FaultKind, Step } from './nemesis.ts'
import { Ledger } from './workloads/ledger.ts'
import { LeaseWorkload } from './workloads/lease.ts'
import { CLIENT_PAUSE_MS_MAX, CLIENT_PAUSE_MS_MIN, LockWorkload } from './workloads/lock.ts'
import { RegisterWorkload } from './workloads/register.ts'
import { SemaphoreWorkload } from './workloads/semaphore.ts'
import { SetWorkload } from './workloads/set.ts'
import { WatchWorkload } from './workloads/watch.ts'
import { AckSignal, newCounts } from './workload.ts'
import type { RunContext, Workload, WorkloadResult } from './workload.ts'

export const WORKLOADS = ['register', 'set', 'watch', 'lease', 'lock', 'semaphore'] as const
export type WorkloadName = (typeof WORKLOADS)[number]
/** Failpoints of the client recipes, set in this process's environment (recipes/lock/failpoints.ts). */
export const CLIENT_FAILPOINTS = ['skip-lease-recheck'] as const
export const FAILPOINTS = [...MEMBER_FAILPOINTS, ...CLIENT_FAILPOINTS] as const

export interface ChaosOptions {
  workload: WorkloadName
  seed: number
  /** How long faults are injected (ms); the healed tail and the checks come on top. */
  durationMs: number
  nodes: number
  faults: FaultKind[]
  failpoints: string[]
  heartbeatMs: number
  electionMs: number
  snapshotCount: number
  opTimeoutMs: number
  /** Client count of the workload (0: the workload's default for the cluster size). */
  clients: number
  /** Ledger writers (the first follows the leader); 0: one per member. */
  ledgerWriters: number
  quietMsMin: number
  quietMsMax: number
  holdMsMin: number
  holdMsMax: number
  /** Probability that a fault step adds a second fault (process during network, or the other way). */
  combine: number
  /** Run members through bin/cairn.js (tsx) rather than an esbuild bundle of the same sources. */
  useTsx: boolean
  /** Keep the data dirs and member logs (always kept when the run fails). */
  keep: boolean
  verbose: boolean
}

export const DEFAULTS: Omit<ChaosOptions, 'workload' | 'seed'> = {
  durationMs: 60_000,
  nodes: 3,
  faults: DEFAULT_FAULTS,
  failpoints: [],
  heartbeatMs: 50,
  electionMs: 500,
  snapshotCount: 10_000,
  opTimeoutMs: 2_000,
  clients: 0,
  ledgerWriters: 0,
  quietMsMin: 300,
  quietMsMax: 1_500,
  holdMsMin: 1_000,
  holdMsMax: 4_000,
  combine: 0.3,
  useTsx: false,
  keep: false,
  verbose: false,
}

export interface ChaosReport {
  options: ChaosOptions
  ok: number
  fail: number
  indeterminate: number
  faults: Map<string, number>
  faultsFailed: Map<string, number>
  linearizable: boolean | 'unknown'
  lost: number
  problems: string[]
  warnings: string[]
  notes: string[]
  steps: Step[]
  replay: string
  elapsedMs: number
  dataDir: string | undefined
}

/** Healed time at the end, with clients still running, before they stop and the final checks start. */
const HEALED_TAIL_MS = 3_000
const HEAL_DEADLINE_MS = 20_000

function makeWorkload(o: ChaosOptions): Workload {
  const clients = (fallback: number) => (o.clients > 0 ? o.clients : fallback)
  switch (o.workload) {
    case 'register':
      return new RegisterWorkload({ keys: 4, clients: clients(2 * o.nodes), thinkMsMax: 10 })
    case 'set':
      return new SetWorkload({ clients: clients(2 * o.nodes) })
    case 'watch':
      return new WatchWorkload({ writers: clients(o.nodes), watchers: o.nodes + 1 })
    case 'lease':
      return new LeaseWorkload({ clients: clients(2 * o.nodes) })
    case 'lock':
      return new LockWorkload({ clients: clients(o.nodes + 1) })
    case 'semaphore':
      return new SemaphoreWorkload({ clients: clients(o.nodes + 2) })
  }
}

export function replayCommand(o: ChaosOptions): string {
  const args = [`--workload ${o.workload}`, `--seed ${o.seed}`, `--duration ${Math.round(o.durationMs / 1000)}`]
  if (o.nodes !== DEFAULTS.nodes) args.push(`--nodes ${o.nodes}`)
  if (o.faults.join(',') !== DEFAULTS.faults.join(',')) args.push(`--faults ${o.faults.join(',')}`)
  if (o.failpoints.length > 0) args.push(`--failpoint ${o.failpoints.join(',')}`)
  for (const [flag, key] of [
    ['--election-ms', 'electionMs'],
    ['--heartbeat-ms', 'heartbeatMs'],
    ['--snapshot-count', 'snapshotCount'],
    ['--op-timeout-ms', 'opTimeoutMs'],
    ['--clients', 'clients'],
    ['--ledger-writers', 'ledgerWriters'],
    ['--quiet-ms-min', 'quietMsMin'],
    ['--quiet-ms-max', 'quietMsMax'],
    ['--hold-ms-min', 'holdMsMin'],
    ['--hold-ms-max', 'holdMsMax'],
  ] as const) {
    if (o[key] !== DEFAULTS[key]) args.push(`${flag} ${o[key]}`)
  }
  if (o.combine !== DEFAULTS.combine) args.push(`--combine ${o.combine}`)
  if (o.useTsx) args.push('--tsx')
  return `npm run chaos -- ${args.join(' ')}`
}

function dataRoot(): string {
  // Process crashes (kill -9) lose what was not yet written, never what the kernel holds, so a RAM
  // disk keeps the same crash semantics and spares the shared CI disk.
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir()
}

export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now()
  const log = (line: string) => {
    if (o.verbose) process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`)
  }
  for (const f of o.faults) if (!(FAULT_KINDS as readonly string[]).includes(f)) throw new Error(`unknown fault ${f}`)
  const workload = makeWorkload(o)
  // Only a workload whose clients have proxies of their own can have one paused.
  const faults = workload.pauseClient ? o.faults : o.faults.filter((f) => f !== 'pause-client')
  const steps = schedule({
    seed: o.seed,
    durationMs: o.durationMs,
    faults,
    electionMs: o.electionMs,
    size: o.nodes,
    quietMsMin: o.quietMsMin,
    quietMsMax: o.quietMsMax,
    holdMsMin: o.holdMsMin,
    holdMsMax: o.holdMsMax,
    combine: o.combine,
    clientPauseMsMin: CLIENT_PAUSE_MS_MIN,
    clientPauseMsMax: CLIENT_PAUSE_MS_MAX,
  })
  const root = join(dataRoot(), `cairn-chaos-${o.workload}-${o.seed}-${process.pid}-${Date.now()}`)
  const cluster = await ChaosCluster.create({
    size: o.nodes,
    root,
    heartbeatMs: o.heartbeatMs,
    electionMs: o.electionMs,
    snapshotCount: o.snapshotCount,
    failpoints: o.failpoints,
    useTsx: o.useTsx,
    log,
  })
  let failed = true
  const report: ChaosReport = {
    options: o,
    ok: 0,
    fail: 0,
    indeterminate: 0,
    faults: new Map(),
    faultsFailed: new Map(),
    linearizable: true,
    lost: 0,
    problems: [],
    warnings: [],
    notes: [],
    steps,
    replay: replayCommand(o),
    elapsedMs: 0,
    dataDir: undefined,
  }
  const onSignal = () => {
    void cluster.stop(true).finally(() => process.exit(130))
  }
  // The client recipes read their failpoints from this process's environment (the members get theirs
  // from cluster.ts, which passes only the member failpoints).
  const clientFailpoints = o.failpoints.filter((f) => (CLIENT_FAILPOINTS as readonly string[]).includes(f))
  const savedFailpoints = process.env.CAIRN_FAILPOINTS
  if (clientFailpoints.length > 0) process.env.CAIRN_FAILPOINTS = clientFailpoints.join(',')
  else delete process.env.CAIRN_FAILPOINTS
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    for (let i = 0; i < o.nodes; i++) cluster.start(i)
    if ((await cluster.leader(60_000)) === undefined || !(await cluster.waitHealthy(60_000))) {
      throw new Error(`the cluster did not come up\n${cluster.members.map((m) => `${m.name}: ${m.tail.slice(-1500)}`).join('\n')}`)
    }
    const origin = performance.now()
    let stopping = false
    const ctx: RunContext = {
      cluster,
      prng: new Prng(o.seed).fork(),
      now: () => performance.now() - origin,
      stopping: () => stopping,
      opTimeoutMs: o.opTimeoutMs,
      log,
      acks: new AckSignal(),
    }
    const ledgerCounts = newCounts()
    const ledger = new Ledger(ledgerCounts, o.ledgerWriters > 0 ? o.ledgerWriters : o.nodes)
    const nemesis = new Nemesis(cluster, steps, log, Date.now(), {
      nextAck: (timeoutMs) => ctx.acks.next(timeoutMs),
      ...(workload.pauseClient ? { pauseClient: (pick: number) => workload.pauseClient?.(pick) } : {}),
    })
    log(`run: ${o.workload} on ${o.nodes} members, ${steps.length} fault steps over ${o.durationMs} ms (op times in the report count from here)`)
    const clients = Promise.all([workload.run(ctx), ledger.run(ctx, 20)])
    await Promise.race([nemesis.run(), sleep(o.durationMs + 10_000)])
    nemesis.stop()
    log('run: healing')
    // A planted bug may leave a member wedged for good: don't wait as long for it.
    const healMs = o.failpoints.length > 0 ? HEAL_DEADLINE_MS / 2 : HEAL_DEADLINE_MS
    await nemesis.healAll(Date.now() + healMs)
    const healthy = await cluster.waitHealthy(healMs)
    if (!healthy) report.warnings.push(`the cluster was not healthy within ${healMs / 1000} s of healing (liveness)`)
    await sleep(HEALED_TAIL_MS)
    stopping = true
    await clients
    log('run: checking')
    // Side by side: with a wedged member (a planted bug) each final read waits out its deadline.
    const results: WorkloadResult[] = await Promise.all([workload.finish(ctx), ledger.finish(ctx)])
    for (const r of results) {
      if (r.linearizable === false) report.linearizable = false
      else if (r.linearizable === 'unknown' && report.linearizable === true) report.linearizable = 'unknown'
      report.lost += r.lost
      report.problems.push(...r.problems)
      report.warnings.push(...r.warnings)
      report.notes.push(...r.notes)
    }
    for (const c of [workload.counts, ledgerCounts]) {
      report.ok += c.ok
      report.fail += c.fail
      report.indeterminate += c.indeterminate
    }
    report.faults = nemesis.injected
    report.faultsFailed = nemesis.failedAttempts
    failed = report.problems.length > 0 || report.warnings.length > 0 || report.linearizable !== true
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (savedFailpoints === undefined) delete process.env.CAIRN_FAILPOINTS
    else process.env.CAIRN_FAILPOINTS = savedFailpoints
    await workload.close?.().catch(() => undefined)
    const keep = o.keep || failed
    await cluster.stop(keep)
    if (keep) report.dataDir = root
    report.elapsedMs = Date.now() - started
  }
  return report
}

export function formatReport(r: ChaosReport): string {
  const o = r.options
  const faults = [...r.faults].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
  const failedFaults = [...r.faultsFailed].map(([k, n]) => `${k} ${n}`).join(', ')
  const lines = [
    `workload: ${o.workload}, ${o.nodes} members, ${Math.round(o.durationMs / 1000)} s of faults${o.failpoints.length ? `, FAILPOINTS: ${o.failpoints.join(',')}` : ''}`,
    `operations: ok ${r.ok}, failed ${r.fail}, indeterminate ${r.indeterminate}`,
    `faults injected: ${faults}${failedFaults ? ` (attempts refused by the cluster: ${failedFaults})` : ''}`,
    ...r.notes,
    ...r.warnings.map((w) => `warning: ${w}`),
    ...r.problems.map((p) => `VIOLATION: ${p}`),
    `linearizable: ${r.linearizable}`,
    `acknowledged writes lost: ${r.lost}`,
    `seed: ${o.seed}`,
    `replay: ${r.replay}`,
  ]
  if (r.dataDir) lines.push(`data dirs and member logs kept in ${r.dataDir}`)
  lines.push(`took ${(r.elapsedMs / 1000).toFixed(1)} s`)
  return lines.join('\n')
}
