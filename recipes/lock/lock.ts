// A distributed lock: lease-bound keys under `<name>/`, held by the oldest (lowest create revision).
// Compatible with etcd's concurrency.Mutex (same key layout: `<name>/<lease ID in hex>`), so Cairn and
// etcd clients may queue for the same lock.
//
//   const lock = new Lock(client, 'jobs/nightly')
//   const hold = await lock.acquire({ timeoutMs: 30_000 })
//   try {
//     await client.txn().if(hold.guard()).then(op.put('report', text)).commit()   // refused once we lost it
//     doWork(hold.signal)                                                          // aborts when lost
//   } finally {
//     await hold.release()
//   }

import type { Client } from '../../core/client/index.ts'
import { CanceledError, compare, op } from '../../core/client/index.ts'
import { LockLostError, Ownership } from './ownership.ts'
import { enqueue, keyFor, waitTurn } from './queue.ts'
import { Session, SESSION_TTL_SECONDS_DEFAULT } from './session.ts'

export interface LockOptions {
  /** A session to bind the key to (one holder per lock per session). Default: a new one per acquire. */
  session?: Session
  /** TTL of the session created when none is given (default 10 s). */
  ttlSeconds?: number
  /** Called once if a hold is lost. */
  onLost?: (e: LockLostError) => void
}

export interface AcquireOptions {
  signal?: AbortSignal
  /** Give up after this long (CanceledError). */
  timeoutMs?: number
}

/** The same session is already in line for (or holding) this lock. */
export class AlreadyQueuedError extends Error {
  readonly code = 'AlreadyQueued'
  constructor(readonly key: string) {
    super(`this session is already waiting for or holding ${key}`)
    this.name = 'AlreadyQueuedError'
  }
}

/** A held lock. `signal` aborts when it is lost or released; `fencingToken` orders holders. */
export class LockHold extends Ownership {
  constructor(
    client: Client,
    session: Session,
    key: string,
    fencingToken: number,
    fromRevision: number,
    onLost: ((e: LockLostError) => void) | undefined,
    private readonly ownsSession: boolean,
    watchSession: boolean,
  ) {
    super(client, session, key, fencingToken, fromRevision, { watchSession, ...(onLost ? { onLost } : {}) })
  }

  /** Deletes the key (if still ours); a session made for this hold is closed (its lease revoked). */
  override async release(opts: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await super.release(opts)
    } finally {
      this.session.claimed.delete(this.key)
      if (this.ownsSession) await this.session.close()
    }
  }
}

export class Lock {
  /** Keys of this lock live under this prefix. */
  readonly prefix: string

  constructor(
    private readonly client: Client,
    readonly name: string,
    private readonly opts: LockOptions = {},
  ) {
    if (name === '') throw new TypeError('lock name: expected a non-empty string')
    this.prefix = name.endsWith('/') ? name : `${name}/`
  }

  /** Waits until the lock is ours. Throws LockLostError if the session was lost meanwhile. */
  async acquire(opts: AcquireOptions = {}): Promise<LockHold> {
    return this.take(opts, true) as Promise<LockHold>
  }

  /** Takes the lock if nobody holds it or waits for it; otherwise leaves no trace and returns undefined. */
  async tryAcquire(opts: AcquireOptions = {}): Promise<LockHold | undefined> {
    return this.take(opts, false)
  }

  private async take(opts: AcquireOptions, wait: boolean): Promise<LockHold | undefined> {
    const signal = combine(opts)
    const ownsSession = this.opts.session === undefined
    // The wait's deadline covers the session's grant too (a slow cluster must not stretch --timeout).
    const sessionOptions = { ttlSeconds: this.opts.ttlSeconds ?? SESSION_TTL_SECONDS_DEFAULT, ...(signal ? { signal } : {}) }
    const session = this.opts.session ?? (await Session.create(this.client, sessionOptions))
    const key = keyFor(this.prefix, session.leaseId)
    if (session.claimed.has(key)) throw new AlreadyQueuedError(key)
    session.claimed.add(key)
    try {
      const place = await enqueue(this.client, this.prefix, session, '', signal)
      let revision = place.revision
      let watchSession = true
      if (place.firstRevision !== place.myRevision) {
        if (!wait) {
          await this.giveUp(key, session.leaseId)
          await this.cleanup(session, key, ownsSession)
          return undefined
        }
        const turn = await waitTurn(this.client, this.prefix, session, place, signal)
        revision = turn.revision
        // Only under the skip-lease-recheck failpoint: the false holder is not told either.
        watchSession = turn.rechecked
      }
      return new LockHold(this.client, session, key, place.myRevision, revision + 1, this.opts.onLost, ownsSession, watchSession)
    } catch (e) {
      // Leave the line so that we never become the holder after giving up (even when the put's
      // outcome is unknown: the key is ours if it is bound to our lease).
      await this.giveUp(key, session.leaseId).catch(() => undefined)
      await this.cleanup(session, key, ownsSession)
      if (signal?.aborted && !(e instanceof LockLostError)) throw new CanceledError(signal.reason)
      throw e
    }
  }

  private async giveUp(key: string, leaseId: number): Promise<void> {
    await this.client.txn().if(compare.lease(key, '=', leaseId)).then(op.delete(key)).commit({ timeoutMs: 5000 })
  }

  private async cleanup(session: Session, key: string, ownsSession: boolean): Promise<void> {
    session.claimed.delete(key)
    if (ownsSession) await session.close()
  }
}

function combine(opts: AcquireOptions): AbortSignal | undefined {
  const signals: AbortSignal[] = []
  if (opts.signal) signals.push(opts.signal)
  if (opts.timeoutMs !== undefined) signals.push(AbortSignal.timeout(opts.timeoutMs))
  if (signals.length === 0) return undefined
  return signals.length === 1 ? signals[0] : AbortSignal.any(signals)
}
