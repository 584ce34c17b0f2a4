// One load-generator thread: `clients` closed-loop clients, each on its own keep-alive connection,
// issuing one operation after another until the window ends. Latencies of operations that complete
// inside the measurement window are recorded; the warm-up before it is discarded.

import { parentPort, workerData } from 'node:worker_threads'
import { performance } from 'node:perf_hooks'
import { HttpConnection } from '../http-client.ts'
import { Histogram } from '../histogram.ts'
import { OPS } from './ops.ts'
import type { LoadSpec, WorkerDone, WorkerMessage, WorkerCommand, KindStats } from './protocol.ts'

const ERROR_SAMPLES_MAX = 5
const ERROR_BACKOFF_MS = 20
const PROGRESS_EVERY_MS = 250

const spec = workerData as LoadSpec
const port = parentPort!
const post = (m: WorkerMessage) => port.postMessage(m)

const nowEpochMs = () => performance.timeOrigin + performance.now()

const total = new Histogram()
const kinds = new Map<string, { ops: number; errors: number; hist: Histogram }>()
const tags = new Map<string, number>()
const errorCounts = new Map<string, number>()
const errorSamples: string[] = []
let ops = 0
let errors = 0
let opsAll = 0 // including warm-up, for progress
let errorsAll = 0
let stopped = false

function kindOf(name: string) {
  let k = kinds.get(name)
  if (!k) kinds.set(name, (k = { ops: 0, errors: 0, hist: new Histogram() }))
  return k
}

function noteError(message: string): void {
  const code = message.replace(/\d+/g, 'N').slice(0, 80)
  errorCounts.set(code, (errorCounts.get(code) ?? 0) + 1)
  if (errorSamples.length < ERROR_SAMPLES_MAX) errorSamples.push(message.slice(0, 300))
}

async function clientLoop(index: number, measureFrom: number, measureTo: number): Promise<void> {
  const endpoint = spec.endpoints[(spec.clientBase + index) % spec.endpoints.length]!
  const conn = HttpConnection.fromUrl(endpoint, spec.timeoutMs)
  const client = OPS[spec.op]({ index: spec.clientBase + index, conn, params: spec.params })
  // bounded: the loop ends at the window's end (each request is itself bounded by timeoutMs)
  while (!stopped) {
    const t0 = performance.now()
    let kind = spec.op as string
    let error: string | undefined
    let tag: string | undefined
    try {
      const o = await client.run()
      kind = o.kind
      error = o.error
      tag = o.tag
    } catch (e) {
      error = `${(e as { code?: string }).code ?? 'Error'}: ${(e as Error).message}`
    }
    const t1 = performance.now()
    const at = performance.timeOrigin + t1
    if (at > measureTo) break
    if (error === undefined) opsAll++
    else errorsAll++
    if (at >= measureFrom) {
      const k = kindOf(kind)
      if (error === undefined) {
        const ms = t1 - t0
        total.recordMs(ms)
        k.hist.recordMs(ms)
        ops++
        k.ops++
        if (tag !== undefined) tags.set(tag, (tags.get(tag) ?? 0) + 1)
      } else {
        errors++
        k.errors++
        noteError(error)
      }
    }
    if (error !== undefined) await new Promise((r) => setTimeout(r, ERROR_BACKOFF_MS))
  }
  conn.close()
}

async function run(startAt: number): Promise<void> {
  const measureFrom = startAt + spec.warmupMs
  const measureTo = measureFrom + spec.durationMs
  const wait = startAt - nowEpochMs()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  const elu0 = performance.eventLoopUtilization()
  let eluAtMeasure = elu0
  const eluTimer = setTimeout(() => (eluAtMeasure = performance.eventLoopUtilization()), Math.max(0, measureFrom - nowEpochMs()))
  const progress = setInterval(() => post({ type: 'progress', ops: opsAll, errors: errorsAll }), PROGRESS_EVERY_MS)
  const loops: Promise<void>[] = []
  for (let i = 0; i < spec.clients; i++) loops.push(clientLoop(i, measureFrom, measureTo))
  // the loops end by themselves at measureTo; the stop command ends them early
  await Promise.all(loops)
  clearInterval(progress)
  clearTimeout(eluTimer)
  const elu = performance.eventLoopUtilization(eluAtMeasure)
  const kindStats: Record<string, KindStats> = {}
  for (const [name, k] of kinds) kindStats[name] = { ops: k.ops, errors: k.errors, hist: k.hist.toJSON() }
  const done: WorkerDone = {
    type: 'done',
    ops,
    errors,
    hist: total.toJSON(),
    kinds: kindStats,
    tags: Object.fromEntries(tags),
    errorCounts: Object.fromEntries(errorCounts),
    errorSamples,
    eventLoopUtilization: elu.utilization,
  }
  post(done)
}

port.on('message', (m: WorkerCommand) => {
  if (m.type === 'start') void run(m.atEpochMs)
  else if (m.type === 'stop') stopped = true
})
post({ type: 'ready' })
