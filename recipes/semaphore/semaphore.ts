// The reboot semaphore over a Cairn (or etcd v3) store: read the value, decide with the pure functions
// of value.ts, write it back by compare-and-swap on the key's mod revision, and on a conflict read
// and decide again. A write whose outcome is unknown is handled the same way: the next read shows
// whether it landed, and every decision is idempotent.

import type { Client, TxnOp, Comparison, KeyValue, CallOptions } from '../../core/client/index.ts'
import { compare, op, OutcomeUnknownError, toText } from '../../core/client/index.ts'
import type { Clock } from '../clock.ts'
import { systemClock } from '../clock.ts'
import type { SemaphoreValue } from './value.ts'
import {
  decideLock,
  decidePrune,
  decideSetMax,
  decideUnlock,
  encodeValue,
  holderKey,
  holderKeyPrefix,
  initialValue,
  livenessMarkerKey,
  livenessMarkerPrefix,
  parseValue,
  semaphoreKey,
} from './value.ts'

export interface SemaphoreOptions {
  /** Reboot group (locksmith's --group); absent: the default semaphore. */
  group?: string
  /** Remove dead holders (liveness marker present, lease-bound key gone) whenever this participant locks. */
  pruneDeadHolders?: boolean
  clock?: Clock
  random?: () => number
}

/** Deadline of one semaphore operation, conflicts and retries included. */
export const OPERATION_TIMEOUT_MS_DEFAULT = 30_000
/** Most compare-and-swap rounds one operation makes before giving up. */
export const CAS_ROUNDS_MAX = 1000
const CAS_BACKOFF_MS_MAX = 500

/** No slot is free: `semaphore is at N` (locksmithctl's words). */
export class SemaphoreFullError extends Error {
  readonly code = 'SemaphoreFull'
  constructor(readonly semaphore: number) {
    super(`semaphore is at ${semaphore}`)
    this.name = 'SemaphoreFullError'
  }
}

/** unlock() of an id that does not hold the semaphore. */
export class NotHolderError extends Error {
  readonly code = 'NotHolder'
  constructor(readonly id: string) {
    super(`holder does not exist: ${id}`)
    this.name = 'NotHolderError'
  }
}

/** Too many compare-and-swap conflicts (or the deadline passed while retrying them). */
export class SemaphoreConflictError extends Error {
  readonly code = 'SemaphoreConflict'
  constructor(rounds: number) {
    super(`semaphore: gave up after ${rounds} conflicting compare-and-swap rounds`)
    this.name = 'SemaphoreConflictError'
  }
}

/** What one consistent read shows. */
export interface SemaphoreSnapshot {
  value: SemaphoreValue
  /** The key exists (else `value` is the one that would be created). */
  exists: boolean
  /** Mod revision of the semaphore key (0 when missing): the compare-and-swap guard. */
  modRevision: number
  /** Holders with a liveness marker. */
  marked: Set<string>
  /** Holders whose lease-bound key exists. */
  alive: Set<string>
  /** Revision of the read. */
  revision: number
}

export interface SemaphoreStatus extends SemaphoreSnapshot {
  /** Holders that liveness would prune now (marker present, key gone). */
  dead: string[]
}

/** One compare-and-swap to attempt, or an answer without writing. */
type Plan<T> =
  | { kind: 'answer'; result: T }
  | { kind: 'fail'; error: Error }
  /** Write; then answer `result`, or throw `failAfter` (a lock that pruned dead holders and is still full). */
  | { kind: 'write'; compares: Comparison[]; ops: TxnOp[]; result: T; failAfter?: Error }

export class Semaphore {
  readonly group: string | undefined
  readonly key: string
  private readonly clock: Clock
  private readonly random: () => number

  constructor(
    private readonly client: Client,
    private readonly opts: SemaphoreOptions = {},
  ) {
    this.group = opts.group === '' ? undefined : opts.group
    this.key = semaphoreKey(this.group)
    this.clock = opts.clock ?? systemClock
    this.random = opts.random ?? Math.random
  }

