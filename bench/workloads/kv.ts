// The closed-loop workloads: put (v3, and v2 when the system serves it), range (linearizable and
// serializable gets of hot keys), txn (compare-and-swap on contended keys) and lease churn.

import { postJson } from '../http-client.ts'
import { b64, keyName, randomValueB64 } from '../keys.ts'
import { measureLoad } from '../measure.ts'
import type { RunContext } from '../measure.ts'
import type { SeriesResult } from '../types.ts'

const LOAD_BATCH_PUTS = 100

export function clientCounts(ctx: RunContext, fallback: number[]): number[] {
  if (ctx.opts.clients) return ctx.opts.clients
  if (ctx.opts.smoke) return [16]
  return fallback
}

const LOAD_RETRY_MS_MAX = 30_000

export interface LoadStats {
  /** Txns that had to be sent again (no leader, timeout …), and a few of the answers. */
  retries: number
  retrySamples: string[]
}

/**
 * Writes `count` keys of a family through txns of up to 100 puts, `parallel` txns at a time. A txn
 * refused for want of a leader is sent again with backoff for up to 30 s (puts are idempotent here);
 * the retries are counted, since a leader lost under load is itself a finding.
 */
export async function loadKeys(url: string, family: string, count: number, valueBytes: number, parallel = 1, onProgress?: (done: number) => void): Promise<LoadStats> {
  const value = randomValueB64(valueBytes)
  const stats: LoadStats = { retries: 0, retrySamples: [] }
  let next = 0
  let done = 0
  const sendBatch = async (success: unknown[]) => {
    const deadline = Date.now() + LOAD_RETRY_MS_MAX
    // bounded by the deadline; the backoff doubles up to 1 s
    for (let backoffMs = 100; ; backoffMs = Math.min(1000, backoffMs * 2)) {
      const r = await postJson(url, '/v3/kv/txn', { success }, 30_000).catch((e: Error) => ({ status: 0, json: e.message }))
      if (r.status === 200) return
      const why = `HTTP ${r.status} ${JSON.stringify(r.json).slice(0, 200)}`
      if (Date.now() + backoffMs > deadline) throw new Error(`loading ${family} keys failed for ${LOAD_RETRY_MS_MAX} ms after ${done} keys: ${why}`)
      stats.retries++
      if (stats.retrySamples.length < 5) stats.retrySamples.push(`after ${done} keys: ${why}`)
      await new Promise((res) => setTimeout(res, backoffMs))
    }
  }
  const loader = async () => {
    // bounded: each iteration claims a batch; there are ceil(count / batch) batches
    while (next < count) {
      const from = next
      const to = Math.min(count, from + LOAD_BATCH_PUTS)
      next = to
      const success = []
      for (let i = from; i < to; i++) success.push({ request_put: { key: b64(keyName(family, i)), value } })
      await sendBatch(success)
      done += to - from
      onProgress?.(done)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, parallel) }, loader))
  return stats
}

export async function putWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const out: SeriesResult[] = []
  const params = { keySpace: ctx.opts.keySpace, valueBytes: ctx.opts.valueBytes }
  for (const clients of clientCounts(ctx, ctx.opts.full ? [1, 16, 64, 256] : [64])) {
    out.push(await measureLoad(ctx, { workload: 'put', series: `v3 clients=${clients}`, op: 'put', params, clients }))
  }
  return out
}

/** The v2 series of put: run only when asked to (the caller checks that Cairn serves /v2/keys). */
export async function putV2Workload(ctx: RunContext): Promise<SeriesResult[]> {
  const out: SeriesResult[] = []
  const params = { keySpace: ctx.opts.keySpace, valueBytes: ctx.opts.valueBytes }
  for (const clients of clientCounts(ctx, ctx.opts.full ? [16, 64] : [64])) {
    out.push(await measureLoad(ctx, { workload: 'put', series: `v2 clients=${clients}`, op: 'put-v2', params, clients }))
  }
  return out
}

export const HOT_KEYS = 100

export async function rangeWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const leader = await ctx.cluster.leaderIndex()
  await loadKeys(ctx.cluster.members[leader]!.clientUrl, 'h', HOT_KEYS, ctx.opts.valueBytes)
  const out: SeriesResult[] = []
  const durationS = ctx.opts.smoke ? Math.min(ctx.opts.durationS, 3) : ctx.opts.durationS
  for (const clients of clientCounts(ctx, [64])) {
    for (const serializable of [false, true]) {
      out.push(
        await measureLoad(ctx, {
          workload: 'range',
          series: `${serializable ? 'serializable' : 'linearizable'} clients=${clients}`,
          op: 'range',
          params: { hotKeys: HOT_KEYS, serializable },
          clients,
          durationS,
        }),
      )
    }
  }
  return out
}

export const CONTENDED_KEYS = 8

export async function txnWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const leader = await ctx.cluster.leaderIndex()
  await loadKeys(ctx.cluster.members[leader]!.clientUrl, 'c', CONTENDED_KEYS, ctx.opts.valueBytes)
  const out: SeriesResult[] = []
  for (const clients of clientCounts(ctx, [64])) {
    const r = await measureLoad(ctx, {
      workload: 'txn',
      series: `cas keys=${CONTENDED_KEYS} clients=${clients}`,
      op: 'txn',
      params: { contendedKeys: CONTENDED_KEYS, valueBytes: ctx.opts.valueBytes },
      clients,
    })
    const ok = r.extra['cas-succeeded'] ?? 0
    const failed = r.extra['cas-failed'] ?? 0
    r.extra.casSucceededPerS = Math.round((ok / r.durationS) * 10) / 10
    r.extra.casSuccessRatio = ok + failed > 0 ? Math.round((ok / (ok + failed)) * 1000) / 1000 : Number.NaN
    out.push(r)
  }
  return out
}

export async function leaseWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const out: SeriesResult[] = []
  for (const clients of clientCounts(ctx, [64])) {
    out.push(
      await measureLoad(ctx, {
        workload: 'lease',
        series: `grant+3 keepalive+revoke clients=${clients}`,
        op: 'lease',
        params: { keepalives: 3, ttlSeconds: 30 },
        clients,
      }),
    )
  }
  // leases left behind by clients cut off at the window's end expire by themselves (TTL 30 s)
  return out
}

/** Checks that a key written through the API can be read back (used by the smoke run). */
export async function sanityPut(url: string): Promise<void> {
  const r = await postJson(url, '/v3/kv/put', { key: b64('bench-sanity'), value: b64('ok') })
  if (r.status !== 200) throw new Error(`sanity put failed: HTTP ${r.status} ${JSON.stringify(r.json)}`)
}
