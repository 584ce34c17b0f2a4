// Leader election: candidates put lease-bound keys under `<name>/` (key `<name>/<lease ID in hex>`,
// value the candidate's proclamation, as etcd's concurrency.Election); the oldest key leads. A leader
// may change its value (proclaim), resign, and learns through `signal` the moment it stops leading.
// Anybody can ask who leads now (leader) or follow every change (observe).
//
//   const election = new Election(client, 'scheduler')
//   const me = await election.campaign('10.0.0.7:8080')
//   runScheduler(me.signal)                    // aborts when leadership is lost or resigned
//   await me.proclaim('10.0.0.7:9090')
//   await me.resign()

import type { Bytes, Client, KeyValue } from '../../core/client/index.ts'
import { CanceledError, compare, op, prefixEnd, toBytes, toText } from '../../core/client/index.ts'
import type { AcquireOptions } from '../lock/lock.ts'
import { AlreadyQueuedError } from '../lock/lock.ts'
import { LockLostError, Ownership } from '../lock/ownership.ts'
import { enqueue, keyFor, waitTurn } from '../lock/queue.ts'
import { Session, SESSION_TTL_SECONDS_DEFAULT } from '../lock/session.ts'

export interface ElectionOptions {
  /** A session to campaign with (one candidacy per election per session). Default: a new one per campaign. */
  session?: Session
  /** TTL of the session created when none is given (default 10 s). */
  ttlSeconds?: number
  /** Called once if a leadership is lost (not when resigned). */
  onLost?: (e: LockLostError) => void
}

/** Who leads: the first key in line. */
export interface LeaderInfo {
  key: string
  value: Uint8Array
  /** Create revision of the leader's key: grows with each new leader. */
  fencingToken: number
  leaseId: number
  /** Revision of the leader's last proclamation. */
  modRevision: number
}

/** proclaim() by a candidate that no longer leads. */
export class NotLeaderError extends Error {
  readonly code = 'NotLeader'
  constructor(readonly key: string) {
    super(`not the leader: ${key} no longer leads`)
    this.name = 'NotLeaderError'
  }
}

function infoOf(kv: KeyValue): LeaderInfo {
  return { key: toText(kv.key), value: kv.value, fencingToken: kv.createRevision, leaseId: kv.lease, modRevision: kv.modRevision }
}

function sameInfo(a: LeaderInfo | undefined, b: LeaderInfo | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.fencingToken === b.fencingToken && a.modRevision === b.modRevision && a.key === b.key
}

/** Leading an election. `signal` aborts when leadership is lost or resigned. */
export class Leadership extends Ownership {
  constructor(
    private readonly electionClient: Client,
    session: Session,
    key: string,
    fencingToken: number,
    fromRevision: number,
    onLost: ((e: LockLostError) => void) | undefined,
    private readonly ownsSession: boolean,
    watchSession: boolean,
  ) {
    super(electionClient, session, key, fencingToken, fromRevision, { watchSession, ...(onLost ? { onLost } : {}) })
  }

  /** Publishes a new value as the leader; throws NotLeaderError (and ends the leadership) if it no longer leads. */
  async proclaim(value: Bytes): Promise<void> {
    if (!this.isHeld) throw new NotLeaderError(this.key)
    const r = await this.electionClient.txn().if(this.guard()).then(op.put(this.key, value, { lease: this.leaseId })).commit()
    if (!r.succeeded) {
      this.lose('our key was deleted')
      throw new NotLeaderError(this.key)
    }
  }

  /** Steps down: the key is deleted, so the next candidate leads; a session made for the campaign is closed. */
  async resign(opts: { timeoutMs?: number } = {}): Promise<void> {
    try {
      await this.release(opts)
    } finally {
      this.session.claimed.delete(this.key)
      if (this.ownsSession) await this.session.close()
    }
  }
}

export class Election {
  readonly prefix: string

  constructor(
    private readonly client: Client,
    readonly name: string,
    private readonly opts: ElectionOptions = {},
  ) {
    if (name === '') throw new TypeError('election name: expected a non-empty string')
    this.prefix = name.endsWith('/') ? name : `${name}/`
  }

