// lock: clients take the lock recipe (recipes/lock, sessions with a short lease) under faults and,
// while they hold it, write to a shared resource that checks fencing tokens. Unlike the other workloads
// these clients are the real client library (core/client) with the recipe on top, each reaching the
// members through proxies of its own, so that the nemesis can pause one (`pause-client`: cut off from
// every member for longer than its lease TTL, as a stopped process or a long GC pause would be).
//
// Checks:
//  - mutual exclusion: no two holds' critical sections overlap in time. A critical section runs from
//    the moment acquire() returned to the moment the holder stopped (before it released) or was told it
//    had lost the lock (hold.signal). All clients run in this process, so their times compare exactly.
//    A correct recipe tells a holder its session is gone no later than the server expires the lease
//    (docs/locks.md), and nobody else can be granted the lock before that.
//  - the fenced resource (in the store): a write with token t is accepted only if no token above t was
//    accepted before (one txn compares and writes the fence key), and each accepted write adds a key to
//    the resource's log. At the end, on every member, the log in revision order has non-decreasing
//    tokens (no stale token accepted, no two holders' accepted writes interleaved), every acknowledged
//    accepted write is there, nothing is there that nobody wrote, and the fence holds the highest token.
//
// With the skip-lease-recheck failpoint (recipes/lock/failpoints.ts) a waiter whose lease ran out while
// it was paused goes on to hold when its predecessor leaves: the first check catches two holders.

import { sleep } from '../../cluster/harness.ts'
import { Client as StoreClient, compare, DeadlineExceededError, op, OutcomeUnknownError } from '../../../core/client/index.ts'
import { encodeToken, Lock } from '../../../recipes/lock/index.ts'
import type { LockHold } from '../../../recipes/lock/index.ts'
import { b64, prefixEnd, unb64 } from '../http.ts'
import type { RangeAnswer } from '../http.ts'
import { LinkProxy } from '../proxy.ts'
import { answeredByEach, emptyResult, newCounts } from '../workload.ts'
import type { ClientPause, OpCounts, RunContext, Workload, WorkloadResult } from '../workload.ts'

/** The lock's session TTL: short, so that a paused client's lease runs out within a fault step. */
export const LOCK_TTL_SECONDS = 2
/** A pause-client fault lasts this long: past the TTL, the server's expiry check and a leader change's extension. */
export const CLIENT_PAUSE_MS_MIN = 4_000
export const CLIENT_PAUSE_MS_MAX = 5_500

const LOCK_NAME = 'lock/mutex'
const FENCE_KEY = 'lock/resource/fence'
const LOG_PREFIX = 'lock/resource/log/'
const HOLD_MS_MIN = 150
const HOLD_MS_MAX = 700
/** Long enough to outlast a client pause while waiting in line (a shorter one would hide etcd#11456). */
const ACQUIRE_TIMEOUT_MS = 20_000
const CALL_TIMEOUT_MS = 3_000

type Phase = 'idle' | 'queued' | 'holding'

interface LockClient {
  index: number
  store: StoreClient
  /** proxies[m]: this client's route to member m. */
  proxies: LinkProxy[]
  phase: Phase
  paused: boolean
}

/** One granted hold, as its holder lived it. */
interface HoldRecord {
  client: number
  token: number
  key: string
  /** acquire() returned. */
  start: number
  /** The holder stopped (before release) or was told it had lost the lock. */
  end: number
  how: 'released' | 'lost'
  lossReason: string | undefined
}

interface ResourceWrite {
  client: number
  token: number
  logKey: string
  call: number
  ret: number
  outcome: 'accepted' | 'refused' | 'failed' | 'unknown'
  revision: number
  /** Whether the writer's own lock key existed at the write's revision. */
  ownKeyPresent: boolean | undefined
}

export class LockWorkload implements Workload {
  readonly name = 'lock'
  readonly counts = newCounts()
  readonly holds: HoldRecord[] = []
  readonly writes: ResourceWrite[] = []
  private clients: LockClient[] = []
  private acquireFailures = new Map<string, number>()

  constructor(private readonly o: { clients: number }) {}

  async run(ctx: RunContext): Promise<void> {
    this.clients = await Promise.all([...Array(this.o.clients).keys()].map((i) => this.makeClient(ctx, i)))
    const stop = new AbortController()
    const poll = setInterval(() => {
      if (ctx.stopping()) stop.abort()
    }, 100)
    try {
      await Promise.all(this.clients.map((c) => this.loop(ctx, c, stop.signal)))
    } finally {
      clearInterval(poll)
    }
  }