  /** The value, its revision and the liveness view; the key is not created. */
  async status(opts: CallOptions = {}): Promise<SemaphoreStatus> {
    const s = await this.read(opts)
    return { ...s, dead: decidePrune(s.value, s.marked, s.alive).pruned }
  }

  /**
   * Takes a slot for `id`. Succeeds at once when `id` already holds one. With `lease`, the holder's
   * liveness keys are written too (bound to that lease), so others may prune it once the lease is gone.
   * Throws SemaphoreFullError when no slot is free.
   */
  async lock(id: string, opts: CallOptions & { lease?: number } = {}): Promise<SemaphoreValue> {
    checkId(id)
    return this.update(opts, (s) => this.planLock(s, id, opts.lease))
  }

  /** Gives `id`'s slot back (and deletes its liveness keys). Throws NotHolderError if it holds none. */
  async unlock(id: string, opts: CallOptions = {}): Promise<SemaphoreValue> {
    checkId(id)
    return this.update(opts, (s, uncertain) => {
      const d = decideUnlock(s.value, id)
      if (d.kind === 'not-holder') {
        // After a write whose outcome was unknown, a missing holder is our own unlock having landed.
        return uncertain ? { kind: 'answer', result: s.value } : { kind: 'fail', error: new NotHolderError(id) }
      }
      return {
        kind: 'write',
        compares: [],
        ops: [op.put(this.key, encodeValue(d.next)), op.delete(holderKey(id, this.group)), op.delete(livenessMarkerKey(id, this.group))],
        result: d.next,
      }
    })
  }

  /** Sets the number of slots; the free count moves by the difference and may go negative. */
  async setMax(max: number, opts: CallOptions = {}): Promise<SemaphoreValue> {
    if (!Number.isSafeInteger(max) || max < 0) throw new RangeError(`max: expected a non-negative integer, got ${max}`)
    return this.update(opts, (s) => {
      if (s.exists && s.value.max === max) return { kind: 'answer', result: s.value }
      const next = decideSetMax(s.value, max)
      return { kind: 'write', compares: [], ops: [op.put(this.key, encodeValue(next))], result: next }
    })
  }

  /** Removes dead holders now; returns the ids removed. */
  async prune(opts: CallOptions = {}): Promise<string[]> {
    return this.update(opts, (s) => {
      const p = this.planPrune(s)
      if (p.pruned.length === 0) return { kind: 'answer', result: [] }
      return { kind: 'write', compares: p.compares, ops: [op.put(this.key, encodeValue(p.next)), ...p.ops], result: p.pruned }
    })
  }

  /** Re-binds a holder's liveness key to `lease` (e.g. after a restart); false when `id` holds no slot. */
  async refreshLiveness(id: string, lease: number, opts: CallOptions = {}): Promise<boolean> {
    checkId(id)
    return this.update(opts, (s) => {
      if (!s.value.holders.includes(id)) return { kind: 'answer', result: false }
      return { kind: 'write', compares: [], ops: this.livenessOps(id, lease), result: true }
    })
  }

  private planLock(s: SemaphoreSnapshot, id: string, lease: number | undefined): Plan<SemaphoreValue> {
    const prune = this.opts.pruneDeadHolders ? this.planPrune(s) : { next: s.value, pruned: [], compares: [], ops: [] }
    const d = decideLock(prune.next, id)
    const liveness = lease !== undefined ? this.livenessOps(id, lease) : []
    if (d.kind === 'already-holder') {
      if (prune.pruned.length === 0 && liveness.length === 0) return { kind: 'answer', result: s.value }
      return { kind: 'write', compares: prune.compares, ops: [op.put(this.key, encodeValue(prune.next)), ...prune.ops, ...liveness], result: prune.next }
    }
    if (d.kind === 'full') {
      if (prune.pruned.length === 0) return { kind: 'fail', error: new SemaphoreFullError(d.semaphore) }
      // Still full after pruning: write the pruning anyway (it is progress for everybody), then fail.
      const ops = [op.put(this.key, encodeValue(prune.next)), ...prune.ops]
      return { kind: 'write', compares: prune.compares, ops, result: prune.next, failAfter: new SemaphoreFullError(d.semaphore) }
    }
    return { kind: 'write', compares: prune.compares, ops: [op.put(this.key, encodeValue(d.next)), ...prune.ops, ...liveness], result: d.next }
  }

