// Scale: load N keys (txns of 100 puts, 16 at a time), then measure memory per member, single-key
// get latency over the large keyspace (serializable and linearizable), one count over all keys,
// and the time a killed member takes to serve again after a restart on its data.

import { postJson } from '../http-client.ts'
import { Histogram, summarize } from '../histogram.ts'
import { b64, keyName, prefixEnd } from '../keys.ts'
import { applyWindow, emptySeries, measureLoad } from '../measure.ts'
import type { RunContext } from '../measure.ts'
import { Sampler } from '../sampler.ts'
import type { SeriesResult } from '../types.ts'
import { sleep } from '../cluster.ts'
import { loadKeys } from './kv.ts'

const LOADERS = 16
const COUNT_RUNS = 3
const SETTLE_MS = 2000

export async function scaleWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const keys = ctx.opts.smoke ? Math.min(ctx.opts.scaleKeys, 5000) : ctx.opts.scaleKeys
  const leader = await ctx.cluster.leaderIndex()
  const out: SeriesResult[] = [await loadPhase(ctx, keys, leader)]
  await sleep(SETTLE_MS)
  const rssAfterLoad = ctx.cluster.members.map((_, i) => Math.round(ctx.cluster.rssMiB(i) * 10) / 10)
  const status = await postJson(ctx.cluster.members[leader]!.clientUrl, '/v3/maintenance/status', {})
  const dbSize = Number((status.json as { dbSize?: string } | undefined)?.dbSize ?? Number.NaN)
  for (const r of await getPhase(ctx, keys)) {
    r.extra.rssAfterLoadMaxMiB = Math.max(...rssAfterLoad)
    r.extra.dbSizeMiB = Math.round((dbSize / 1048576) * 10) / 10
    out.push(r)
  }
  const count = await countPhase(ctx, keys, leader)
  count.rssMiB = rssAfterLoad
  out.push(count, await restartPhase(ctx, keys, leader))
  return out
}

async function loadPhase(ctx: RunContext, keys: number, leader: number): Promise<SeriesResult> {
  const { cluster, opts, progress } = ctx
  const load = emptySeries(ctx, 'scale', `load keys=${keys}`, LOADERS)
  const sampler = new Sampler(cluster)
  sampler.startRss()
  const a = await sampler.mark()
  let loaded = 0
  const t0 = performance.now()
  progress.begin(`scale load ${keys} keys · ${cluster.system}`, keys / 5000, () => `keys ${loaded}`)
  let stats
  try {
    stats = await loadKeys(cluster.members[leader]!.clientUrl, 's', keys, opts.valueBytes, LOADERS, (n) => (loaded = n))
  } finally {
    progress.end()
  }
  if (stats.retries > 0) {
    load.extra.loadRetries = stats.retries
    load.notes.push(`${stats.retries} txn(s) had to be sent again: ${stats.retrySamples.join(' | ')}`)
  }
  const loadS = (performance.now() - t0) / 1000
  const b = await sampler.mark()
  load.durationS = Math.round(loadS * 10) / 10
  load.ops = keys
  load.opsPerS = Math.round(keys / loadS)
  applyWindow(load, Sampler.between(a, b, sampler.stopRss()), leader)
  load.notes.push('ops = keys written (txns of 100 puts)')
  return load
}

/** Single-key gets spread over the whole loaded keyspace. */
async function getPhase(ctx: RunContext, keys: number): Promise<SeriesResult[]> {
  const durationS = ctx.opts.smoke ? Math.min(ctx.opts.durationS, 2) : Math.min(ctx.opts.durationS, 10)
  const out: SeriesResult[] = []
  for (const serializable of [true, false]) {
    out.push(
      await measureLoad(ctx, {
        workload: 'scale',
        series: `get ${serializable ? 'serializable' : 'linearizable'} keys=${keys}`,
        op: 'range',
        params: { hotKeys: keys, family: 's', serializable },
        clients: 16,
        durationS,
        warmupS: 0.5,
      }),
    )
  }
  return out
}

/** One count over every key (a full scan of the index), a few times. */
async function countPhase(ctx: RunContext, keys: number, leader: number): Promise<SeriesResult> {
  const count = emptySeries(ctx, 'scale', `count all keys=${keys}`, 1)
  const h = new Histogram()
  for (let i = 0; i < COUNT_RUNS; i++) {
    const s = performance.now()
    const body = { key: b64('s'), range_end: b64(prefixEnd('s')), count_only: true, serializable: true }
    const r = await postJson(ctx.cluster.members[leader]!.clientUrl, '/v3/kv/range', body, 60_000)
    const ms = performance.now() - s
    const n = Number((r.json as { count?: string } | undefined)?.count ?? -1)
    if (r.status !== 200 || n !== keys) {
      count.errors++
      count.errorSamples.push(`count: HTTP ${r.status}, count ${n}, expected ${keys}`)
    } else {
      count.ops++
      h.recordMs(ms)
    }
  }
  count.latencyMs = summarize(h)
  return count
}

/** Kills a member (a follower when there is one), restarts it, times until it serves the last key. */
async function restartPhase(ctx: RunContext, keys: number, leader: number): Promise<SeriesResult> {
  const { cluster } = ctx
  const victim = cluster.members.length > 1 ? (leader + 1) % cluster.members.length : 0
  const restart = emptySeries(ctx, 'scale', `restart keys=${keys}`, 0)
  await cluster.kill(victim, 'SIGKILL')
  const restartMs = await cluster.restart(victim, 120_000)
  // serving = /health 200 (leader known and a linearizable read succeeded) and the last key readable
  const t1 = performance.now()
  const lastKey = b64(keyName('s', keys - 1))
  let found = false
  for (let i = 0; i < 600 && !found; i++) {
    const r = await postJson(cluster.members[victim]!.clientUrl, '/v3/kv/range', { key: lastKey, serializable: true }, 5000).catch(() => undefined)
    found = r?.status === 200 && JSON.stringify(r.json).includes('"kvs"')
    if (!found) await sleep(50)
  }
  restart.extra.restartToHealthyMs = Math.round(restartMs)
  restart.extra.restartToCaughtUpMs = Math.round(restartMs + (performance.now() - t1))
  restart.rssMiB = cluster.members.map((_, i) => Math.round(cluster.rssMiB(i) * 10) / 10)
  if (!found) {
    restart.errors++
    restart.errorSamples.push('restarted member never served the last loaded key')
  }
  restart.notes.push(`member ${victim + 1} killed with SIGKILL and restarted on its data`)
  return restart
}