  private async makeClient(ctx: RunContext, index: number): Promise<LockClient> {
    const proxies: LinkProxy[] = []
    for (const m of ctx.cluster.members) {
      const proxy = new LinkProxy(100 + index, m.index, Number(new URL(m.clientUrl).port))
      await proxy.listen(0)
      proxies.push(proxy)
    }
    // Each client starts on a different member and fails over to the next.
    const endpoints = proxies.map((p) => `http://127.0.0.1:${p.port}`)
    const rotated = [...endpoints.slice(index % endpoints.length), ...endpoints.slice(0, index % endpoints.length)]
    const store = new StoreClient({ endpoints: rotated, callTimeoutMs: CALL_TIMEOUT_MS, dialTimeoutMs: 1_000 })
    return { index, store, proxies, phase: 'idle', paused: false }
  }

  private async loop(ctx: RunContext, c: LockClient, stop: AbortSignal): Promise<void> {
    for (let n = 0; n < 100_000 && !stop.aborted; n++) {
      await this.round(ctx, c, stop)
      await sleep(ctx.prng.int(0, 60))
    }
  }

  /** Waits for the lock, writes to the resource a few times while holding it, releases it. */
  private async round(ctx: RunContext, c: LockClient, stop: AbortSignal): Promise<void> {
    const lock = new Lock(c.store, LOCK_NAME, { ttlSeconds: LOCK_TTL_SECONDS })
    c.phase = 'queued'
    let hold: LockHold
    try {
      hold = await lock.acquire({ signal: stop, timeoutMs: ACQUIRE_TIMEOUT_MS })
    } catch (e) {
      c.phase = 'idle'
      if (!stop.aborted) {
        // The client library moves on only from a member it could not reach; behind its proxy a dead
        // member looks reachable (the proxy accepts, then resets), so move on after any failure, as
        // the other workloads' clients do.
        c.store.transport.failover()
        this.count(this.counts, e)
        const name = (e as Error).constructor?.name || 'Error'
        this.acquireFailures.set(name, (this.acquireFailures.get(name) ?? 0) + 1)
        await sleep(ctx.prng.int(50, 200))
      }
      return
    }
    this.counts.ok++
    const record: HoldRecord = { client: c.index, token: hold.fencingToken, key: hold.key, start: ctx.now(), end: Infinity, how: 'released', lossReason: undefined }
    this.holds.push(record)
    c.phase = 'holding'
    const onLost = () => {
      if (record.end !== Infinity) return
      record.end = ctx.now()
      record.how = 'lost'
      record.lossReason = (hold.signal.reason as Error | undefined)?.message
    }
    hold.signal.addEventListener('abort', onLost, { once: true })
    if (hold.signal.aborted) onLost()
    const until = record.start + ctx.prng.int(HOLD_MS_MIN, HOLD_MS_MAX)
    for (let seq = 0; hold.isHeld && ctx.now() < until && !stop.aborted; seq++) {
      await this.write(ctx, c, hold, seq)
      await sleep(ctx.prng.int(10, 80))
    }
    if (record.end === Infinity) record.end = ctx.now()
    hold.signal.removeEventListener('abort', onLost)
    c.phase = 'idle'
    try {
      await hold.release({ timeoutMs: CALL_TIMEOUT_MS })
      this.counts.ok++
    } catch (e) {
      this.count(this.counts, e)
    }
  }

  /** One write to the fenced resource: refused if a higher token was accepted before. */
  private async write(ctx: RunContext, c: LockClient, hold: LockHold, seq: number): Promise<void> {
    const token = hold.fencingToken
    const logKey = `${LOG_PREFIX}${encodeToken(token)}/${c.index}/${seq}`
    const w: ResourceWrite = { client: c.index, token, logKey, call: ctx.now(), ret: 0, outcome: 'unknown', revision: 0, ownKeyPresent: undefined }
    this.writes.push(w)
    try {
      const r = await c.store
        .txn()
        .if(compare.value(FENCE_KEY, '>', encodeToken(token)))
        .then(op.get(FENCE_KEY), op.get(hold.key))
        .else(op.put(FENCE_KEY, encodeToken(token)), op.put(logKey, String(token)), op.get(hold.key))
        .commit({ timeoutMs: CALL_TIMEOUT_MS })
      const own = r.responses.at(-1)
      w.ownKeyPresent = own?.kind === 'range' ? own.range.kvs.some((kv) => kv.createRevision === token) : undefined
      w.outcome = r.succeeded ? 'refused' : 'accepted'
      w.revision = r.header.revision
      this.counts.ok++
    } catch (e) {
      c.store.transport.failover()
      w.outcome = this.count(this.counts, e) === 'fail' ? 'failed' : 'unknown'
    }
    w.ret = ctx.now()
  }

