// Runs a closed-loop load across worker threads and merges their results. Workers are started and
// connected first, then all begin at one agreed instant, so the measurement window is the same for
// every thread and for the server-side samples taken by the main thread.

import { Worker } from 'node:worker_threads'
import { Histogram } from '../histogram.ts'
import { onCleanup } from '../procs.ts'
import type { LoadSpec, WorkerCommand, WorkerDone, WorkerMessage } from './protocol.ts'

const WORKER_URL = new URL('./worker.ts', import.meta.url).href
const TSX_API = import.meta.resolve('tsx/esm/api')
const READY_TIMEOUT_MS = 20_000
const START_DELAY_MS = 150

export interface LoadResult {
  ops: number
  errors: number
  hist: Histogram
  kinds: Record<string, { ops: number; errors: number; hist: Histogram }>
  tags: Record<string, number>
  errorCounts: Record<string, number>
  errorSamples: string[]
  /** Busiest load thread's event-loop utilisation in the window (1.0 = the generator is saturated). */
  loadEventLoopUtilization: number
  measureFromEpochMs: number
  measureToEpochMs: number
}

export interface LoadHandle {
  /** Epoch ms at which the measurement window opens and closes (known once workers are ready). */
  window: Promise<{ from: number; to: number }>
  result: Promise<LoadResult>
  stop(): void
}

/** Starts a worker that first registers tsx's loader, so the worker's own file can be TypeScript. */
function startWorker(spec: LoadSpec): Worker {
  const boot = `import(${JSON.stringify(TSX_API)}).then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL)}) })`
  return new Worker(boot, { eval: true, workerData: spec })
}

export function runLoad(spec: LoadSpec, threads: number, onProgress: (ops: number, errors: number) => void): LoadHandle {
  const n = Math.max(1, Math.min(threads, spec.clients))
  const workers: Worker[] = []
  const progress = new Array<{ ops: number; errors: number }>(n).fill({ ops: 0, errors: 0 })
  let base = 0
  for (let w = 0; w < n; w++) {
    const clients = Math.floor(spec.clients / n) + (w < spec.clients % n ? 1 : 0)
    workers.push(startWorker({ ...spec, clients, clientBase: spec.clientBase + base }))
    base += clients
  }
  const unregister = onCleanup(() => {
    for (const w of workers) void w.terminate()
  })
  const send = (w: Worker, c: WorkerCommand) => w.postMessage(c)

  let resolveWindow!: (w: { from: number; to: number }) => void
  let rejectWindow!: (e: Error) => void
  const window = new Promise<{ from: number; to: number }>((res, rej) => {
    resolveWindow = res
    rejectWindow = rej
  })
  window.catch(() => undefined)

  const result = new Promise<LoadResult>((resolve, reject) => {
    let ready = 0
    const done: WorkerDone[] = []
    let startAt = 0
    const readyTimer = setTimeout(() => fail(new Error(`load workers not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS)
    const fail = (e: Error) => {
      clearTimeout(readyTimer)
      for (const w of workers) void w.terminate()
      unregister()
      rejectWindow(e)
      reject(e)
    }
    workers.forEach((w, i) => {
      w.on('error', (e) => fail(e))
      w.on('message', (m: WorkerMessage) => {
        if (m.type === 'ready') {
          if (++ready === n) {
            clearTimeout(readyTimer)
            startAt = Date.now() + START_DELAY_MS
            const from = startAt + spec.warmupMs
            resolveWindow({ from, to: from + spec.durationMs })
            for (const x of workers) send(x, { type: 'start', atEpochMs: startAt })
          }
        } else if (m.type === 'progress') {
          progress[i] = { ops: m.ops, errors: m.errors }
          onProgress(
            progress.reduce((a, p) => a + p.ops, 0),
            progress.reduce((a, p) => a + p.errors, 0),
          )
        } else {
          done.push(m)
          if (done.length === n) {
            for (const x of workers) void x.terminate()
            unregister()
            const from = startAt + spec.warmupMs
            resolve(merge(done, from, from + spec.durationMs))
          }
        }
      })
    })
  })
  result.catch(() => undefined)
  return {
    window,
    result,
    stop: () => {
      for (const w of workers) send(w, { type: 'stop' })
    },
  }
}

function merge(parts: WorkerDone[], from: number, to: number): LoadResult {
  const hist = new Histogram()
  const kinds: LoadResult['kinds'] = {}
  const tags: Record<string, number> = {}
  const errorCounts: Record<string, number> = {}
  const errorSamples: string[] = []
  let ops = 0
  let errors = 0
  let elu = 0
  for (const p of parts) {
    ops += p.ops
    errors += p.errors
    hist.merge(Histogram.fromTransfer(p.hist))
    for (const [name, k] of Object.entries(p.kinds)) {
      const into = (kinds[name] ??= { ops: 0, errors: 0, hist: new Histogram() })
      into.ops += k.ops
      into.errors += k.errors
      into.hist.merge(Histogram.fromTransfer(k.hist))
    }
    for (const [t, c] of Object.entries(p.tags)) tags[t] = (tags[t] ?? 0) + c
    for (const [t, c] of Object.entries(p.errorCounts)) errorCounts[t] = (errorCounts[t] ?? 0) + c
    errorSamples.push(...p.errorSamples.slice(0, 5 - errorSamples.length))
    elu = Math.max(elu, p.eventLoopUtilization)
  }
  return { ops, errors, hist, kinds, tags, errorCounts, errorSamples, loadEventLoopUtilization: elu, measureFromEpochMs: from, measureToEpochMs: to }
}
