// The load generator's own ceiling: the put workload against a trivial server on this machine.
// Any figure measured against a real cluster well below this one is the cluster's, not the
// generator's.

import { join } from 'node:path'
import { freePort, ROOT, sleep } from '../cluster.ts'
import { getText } from '../http-client.ts'
import { summarize } from '../histogram.ts'
import { runLoad } from '../load/pool.ts'
import type { BenchOptions, SeriesResult } from '../types.ts'
import { startChild, stopChild } from '../procs.ts'
import { cpuSeconds } from '../proc-stats.ts'
import { blankSeries } from '../measure.ts'
import type { Progress } from '../progress.ts'
import { sleepUntil } from '../measure.ts'

export async function ceilingWorkload(opts: BenchOptions, progress: Progress): Promise<SeriesResult[]> {
  const port = await freePort()
  const server = startChild(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/trivial-server.ts'), String(port)], { ...process.env }, ROOT)
  const url = `http://127.0.0.1:${port}`
  const out: SeriesResult[] = []
  try {
    for (let i = 0; i < 200; i++) {
      if (server.exited()) throw new Error(`trivial server exited: ${server.stderrTail()}`)
      const up = await getText(url, '/', 500).then(() => true, () => false)
      if (up) break
      await sleep(50)
    }
    for (const clients of opts.clients ?? [64, 256]) {
      let ops = 0
      progress.begin(`ceiling clients=${clients}`, opts.warmupS + opts.durationS, () => `ops ${ops}`)
      const handle = runLoad(
        { op: 'ceiling', params: { valueBytes: opts.valueBytes }, endpoints: [url], clients, clientBase: 0, warmupMs: opts.warmupS * 1000, durationMs: opts.durationS * 1000, timeoutMs: opts.timeoutMs },
        opts.threads,
        (o) => (ops = o),
      )
      const w = await handle.window
      await sleepUntil(w.from)
      const cpu0 = cpuSeconds(server.pid)
      const self0 = process.cpuUsage()
      await sleepUntil(w.to)
      const cpu1 = cpuSeconds(server.pid)
      const self1 = process.cpuUsage(self0)
      const load = await handle.result
      progress.end()
      const r = blankSeries('cairn', 0, 'ceiling', `trivial server clients=${clients}`, clients)
      r.durationS = opts.durationS
      r.ops = load.ops
      r.errors = load.errors
      r.opsPerS = Math.round(load.ops / opts.durationS)
      r.latencyMs = summarize(load.hist)
      r.loadgen = {
        cpuPct: Math.round(((self1.user + self1.system) / 1e6 / opts.durationS) * 100),
        eventLoopUtilization: Math.round(load.loadEventLoopUtilization * 100) / 100,
      }
      r.cpuPct = [Math.round(((cpu1 - cpu0) / opts.durationS) * 100)]
      r.errorCounts = load.errorCounts
      r.errorSamples = load.errorSamples
      r.notes.push(`load threads ${opts.threads}; cpuPct = the trivial server's CPU`)
      out.push(r)
    }
  } finally {
    progress.end()
    await stopChild(server, 'SIGKILL')
  }
  return out
}
