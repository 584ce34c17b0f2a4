// The benchmark's options and the shape of its results (also the JSON file's schema).

import type { SystemName } from './cluster.ts'
import type { LatencySummary } from './histogram.ts'

export const WORKLOADS = ['put', 'range', 'txn', 'watch', 'lease', 'failover', 'scale', 'ceiling'] as const
export type WorkloadName = (typeof WORKLOADS)[number]

export interface BenchOptions {
  workloads: WorkloadName[]
  systems: SystemName[]
  members: number
  /** Client counts; undefined = the workload's default. */
  clients: number[] | undefined
  durationS: number
  warmupS: number
  threads: number
  heartbeatMs: number
  electionMs: number
  snapshotCount: number
  timeoutMs: number
  watchers: number[] | undefined
  failoverRounds: number
  scaleKeys: number
  keySpace: number
  valueBytes: number
  smoke: boolean
  /** Run every (workload, system) this many times, alternating systems; report the median run. */
  repeat: number
  full: boolean
  cpuProf: boolean
  /** Run the put workload's v2 series when Cairn serves /v2/keys. */
  v2: boolean
  record: boolean
  note: string
  outDir: string
  /** Whole run's time bound in seconds (computed from the plan unless given). */
  budgetS: number | undefined
}

export interface SeriesResult {
  workload: WorkloadName
  series: string
  system: SystemName
  members: number
  clients: number
  durationS: number
  ops: number
  errors: number
  opsPerS: number
  latencyMs: LatencySummary
  kinds?: Record<string, { ops: number; errors: number; opsPerS: number; latencyMs: LatencySummary }>
  /** Peak resident memory per member during the series (MiB). */
  rssMiB: number[]
  cpuPct: number[]
  leader: number
  /** The leader's WAL fsyncs per second and committed entries per fsync (NaN where not measured). */
  fsyncsPerS: number
  writesPerFsync: number
  loadgen: { cpuPct: number; eventLoopUtilization: number }
  machineBusyCores: number
  /** Workload-specific figures (recovery ms, CAS success ratio, restart ms …); lower or higher is better per key. */
  extra: Record<string, number>
  errorCounts: Record<string, number>
  errorSamples: string[]
  notes: string[]
}

export interface RunReport {
  startedAt: string
  finishedAt: string
  command: string
  machine: { cpus: number; cpuModel: string; memGiB: number; kernel: string; node: string; etcdVersion: string; tmpFs: string; loadAvgAtStart: number[] }
  options: BenchOptions
  results: SeriesResult[]
  skipped: string[]
  failures: string[]
}
