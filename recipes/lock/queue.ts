// Waiting in line under a prefix, shared by Lock and Election: put our key (bound to the session's
// lease) if it is not there yet, then wait until no key created before ours is left — watching only
// the one just before ours — and re-check our own key and lease after every wait (etcd#11456).

import type { Bytes, Client, KeyValue } from '../../core/client/index.ts'
import { CanceledError, compare, op, prefixEnd } from '../../core/client/index.ts'
import { decideQueue } from './decide.ts'
import { failpointEnabled } from './failpoints.ts'
import { LockLostError } from './ownership.ts'
import type { Session } from './session.ts'

export interface Place {
  key: string
  /** Create revision of our key. */
  myRevision: number
  /** Revision of the read that put or found it. */
  revision: number
  /** Our key existed already (the session was in line before): its current value. */
  existing: KeyValue | undefined
  /** Create revision of the first key in line (ours when we hold). */
  firstRevision: number
}

/** The key a session uses under a prefix: the prefix and the lease ID in hex, as etcd's recipes do. */
export function keyFor(prefix: string, leaseId: number): string {
  return prefix + leaseId.toString(16)
}

/** Puts our key under `prefix` unless it exists, and reads who is first in line. */
export async function enqueue(client: Client, prefix: string, session: Session, value: Bytes, signal?: AbortSignal): Promise<Place> {
  const key = keyFor(prefix, session.leaseId)
  const first = op.get(prefix, { end: prefixEnd(prefix), sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 1 })
  const r = await client
    .txn()
    .if(compare.createRevision(key, '=', 0))
    .then(op.put(key, value, { lease: session.leaseId }), first)
    .else(op.get(key), first)
    .commit(signal ? { signal } : {})
  const own = r.responses[0]
  const firstKv = r.responses[1]?.kind === 'range' ? r.responses[1].range.kvs[0] : undefined
  let myRevision = r.header.revision
  let existing: KeyValue | undefined
  if (!r.succeeded) {
    existing = own?.kind === 'range' ? own.range.kvs[0] : undefined
    if (existing === undefined) throw new LockLostError(key, 'our key vanished while being put')
    myRevision = existing.createRevision
  }
  return { key, myRevision, revision: r.header.revision, existing, firstRevision: firstKv?.createRevision ?? myRevision }
}

/**
 * Waits until our key is first in line. Resolves with the revision of the read that saw it first;
 * throws LockLostError if our key or lease went away meanwhile, CanceledError if `signal` aborted.
 */
export async function waitTurn(client: Client, prefix: string, session: Session, place: Place, signal?: AbortSignal): Promise<{ revision: number; rechecked: boolean }> {
  const skip = failpointEnabled('skip-lease-recheck')
  // Under the failpoint the wait is not cut short by the session's loss either (as etcd's was not).
  const waitSignal = skip ? signal : signal ? AbortSignal.any([signal, session.signal]) : session.signal
  let afterWait = false
  for (;;) {
    if (signal?.aborted) throw new CanceledError(signal.reason)
    const r = await client
      .txn()
      .then(
        op.get(place.key),
        op.get(prefix, { end: prefixEnd(prefix), maxCreateRevision: place.myRevision - 1, sortTarget: 'CREATE', sortOrder: 'DESCEND', limit: 1 }),
      )
      .commit(signal ? { signal } : {})
    const ranges = r.responses.map((x) => (x.kind === 'range' ? x.range.kvs : []))
    const own = ranges[0]?.[0]
    const predecessor = ranges[1]?.[0]
    const action = decideQueue({
      myRevision: place.myRevision,
      own: own && { createRevision: own.createRevision, lease: own.lease },
      leaseId: session.leaseId,
      sessionLost: session.isLost,
      predecessor: predecessor && { key: predecessor.key, createRevision: predecessor.createRevision },
      skipRecheck: skip && afterWait,
    })
    if (action.kind === 'hold') return { revision: r.header.revision, rechecked: !(skip && afterWait) }
    if (action.kind === 'lost') throw new LockLostError(place.key, action.reason)
    await waitDeleted(client, action.key, r.header.revision + 1, waitSignal)
    afterWait = true
  }
}

/** Resolves when `key` is deleted at or after `fromRevision`, or when the signal aborts. */
async function waitDeleted(client: Client, key: Uint8Array, fromRevision: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted) return
  const watch = client.watch(key, { startRevision: fromRevision, filters: ['NOPUT'], ...(signal ? { signal } : {}) })
  try {
    for await (const resp of watch) {
      if (resp.events.some((e) => e.type === 'DELETE')) return
    }
  } catch {
    // Compacted or refused: the caller reads again and decides afresh.
  } finally {
    await watch.cancel()
  }
}
