// Watch delivery latency: W watchers on one key, spread over up to 100 WebSocket connections to one
// member (a follower when there is one), and one writer putting that key at a fixed rate through
// the leader. On the leader itself the event is usually delivered before the put's answer leaves,
// which would make "after the ack" read 0; on a follower it measures commit propagation + fan-out.
// Both systems serve the same shape at ws://HOST/v3/watch — Cairn natively, etcd 3.4 through its
// gRPC-gateway WebSocket proxy — with many watches per socket, JSON frames {"result": …}.
// Latency = delivery time − the put's acknowledgement time (0 when the event beats the ack), per
// watcher and revision; send→delivery is reported beside it.

import WebSocket from 'ws'
import { HttpConnection } from '../http-client.ts'
import { Histogram, summarize as summarizeHistogram } from '../histogram.ts'
import { b64, randomValueB64 } from '../keys.ts'
import { applyWindow, emptySeries, sleepUntil } from '../measure.ts'
import type { RunContext } from '../measure.ts'
import { onCleanup } from '../procs.ts'
import { Sampler } from '../sampler.ts'
import type { SeriesResult } from '../types.ts'

const CONNECTIONS_MAX = 100
/** Events delivered per second across all watchers are capped by slowing the writer. */
const EVENTS_PER_SECOND_MAX = 20_000
const PUTS_PER_SECOND_MAX = 50
const SETUP_TIMEOUT_MS = 60_000
const DRAIN_TIMEOUT_MS = 10_000
const WATCH_KEY = b64('watched-key')
const MOD_REVISION = /"mod_revision":"(\d+)"/g

export function watcherCounts(ctx: RunContext): number[] {
  if (ctx.opts.watchers) return ctx.opts.watchers
  return ctx.opts.smoke ? [1, 100, 1000] : [1, 100, 10_000]
}

export async function watchWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const out: SeriesResult[] = []
  for (const w of watcherCounts(ctx)) out.push(await watchSeries(ctx, w))
  return out
}

interface Put {
  sentMs: number
  ackMs: number
}

/** Everything the watchers saw, appended as frames arrive. */
class Deliveries {
  readonly revisions: number[] = []
  readonly atMs: number[] = []
  created = 0
  errors = 0
  readonly samples: string[] = []

  noteError(message: string): void {
    this.errors++
    if (this.samples.length < 5) this.samples.push(message)
  }

  measuredCount(puts: Map<number, Put>): number {
    let n = 0
    for (const r of this.revisions) if (puts.has(r)) n++
    return n
  }
}

async function watchSeries(ctx: RunContext, watchers: number): Promise<SeriesResult> {
  const { cluster, opts } = ctx
  const leader = await cluster.leaderIndex()
  const watched = cluster.members.length > 1 ? (leader + 1) % cluster.members.length : leader
  const result = emptySeries(ctx, 'watch', `watchers=${watchers}`, 1)
  const seen = new Deliveries()
  const sockets: WebSocket[] = []
  const unregister = onCleanup(() => sockets.forEach((s) => s.terminate()))
  const writer = HttpConnection.fromUrl(cluster.members[leader]!.clientUrl, opts.timeoutMs)
  try {
    const setupStarted = performance.now()
    const conns = Math.min(watchers, CONNECTIONS_MAX)
    for (let c = 0; c < conns; c++) {
      const n = Math.floor(watchers / conns) + (c < watchers % conns ? 1 : 0)
      sockets.push(openWatchSocket(cluster.members[watched]!.clientUrl, n, seen))
    }
    const setupDeadline = Date.now() + SETUP_TIMEOUT_MS
    while (seen.created < watchers && Date.now() < setupDeadline && seen.errors === 0) await sleep(20)
    if (seen.created < watchers) throw new Error(`only ${seen.created} of ${watchers} watchers created (${seen.samples.join('; ')})`)
    result.extra.setupMs = Math.round(performance.now() - setupStarted)

    const rate = Math.max(1, Math.min(PUTS_PER_SECOND_MAX, Math.floor(EVENTS_PER_SECOND_MAX / watchers)))
    const driven = await drivePuts(ctx, `watch watchers=${watchers}`, writer, rate, seen)
    // wait for the last deliveries
    const expected = driven.puts.size * watchers
    const drainDeadline = Date.now() + DRAIN_TIMEOUT_MS
    while (seen.measuredCount(driven.puts) < expected && Date.now() < drainDeadline) await sleep(50)

    summarize(result, seen, driven.puts, expected, driven.durationS)
    result.errors += driven.putErrors
    if (result.errors > 0) result.errorCounts = { lostEvents: result.extra.lostEvents ?? 0, putErrors: driven.putErrors, socketErrors: seen.errors }
    result.errorSamples = seen.samples
    result.extra.putsPerS = rate
    applyWindow(result, driven.window, leader)
    result.extra.watchMemberRssMiB = result.rssMiB[watched] ?? Number.NaN
    result.notes.push(
      `watchers on member ${watched + 1} (${watched === leader ? 'the leader' : 'a follower'}) over ${conns} WebSocket connection(s); writer ${rate} puts/s to the leader; ${result.extra.ackToDeliveryZeroPct} % of events arrived before the put's answer (counted as 0 ms)`,
    )
    return result
  } finally {
    ctx.progress.end()
    writer.close()
    for (const s of sockets) s.terminate()
    unregister()
  }
}

