// Messages between the benchmark's main thread and its load-generator threads.

import type { OpName, OpParams } from './ops.ts'

export interface LoadSpec {
  op: OpName
  params: OpParams
  /** Client URLs; client i uses endpoints[(clientBase + i) % length]. */
  endpoints: string[]
  clients: number
  clientBase: number
  warmupMs: number
  durationMs: number
  timeoutMs: number
}

export interface HistogramTransfer {
  counts: number[]
  sumUs: number
  maxUs: number
  minUs: number
}

export interface KindStats {
  ops: number
  errors: number
  hist: HistogramTransfer
}

export interface WorkerDone {
  type: 'done'
  ops: number
  errors: number
  hist: HistogramTransfer
  kinds: Record<string, KindStats>
  tags: Record<string, number>
  errorCounts: Record<string, number>
  errorSamples: string[]
  eventLoopUtilization: number
}

export type WorkerMessage = { type: 'ready' } | { type: 'progress'; ops: number; errors: number } | WorkerDone

export type WorkerCommand = { type: 'start'; atEpochMs: number } | { type: 'stop' }