  /** Waits until this candidate leads, with `value` as its proclamation. */
  async campaign(value: Bytes, opts: AcquireOptions = {}): Promise<Leadership> {
    const signals = [opts.signal, opts.timeoutMs !== undefined ? AbortSignal.timeout(opts.timeoutMs) : undefined].filter((s) => s !== undefined)
    const signal = signals.length === 0 ? undefined : AbortSignal.any(signals)
    const ownsSession = this.opts.session === undefined
    const sessionOptions = { ttlSeconds: this.opts.ttlSeconds ?? SESSION_TTL_SECONDS_DEFAULT, ...(signal ? { signal } : {}) }
    const session = this.opts.session ?? (await Session.create(this.client, sessionOptions))
    const key = keyFor(this.prefix, session.leaseId)
    if (session.claimed.has(key)) throw new AlreadyQueuedError(key)
    session.claimed.add(key)
    try {
      const place = await enqueue(this.client, this.prefix, session, value, signal)
      const myRevision = place.myRevision
      if (place.existing && Buffer.compare(place.existing.value, toBytes(value)) !== 0) {
        await this.client.txn().if(compare.createRevision(key, '=', myRevision)).then(op.put(key, value, { lease: session.leaseId })).commit()
      }
      const turn = await waitTurn(this.client, this.prefix, session, place, signal)
      return new Leadership(this.client, session, key, myRevision, turn.revision + 1, this.opts.onLost, ownsSession, turn.rechecked)
    } catch (e) {
      // Leave the line (our key is the one bound to our lease, even if the put's outcome was unknown).
      await this.client
        .txn()
        .if(compare.lease(key, '=', session.leaseId))
        .then(op.delete(key))
        .commit({ timeoutMs: 5000 })
        .catch(() => undefined)
      session.claimed.delete(key)
      if (ownsSession) await session.close()
      if (signal?.aborted && !(e instanceof LockLostError)) throw new CanceledError(signal.reason)
      throw e
    }
  }

  /** The current leader, or undefined when nobody campaigns. */
  async leader(opts: { signal?: AbortSignal } = {}): Promise<LeaderInfo | undefined> {
    const r = await this.client.get(this.prefix, { end: prefixEnd(this.prefix), sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 1, ...opts })
    const kv = r.kvs[0]
    return kv && infoOf(kv)
  }

  /**
   * Every change of leader or of its value, starting with the current state (undefined: no leader).
   * Ends when the signal aborts.
   */
  async *observe(opts: { signal?: AbortSignal } = {}): AsyncGenerator<LeaderInfo | undefined> {
    const signal = opts.signal
    let last: LeaderInfo | undefined
    let first = true
    while (!signal?.aborted) {
      let r
      try {
        r = await this.client.get(this.prefix, { end: prefixEnd(this.prefix), sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 1, ...(signal ? { signal } : {}) })
      } catch (e) {
        if (signal?.aborted) return
        throw e
      }
      const kv = r.kvs[0]
      let current = kv && infoOf(kv)
      if (first || !sameInfo(last, current)) {
        first = false
        last = current
        yield current
      }
      // With a leader, follow its key (proclamations, then its deletion); without, wait for a candidate.
      const watch = kv
        ? this.client.watch(kv.key, { startRevision: r.header.revision + 1, ...(signal ? { signal } : {}) })
        : this.client.watch(this.prefix, { end: prefixEnd(this.prefix), startRevision: r.header.revision + 1, filters: ['NODELETE'], ...(signal ? { signal } : {}) })
      try {
        follow: for await (const resp of watch) {
          for (const e of resp.events) {
            if (kv === undefined || e.type === 'DELETE' || e.kv.createRevision !== kv.createRevision) break follow
            current = infoOf(e.kv)
            if (!sameInfo(last, current)) {
              last = current
              yield current
            }
          }
        }
      } catch {
        // Compacted: read the leader again.
      } finally {
        await watch.cancel()
      }
    }
  }
}