/** Puts the watched key `rate` times a second through the warm-up and the window; samples the servers. */
async function drivePuts(ctx: RunContext, label: string, writer: HttpConnection, rate: number, seen: Deliveries) {
  const { cluster, opts, progress } = ctx
  const durationS = opts.smoke ? Math.min(opts.durationS, 2) : opts.durationS
  const warmupS = opts.smoke ? 0.5 : Math.max(1, opts.warmupS)
  const puts = new Map<number, Put>()
  const value = randomValueB64(opts.valueBytes)
  const sampler = new Sampler(cluster)
  let putErrors = 0
  const startMs = Date.now()
  const measureFrom = startMs + warmupS * 1000
  const measureTo = measureFrom + durationS * 1000
  progress.begin(`${label} · ${cluster.system}`, warmupS + durationS, () => `puts ${puts.size} events ${seen.revisions.length} rate ${rate}/s`)
  const marks = (async () => {
    await sleepUntil(measureFrom)
    sampler.startRss()
    const a = await sampler.mark()
    await sleepUntil(measureTo)
    const b = await sampler.mark()
    return [a, b] as const
  })()
  // bounded by measureTo: one put per slot
  for (let slot = 0; ; slot++) {
    const at = startMs + (slot * 1000) / rate
    if (at >= measureTo) break
    await sleepUntil(at)
    const sentEpoch = performance.timeOrigin + performance.now()
    try {
      const r = await writer.request('POST', '/v3/kv/put', `{"key":"${WATCH_KEY}","value":"${value}"}`)
      const ackEpoch = performance.timeOrigin + performance.now()
      const rev = /"revision":"(\d+)"/.exec(r.body.toString('latin1'))
      if (r.status !== 200 || !rev) {
        putErrors++
        continue
      }
      if (sentEpoch >= measureFrom) puts.set(Number(rev[1]), { sentMs: sentEpoch, ackMs: ackEpoch })
    } catch (e) {
      putErrors++
      if (seen.samples.length < 5) seen.samples.push(`put: ${(e as Error).message}`)
    }
  }
  const [a, b] = await marks
  const window = Sampler.between(a, b, sampler.stopRss())
  progress.end()
  return { puts, putErrors, durationS, window }
}

/** Latency after the put's answer (0 when the event came first) and after the put was sent. */
function summarize(result: SeriesResult, seen: Deliveries, puts: Map<number, Put>, expected: number, durationS: number): void {
  const ackToDelivery = new Histogram()
  const sendToDelivery = new Histogram()
  let zeroes = 0
  for (let i = 0; i < seen.revisions.length; i++) {
    const p = puts.get(seen.revisions[i]!)
    if (!p) continue
    const at = seen.atMs[i]!
    if (at <= p.ackMs) zeroes++
    ackToDelivery.recordMs(Math.max(0, at - p.ackMs))
    sendToDelivery.recordMs(at - p.sentMs)
  }
  const delivered = ackToDelivery.count
  result.durationS = durationS
  result.ops = delivered
  result.opsPerS = Math.round((delivered / durationS) * 10) / 10
  result.latencyMs = summarizeHistogram(ackToDelivery)
  const s2d = summarizeHistogram(sendToDelivery)
  result.extra.sendToDeliveryP50Ms = s2d.p50
  result.extra.sendToDeliveryP99Ms = s2d.p99
  result.extra.lostEvents = Math.max(0, expected - delivered)
  result.extra.ackToDeliveryZeroPct = Math.round((zeroes / Math.max(1, delivered)) * 1000) / 10
  result.errors = result.extra.lostEvents + seen.errors
}

function openWatchSocket(clientUrl: string, watchers: number, seen: Deliveries): WebSocket {
  const ws = new WebSocket(`${clientUrl.replace(/^http/, 'ws')}/v3/watch`, { perMessageDeflate: false })
  ws.on('open', () => {
    for (let i = 0; i < watchers; i++) ws.send(`{"create_request":{"key":"${WATCH_KEY}"}}`)
  })
  ws.on('message', (data: Buffer) => {
    const at = performance.timeOrigin + performance.now()
    const text = data.toString('latin1')
    if (text.includes('"created":true')) seen.created++
    if (!text.includes('"events"')) {
      if (text.includes('"canceled":true') || text.includes('"error"')) seen.noteError(`watch: ${text.slice(0, 200)}`)
      return
    }
    MOD_REVISION.lastIndex = 0
    for (let guard = 0; guard < 10_000; guard++) {
      const m = MOD_REVISION.exec(text)
      if (!m) break
      seen.revisions.push(Number(m[1]))
      seen.atMs.push(at)
    }
  })
  ws.on('error', (e) => seen.noteError(`socket: ${e.message}`))
  ws.on('close', (code) => {
    if (code !== 1005 && code !== 1006 && code !== 1000) seen.noteError(`socket closed with code ${code}`)
  })
  return ws
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
