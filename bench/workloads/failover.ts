// Failover: kill -9 the leader under write load and time until writes succeed again.
// Load: 16 closed-loop writers plus an open-loop probe (one put every 10 ms, whatever happened to
// the previous ones), all sent to the followers, which forward to the leader. A closed-loop client
// stuck on a request the dead leader will never answer would measure its own timeout, not the
// cluster; the probe does not wait, so its first success after the kill marks the recovery to
// within 10 ms. "Writes succeed again" = the first acknowledged put whose header carries a Raft
// term above the killed leader's, measured from the kill. The killed member is restarted on its
// data and allowed to catch up before the next round; the figure is the median over the rounds.

import { HttpConnection } from '../http-client.ts'
import { Histogram, summarize } from '../histogram.ts'
import { b64, keyName, randomValueB64 } from '../keys.ts'
import { emptySeries, applyWindow } from '../measure.ts'
import type { RunContext } from '../measure.ts'
import { Sampler } from '../sampler.ts'
import type { SeriesResult } from '../types.ts'
import { sleep } from '../cluster.ts'

const WRITERS = 16
const PROBE_EVERY_MS = 10
const PROBE_CONNECTIONS_MAX = 600
const PROBE_TIMEOUT_MS = 10_000
const STEADY_BEFORE_KILL_MS = 1500
const AFTER_RECOVERY_MS = 1000
const RECOVERY_TIMEOUT_MS = 30_000
const TERM = /"raft_term":"(\d+)"/

export async function failoverWorkload(ctx: RunContext): Promise<SeriesResult[]> {
  const { cluster, opts } = ctx
  const result = emptySeries(ctx, 'failover', 'kill -9 leader', WRITERS)
  if (cluster.members.length < 3) {
    result.notes.push('skipped: failover needs at least 3 members')
    return [result]
  }
  const rounds = opts.smoke ? 1 : opts.failoverRounds
  const recoveries: number[] = []
  const newLeaderTimes: number[] = []
  const latencies = new Histogram()
  let ok = 0
  let failed = 0
  const sampler = new Sampler(cluster)
  sampler.startRss()
  const a = await sampler.mark()
  let leader = -1
  const started = Date.now()
  for (let round = 1; round <= rounds; round++) {
    leader = await cluster.leaderIndex()
    const r = await failoverRound(ctx, leader, `failover round ${round}/${rounds} · ${cluster.system}`)
    latencies.merge(r.load.hist)
    ok += r.load.acked
    failed += r.load.failed
    for (const [k, v] of Object.entries(r.load.errorCounts)) result.errorCounts[k] = (result.errorCounts[k] ?? 0) + v
    result.errorSamples.push(...r.load.errorSamples.slice(0, 5 - result.errorSamples.length))
    if (r.recoveredMs === undefined) throw new Error(`${cluster.system}: writes did not succeed within ${RECOVERY_TIMEOUT_MS} ms of killing the leader`)
    recoveries.push(r.recoveredMs)
    newLeaderTimes.push(r.newLeaderMs)
    ctx.progress.say(`  failover round ${round}: writes again after ${r.recoveredMs.toFixed(0)} ms (new leader seen after ${r.newLeaderMs.toFixed(0)} ms)`)
    await cluster.restart(leader)
    await sleep(1000) // let the restarted member catch up before the next round
  }
  const b = await sampler.mark()
  const seconds = (Date.now() - started) / 1000
  result.durationS = Math.round(seconds)
  result.ops = ok
  // requests cut off by the kill are the event being measured, not errors of the harness
  result.extra.writesFailedDuringFailover = failed
  result.opsPerS = Math.round((ok / seconds) * 10) / 10
  result.latencyMs = summarize(latencies)
  result.extra.recoveryMsMedian = Math.round(median(recoveries))
  result.extra.recoveryMsMin = Math.round(Math.min(...recoveries))
  result.extra.recoveryMsMax = Math.round(Math.max(...recoveries))
  result.extra.newLeaderMsMedian = Math.round(median(newLeaderTimes))
  result.extra.rounds = rounds
  result.extra.electionTimeoutMs = opts.electionMs
  applyWindow(result, Sampler.between(a, b, sampler.stopRss()), leader)
  // members were killed and restarted inside the window: their counters and CPU restarted with them
  result.fsyncsPerS = Number.NaN
  result.writesPerFsync = Number.NaN
  result.cpuPct = []
  delete result.extra.fsyncMeanMs
  delete result.extra.leaderChanges // the kills are the point
  result.notes.push(`recoveries ms: ${recoveries.map((x) => Math.round(x)).join(', ')}`)
  result.notes.push('ops/s and latency: the background writers over the whole run, kills and restarts included')
  return [result]
}