  /** Counts a failed call: unknown outcome (the write may still land) or certainly not applied. */
  private count(counts: OpCounts, e: unknown): 'fail' | 'indeterminate' {
    const unknown = e instanceof OutcomeUnknownError || e instanceof DeadlineExceededError
    counts[unknown ? 'indeterminate' : 'fail']++
    return unknown ? 'indeterminate' : 'fail'
  }

  pauseClient(pick: number): ClientPause | undefined {
    const free = this.clients.filter((c) => !c.paused)
    // A client waiting in line is the one etcd#11456 is about; else any.
    const waiting = free.filter((c) => c.phase === 'queued')
    const pool = waiting.length > 0 ? waiting : free
    const c = pool[Math.floor(pick * pool.length)]
    if (c === undefined) return undefined
    const phase = c.phase
    c.paused = true
    for (const p of c.proxies) p.setMode({ kind: 'blackhole' })
    return {
      what: `lock client ${c.index} (${phase === 'queued' ? 'waiting in line' : phase}) cut off from every member`,
      heal: () => {
        for (const p of c.proxies) p.setMode({ kind: 'pass' })
        c.paused = false
      },
    }
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    this.checkExclusion(result)
    await this.checkResource(ctx, result)
    const lost = this.holds.filter((h) => h.how === 'lost').length
    const clients = new Set(this.holds.map((h) => h.client)).size
    const by = (o: ResourceWrite['outcome']) => this.writes.filter((w) => w.outcome === o).length
    const failures = [...this.acquireFailures].map(([k, n]) => `${k} ${n}`).join(', ')
    result.notes.push(
      `lock: ${this.holds.length} holds by ${clients} clients (${lost} ended by a loss notice), acquire failures: ${failures || 'none'}; ` +
        `resource writes: ${by('accepted')} accepted, ${by('refused')} refused by the fence, ${by('unknown')} unknown, ${by('failed')} failed`,
    )
    const lateAccepted = this.writes.filter((w) => w.outcome === 'accepted' && w.ownKeyPresent === false).length
    if (lateAccepted > 0) {
      result.notes.push(`lock: ${lateAccepted} writes accepted after the writer's key was gone (a delayed write; fencing refuses it only once a later holder has written)`)
    }
    if (this.holds.length === 0) result.warnings.push('lock: nobody ever held the lock (liveness)')
    return result
  }

  /** No two critical sections overlap. */
  private checkExclusion(result: WorkloadResult): void {
    const overlaps = overlappingPairs(this.holds)
    if (overlaps.length === 0) return
    result.linearizable = false
    const goneAt = (h: HoldRecord) => this.writes.filter((w) => w.token === h.token && w.client === h.client && w.ownKeyPresent === false)
    const describe = (h: HoldRecord) => {
      const gone = goneAt(h)
      const accepted = gone.filter((w) => w.outcome === 'accepted').length
      return (
        `  client ${h.client} (token ${h.token}) held [${h.start.toFixed(0)}, ${h.end.toFixed(0)}] ms` +
        (h.how === 'lost' ? ` until told: ${h.lossReason}` : '') +
        (gone.length > 0 ? `; its own key was gone at ${gone.length} of its writes (from revision ${gone[0]!.revision}), ${accepted} of them accepted by the resource` : '')
      )
    }
    const evidence = overlaps.slice(0, 5).map(([a, b]) => `${describe(a)}\n${describe(b)}`)
    result.problems.push(`lock: two holders at once (critical sections overlap), ${overlaps.length} times, e.g.:\n${evidence.join('\n  --\n')}`)
  }

