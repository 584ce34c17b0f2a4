// Server-side figures over a measurement window: peak RSS per member (polled), CPU per member, the
// leader's fsync and commit counters from /metrics, the load generator's own CPU and the machine's
// total busy CPU (other processes share this machine; the figure says how much).

import { machineCpuSeconds } from './proc-stats.ts'
import type { BenchCluster } from './cluster.ts'

const RSS_POLL_MS = 250

export interface Mark {
  atMs: number
  memberCpuSeconds: number[]
  fsyncs: number[]
  fsyncSeconds: number[]
  committed: number[]
  leaderChanges: number[]
  selfCpuMicros: number
  machineCpuSeconds: number
}

export interface WindowFigures {
  seconds: number
  rssMiB: number[]
  cpuPct: number[]
  /** Per member fsyncs per second (NaN where the metric is absent). */
  fsyncsPerS: number[]
  /** Mean duration of one WAL fsync (ms) per member. */
  fsyncMeanMs: number[]
  committedPerS: number[]
  /** Most leader changes any member saw during the window (NaN if not exported). */
  leaderChanges: number
  loadgenCpuPct: number
  machineBusyCores: number
}

export class Sampler {
  private readonly peakRss: number[]
  private timer: NodeJS.Timeout | undefined

  constructor(private readonly cluster: BenchCluster) {
    this.peakRss = cluster.members.map(() => Number.NaN)
  }

  startRss(): void {
    this.pollRss()
    this.timer = setInterval(() => this.pollRss(), RSS_POLL_MS)
  }

  stopRss(): number[] {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    this.pollRss()
    return [...this.peakRss]
  }

  private pollRss(): void {
    this.cluster.members.forEach((_, i) => {
      const r = this.cluster.rssMiB(i)
      if (Number.isFinite(r)) this.peakRss[i] = Number.isFinite(this.peakRss[i]!) ? Math.max(this.peakRss[i]!, r) : r
    })
  }

  async mark(): Promise<Mark> {
    const atMs = Date.now()
    const selfCpu = process.cpuUsage()
    const machine = machineCpuSeconds()
    const memberCpuSeconds = this.cluster.members.map((_, i) => this.cluster.cpuSeconds(i))
    const metrics = await Promise.all(this.cluster.members.map((_, i) => (this.cluster.alive(i) ? this.cluster.metrics(i) : new Map<string, number>())))
    return {
      atMs,
      memberCpuSeconds,
      fsyncs: metrics.map((m) => m.get(this.cluster.fsyncMetric) ?? Number.NaN),
      fsyncSeconds: metrics.map((m) => m.get(this.cluster.fsyncMetric.replace(/_count$/, '_sum')) ?? Number.NaN),
      committed: metrics.map((m) => m.get(this.cluster.committedMetric) ?? Number.NaN),
      leaderChanges: metrics.map((m) => m.get(this.cluster.leaderChangesMetric) ?? Number.NaN),
      selfCpuMicros: selfCpu.user + selfCpu.system,
      machineCpuSeconds: machine,
    }
  }

  static between(a: Mark, b: Mark, rssMiB: number[]): WindowFigures {
    const s = Math.max(1e-3, (b.atMs - a.atMs) / 1000)
    const rate = (x: number[], y: number[]) => y.map((v, i) => (v - x[i]!) / s)
    return {
      seconds: s,
      rssMiB,
      cpuPct: rate(a.memberCpuSeconds, b.memberCpuSeconds).map((v) => v * 100),
      fsyncsPerS: rate(a.fsyncs, b.fsyncs),
      fsyncMeanMs: b.fsyncs.map((c, i) => ((b.fsyncSeconds[i]! - a.fsyncSeconds[i]!) * 1000) / (c - a.fsyncs[i]!)),
      committedPerS: rate(a.committed, b.committed),
      leaderChanges: maxFinite(b.leaderChanges.map((v, i) => v - a.leaderChanges[i]!)),
      loadgenCpuPct: ((b.selfCpuMicros - a.selfCpuMicros) / 1e6 / s) * 100,
      machineBusyCores: (b.machineCpuSeconds - a.machineCpuSeconds) / s,
    }
  }
}

function maxFinite(xs: number[]): number {
  const f = xs.filter(Number.isFinite)
  return f.length ? Math.max(...f) : Number.NaN
}