  private planPrune(s: SemaphoreSnapshot): { next: SemaphoreValue; pruned: string[]; compares: Comparison[]; ops: TxnOp[] } {
    const { next, pruned } = decidePrune(s.value, s.marked, s.alive)
    // Each pruned holder's key must still be absent when the write lands (it may come back on a refresh).
    const compares = pruned.map((id) => compare.createRevision(holderKey(id, this.group), '=', 0))
    const ops = pruned.map((id) => op.delete(livenessMarkerKey(id, this.group)))
    return { next, pruned, compares, ops }
  }

  private livenessOps(id: string, lease: number): TxnOp[] {
    const body = JSON.stringify({ id, lease: lease.toString(16) })
    return [op.put(holderKey(id, this.group), body, { lease }), op.put(livenessMarkerKey(id, this.group), JSON.stringify({ id }))]
  }

  /** One consistent read of the value and the liveness keys (a read-only transaction). */
  private async read(opts: CallOptions): Promise<SemaphoreSnapshot> {
    const r = await this.client
      .txn()
      .then(op.get(this.key), op.get(holderKeyPrefix(this.group), { prefix: true }), op.get(livenessMarkerPrefix(this.group), { prefix: true }))
      .commit(opts)
    const ranges = r.responses.map((x) => (x.kind === 'range' ? x.range.kvs : []))
    const kv = ranges[0]?.[0]
    const value = kv ? parseValue(toText(kv.value)) : initialValue()
    return {
      value,
      exists: kv !== undefined,
      modRevision: kv?.modRevision ?? 0,
      marked: this.idsOf(value.holders, ranges[2] ?? [], (id) => livenessMarkerKey(id, this.group)),
      alive: this.idsOf(value.holders, ranges[1] ?? [], (id) => holderKey(id, this.group)),
      revision: r.header.revision,
    }
  }

  /** The holders whose key (by `keyOf`) is among `kvs`. */
  private idsOf(holders: string[], kvs: KeyValue[], keyOf: (id: string) => string): Set<string> {
    const present = new Set(kvs.map((kv) => toText(kv.key)))
    return new Set(holders.filter((h) => present.has(keyOf(h))))
  }

  /** The read–decide–compare-and-swap loop. */
  private async update<T>(opts: CallOptions, plan: (s: SemaphoreSnapshot, uncertain: boolean) => Plan<T>): Promise<T> {
    const deadline = this.clock.now() + (opts.timeoutMs ?? OPERATION_TIMEOUT_MS_DEFAULT)
    let uncertain = false
    for (let round = 0; round < CAS_ROUNDS_MAX; round++) {
      const callOpts = this.callOptions(opts, deadline)
      const s = await this.read(callOpts)
      const p = plan(s, uncertain)
      if (p.kind === 'answer') return p.result
      if (p.kind === 'fail') throw p.error
      try {
        const r = await this.client
          .txn()
          .if(compare.modRevision(this.key, '=', s.modRevision), ...p.compares)
          .then(...p.ops)
          .commit(callOpts)
        if (r.succeeded) {
          if (p.failAfter) throw p.failAfter
          return p.result
        }
      } catch (e) {
        if (!(e instanceof OutcomeUnknownError)) throw e
        uncertain = true
      }
      if (this.clock.now() >= deadline) break
      await this.clock.sleep(Math.floor(this.random() * Math.min(CAS_BACKOFF_MS_MAX, 5 * 2 ** Math.min(round, 10))), opts.signal)
      if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('semaphore operation aborted')
    }
    throw new SemaphoreConflictError(CAS_ROUNDS_MAX)
  }

  private callOptions(opts: CallOptions, deadline: number): CallOptions {
    const out: CallOptions = { timeoutMs: Math.max(1, Math.min(deadline - this.clock.now(), 10_000)) }
    if (opts.signal) out.signal = opts.signal
    return out
  }
}

function checkId(id: string): void {
  if (typeof id !== 'string' || id === '') throw new TypeError(`holder id: expected a non-empty string, got ${JSON.stringify(id)}`)
}