  /** The resource's log on every member: tokens never go down in revision order, nothing lost or invented. */
  private async checkResource(ctx: RunContext, result: WorkloadResult): Promise<void> {
    const attempted = new Map(this.writes.map((w) => [w.logKey, w]))
    const acked = this.writes.filter((w) => w.outcome === 'accepted')
    // Real time: an accepted write never begins after an accepted write with a higher token returned.
    const byReturn = [...acked].sort((a, b) => a.ret - b.ret)
    let returned = 0
    let top: ResourceWrite | undefined
    for (const w of [...acked].sort((a, b) => a.call - b.call)) {
      while (returned < byReturn.length && byReturn[returned]!.ret < w.call) {
        const x = byReturn[returned++]!
        if (!top || x.token > top.token) top = x
      }
      if (top && top.token > w.token) {
        result.linearizable = false
        result.problems.push(
          `lock: the resource accepted token ${w.token} (client ${w.client}, [${w.call.toFixed(0)}, ${w.ret.toFixed(0)}] ms) after token ${top.token} ` +
            `had been accepted at [${top.call.toFixed(0)}, ${top.ret.toFixed(0)}] ms: a stale token accepted`,
        )
        break
      }
    }
    const answers = await answeredByEach<RangeAnswer>(ctx, '/v3/kv/range', { key: b64(LOG_PREFIX), range_end: prefixEnd(LOG_PREFIX) })
    const fences = await answeredByEach<RangeAnswer>(ctx, '/v3/kv/range', { key: b64(FENCE_KEY) })
    const lost = new Set<string>()
    for (const { member, answer } of answers) {
      if (!answer) {
        result.warnings.push(`lock: ${member} did not answer the final read of the resource`)
        continue
      }
      const entries = (answer.kvs ?? []).map((kv) => ({ key: unb64(kv.key), token: Number(unb64(kv.value)), revision: Number(kv.mod_revision) }))
      const descent = firstDescent(entries)
      if (descent) {
        const [prev, cur] = descent
        result.linearizable = false
        result.problems.push(`lock: on ${member} the resource accepted token ${cur.token} at revision ${cur.revision} after token ${prev.token} at revision ${prev.revision}`)
      }
      const present = new Set(entries.map((e) => e.key))
      const missing = acked.filter((w) => !present.has(w.logKey))
      for (const w of missing) lost.add(w.logKey)
      if (missing.length > 0) result.problems.push(`lock: ${member} misses ${missing.length} acknowledged resource writes: ${missing.slice(0, 10).map((w) => w.logKey).join(' ')}`)
      const phantom = entries.filter((e) => !attempted.has(e.key))
      if (phantom.length > 0) {
        result.linearizable = false
        result.problems.push(`lock: ${member} has resource writes nobody made: ${phantom.slice(0, 10).map((e) => e.key).join(' ')}`)
      }
      const refusedButThere = entries.filter((e) => attempted.get(e.key)?.outcome === 'refused')
      if (refusedButThere.length > 0) {
        result.linearizable = false
        result.problems.push(`lock: ${member} has resource writes that were answered as refused: ${refusedButThere.slice(0, 10).map((e) => e.key).join(' ')}`)
      }
      const fence = fences.find((f) => f.member === member)?.answer?.kvs?.[0]
      const top = Math.max(0, ...entries.map((e) => e.token))
      if (entries.length > 0 && Number(unb64(fence?.value)) !== top) {
        result.linearizable = false
        result.problems.push(`lock: on ${member} the fence holds ${Number(unb64(fence?.value))} but the highest accepted token is ${top}`)
      }
    }
    if (lost.size > 0) result.linearizable = false
    result.lost = lost.size
  }

  async close(): Promise<void> {
    for (const c of this.clients) {
      c.store.close()
      await Promise.all(c.proxies.map((p) => p.close()))
    }
  }
}

/**
 * Pairs of intervals that overlap (an end and a start at the same instant do not): each interval is
 * paired with the earlier one that reaches furthest, so there is a pair whenever any two overlap.
 */
export function overlappingPairs<T extends { start: number; end: number }>(intervals: readonly T[]): Array<[T, T]> {
  const sorted = intervals.filter((h) => h.end > h.start).sort((a, b) => a.start - b.start)
  const pairs: Array<[T, T]> = []
  let reach: T | undefined
  for (const h of sorted) {
    if (reach && h.start < reach.end) pairs.push([reach, h])
    if (!reach || h.end > reach.end) reach = h
  }
  return pairs
}

/** In revision order, the first accepted token lower than the one before it (a stale token accepted). */
export function firstDescent<T extends { token: number; revision: number }>(entries: readonly T[]): [T, T] | undefined {
  const sorted = [...entries].sort((a, b) => a.revision - b.revision)
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.token < sorted[i - 1]!.token) return [sorted[i - 1]!, sorted[i]!]
  return undefined
}