/** One kill under load: ms until writes succeed again (undefined: not within the timeout). */
async function failoverRound(ctx: RunContext, leader: number, label: string) {
  const { cluster, opts, progress } = ctx
  const oldTerm = (await cluster.status(leader))?.raftTerm ?? 0
  const followers = cluster.members.filter((_, i) => i !== leader).map((m) => m.clientUrl)
  const load = startWriteLoad(followers, opts.valueBytes, opts.timeoutMs)
  progress.begin(label, (STEADY_BEFORE_KILL_MS + AFTER_RECOVERY_MS) / 1000 + 2, () => `acked ${load.acked()} failed ${load.failed()}`)
  let recoveredMs: number | undefined
  let newLeaderMs = Number.NaN
  try {
    await sleep(STEADY_BEFORE_KILL_MS)
    const killedAt = performance.timeOrigin + performance.now()
    load.markKill(oldTerm, killedAt)
    await cluster.kill(leader, 'SIGKILL')
    const newLeader = cluster.leaderIndex(RECOVERY_TIMEOUT_MS, leader).then(
      () => performance.timeOrigin + performance.now() - killedAt,
      () => Number.NaN,
    )
    recoveredMs = await load.recovered(RECOVERY_TIMEOUT_MS)
    newLeaderMs = await newLeader
    if (recoveredMs !== undefined) await sleep(AFTER_RECOVERY_MS)
  } catch (e) {
    progress.end()
    await load.stop()
    throw e
  }
  progress.end()
  return { recoveredMs, newLeaderMs, load: await load.stop() }
}

export function median(xs: number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((x, y) => x - y)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

interface WriteLoad {
  markKill(oldTerm: number, atEpochMs: number): void
  /** Ms from the kill to the first put acknowledged in a newer term; undefined on timeout. */
  recovered(timeoutMs: number): Promise<number | undefined>
  acked(): number
  failed(): number
  stop(): Promise<{ hist: Histogram; acked: number; failed: number; errorCounts: Record<string, number>; errorSamples: string[] }>
}

function startWriteLoad(urls: string[], valueBytes: number, timeoutMs: number): WriteLoad {
  const value = randomValueB64(valueBytes)
  const hist = new Histogram()
  const errorCounts: Record<string, number> = {}
  const errorSamples: string[] = []
  let acked = 0
  let failed = 0
  let stopped = false
  let oldTerm = Number.POSITIVE_INFINITY
  let killedAt = 0
  let recoveredAt: number | undefined
  let seq = 0
  const put = async (conn: HttpConnection): Promise<void> => {
    const t0 = performance.now()
    try {
      const key = b64(keyName('f', seq++ % 100_000))
      const r = await conn.request('POST', '/v3/kv/put', `{"key":"${key}","value":"${value}"}`)
      const t1 = performance.now()
      if (r.status !== 200) throw Object.assign(new Error(`HTTP ${r.status} ${r.body.toString('utf8', 0, 160)}`), { code: `HTTP${r.status}` })
      acked++
      hist.recordMs(t1 - t0)
      const term = Number(TERM.exec(r.body.toString('latin1'))?.[1] ?? 0)
      if (recoveredAt === undefined && term > oldTerm) recoveredAt = performance.timeOrigin + t1
    } catch (e) {
      failed++
      const code = (e as { code?: string }).code ?? 'Error'
      errorCounts[code] = (errorCounts[code] ?? 0) + 1
      if (errorSamples.length < 5) errorSamples.push(`${code}: ${(e as Error).message}`.slice(0, 200))
    }
  }
  // closed-loop writers, each bounded by `stopped` and its request timeout
  const writers = Array.from({ length: WRITERS }, async (_, i) => {
    const conn = HttpConnection.fromUrl(urls[i % urls.length]!, timeoutMs)
    while (!stopped) {
      const before = failed
      await put(conn)
      if (failed > before) await sleep(20)
    }
    conn.close()
  })
  // open-loop probe: a put every PROBE_EVERY_MS on an idle connection (opened as needed, bounded)
  const idle: HttpConnection[][] = urls.map(() => [])
  let opened = 0
  let probeSlot = 0
  const probes = new Set<Promise<void>>()
  const probeTimer = setInterval(() => {
    const u = probeSlot++ % urls.length
    let conn = idle[u]!.pop()
    if (!conn) {
      if (opened >= PROBE_CONNECTIONS_MAX) return
      opened++
      conn = HttpConnection.fromUrl(urls[u]!, PROBE_TIMEOUT_MS)
    }
    const c = conn
    const p = put(c).then(() => {
      probes.delete(p)
      if (stopped) c.close()
      else idle[u]!.push(c)
    })
    probes.add(p)
  }, PROBE_EVERY_MS)
  return {
    markKill(term, at) {
      oldTerm = term
      killedAt = at
    },
    async recovered(limitMs) {
      const deadline = Date.now() + limitMs
      while (recoveredAt === undefined && Date.now() < deadline) await sleep(5)
      return recoveredAt === undefined ? undefined : recoveredAt - killedAt
    },
    acked: () => acked,
    failed: () => failed,
    async stop() {
      stopped = true
      clearInterval(probeTimer)
      for (const list of idle) for (const c of list) c.close()
      await Promise.all([...writers, ...probes])
      for (const list of idle) for (const c of list) c.close()
      return { hist, acked, failed, errorCounts, errorSamples }
    },
  }
}
