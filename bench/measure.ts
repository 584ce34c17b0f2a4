// Runs one closed-loop series against a cluster and turns the load result and the server-side
// samples into a SeriesResult.

import type { BenchCluster, SystemName } from './cluster.ts'
import { Histogram, summarize } from './histogram.ts'
import { runLoad } from './load/pool.ts'
import type { OpName, OpParams } from './load/ops.ts'
import type { Progress } from './progress.ts'
import { Sampler } from './sampler.ts'
import type { WindowFigures } from './sampler.ts'
import type { BenchOptions, SeriesResult, WorkloadName } from './types.ts'

export interface RunContext {
  opts: BenchOptions
  cluster: BenchCluster
  progress: Progress
}

export interface LoadSeries {
  workload: WorkloadName
  series: string
  op: OpName
  params: OpParams
  clients: number
  /** Which members the clients talk to (round robin); default all. */
  endpoints?: string[]
  durationS?: number
  warmupS?: number
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US')

/** A result with nothing measured yet, for the cluster of ctx. */
export function emptySeries(ctx: RunContext, workload: WorkloadName, series: string, clients: number): SeriesResult {
  return blankSeries(ctx.cluster.system, ctx.cluster.members.length, workload, series, clients)
}

export function blankSeries(system: SystemName, members: number, workload: WorkloadName, series: string, clients: number): SeriesResult {
  return {
    workload,
    series,
    system,
    members,
    clients,
    durationS: 0,
    ops: 0,
    errors: 0,
    opsPerS: 0,
    latencyMs: summarize(new Histogram()),
    rssMiB: [],
    cpuPct: [],
    leader: -1,
    fsyncsPerS: Number.NaN,
    writesPerFsync: Number.NaN,
    loadgen: { cpuPct: Number.NaN, eventLoopUtilization: Number.NaN },
    machineBusyCores: Number.NaN,
    extra: {},
    errorCounts: {},
    errorSamples: [],
    notes: [],
  }
}

/** Fills the server-side figures of a result from a window's samples. */
export function applyWindow(r: SeriesResult, w: WindowFigures, leader: number): void {
  r.rssMiB = w.rssMiB.map((x) => Math.round(x * 10) / 10)
  r.cpuPct = w.cpuPct.map((x) => (x >= 0 ? Math.round(x) : Number.NaN)) // negative: the member restarted
  r.leader = leader
  const fs = w.fsyncsPerS[leader] ?? Number.NaN
  const committed = w.committedPerS[leader] ?? Number.NaN
  r.fsyncsPerS = fs >= 0 ? Math.round(fs * 10) / 10 : Number.NaN // negative: the leader restarted
  r.writesPerFsync = fs > 0 ? Math.round((committed / fs) * 100) / 100 : Number.NaN
  const fsyncMs = w.fsyncMeanMs[leader] ?? Number.NaN
  if (Number.isFinite(fsyncMs) && fsyncMs >= 0) r.extra.fsyncMeanMs = Math.round(fsyncMs * 100) / 100
  if (w.leaderChanges > 0) r.extra.leaderChanges = w.leaderChanges
  r.loadgen.cpuPct = Math.round(w.loadgenCpuPct)
  r.machineBusyCores = Math.round(w.machineBusyCores * 100) / 100
}

export async function measureLoad(ctx: RunContext, s: LoadSeries): Promise<SeriesResult> {
  const { opts, cluster, progress } = ctx
  const durationS = s.durationS ?? opts.durationS
  const warmupS = s.warmupS ?? opts.warmupS
  const leader = await cluster.leaderIndex()
  const sampler = new Sampler(cluster)
  let opsSoFar = 0
  let errorsSoFar = 0
  let lastOps = 0
  let lastAt = Date.now()
  let rate = 0
  progress.begin(`${s.workload} ${s.series} · ${cluster.system}`, warmupS + durationS, () => {
    const now = Date.now()
    if (now - lastAt >= 400) {
      rate = ((opsSoFar - lastOps) * 1000) / (now - lastAt)
      lastOps = opsSoFar
      lastAt = now
    }
    const rss = cluster.members.map((_, i) => Math.round(cluster.rssMiB(i))).join('/')
    return `ops ${fmt(opsSoFar)} (${fmt(rate)}/s) errors ${errorsSoFar} rss ${rss} MiB`
  })
  const handle = runLoad(
    {
      op: s.op,
      params: s.params,
      endpoints: s.endpoints ?? cluster.clientUrls(),
      clients: s.clients,
      clientBase: 0,
      warmupMs: warmupS * 1000,
      durationMs: durationS * 1000,
      timeoutMs: opts.timeoutMs,
    },
    opts.threads,
    (o, e) => {
      opsSoFar = o
      errorsSoFar = e
    },
  )
  try {
    const window = await handle.window
    await sleepUntil(window.from)
    sampler.startRss()
    const a = await sampler.mark()
    await sleepUntil(window.to)
    const b = await sampler.mark()
    const rss = sampler.stopRss()
    const load = await handle.result
    const r = emptySeries(ctx, s.workload, s.series, s.clients)
    r.durationS = durationS
    r.ops = load.ops
    r.errors = load.errors
    r.opsPerS = Math.round((load.ops / durationS) * 10) / 10
    r.latencyMs = summarize(load.hist)
    if (Object.keys(load.kinds).length > 1) {
      r.kinds = {}
      for (const [k, v] of Object.entries(load.kinds)) {
        r.kinds[k] = { ops: v.ops, errors: v.errors, opsPerS: Math.round((v.ops / durationS) * 10) / 10, latencyMs: summarize(v.hist) }
      }
    }
    for (const [t, c] of Object.entries(load.tags)) r.extra[t] = c
    applyWindow(r, Sampler.between(a, b, rss), leader)
    r.loadgen.eventLoopUtilization = Math.round(load.loadEventLoopUtilization * 100) / 100
    r.errorCounts = load.errorCounts
    r.errorSamples = load.errorSamples
    return r
  } finally {
    sampler.stopRss()
    handle.stop()
    progress.end()
  }
}

export function sleepUntil(epochMs: number): Promise<void> {
  const ms = epochMs - Date.now()
  return new Promise((r) => setTimeout(r, Math.max(0, ms)))
}
