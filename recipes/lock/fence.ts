// Fencing: a holder's token (its key's create revision) only grows from one holder to the next, so a
// write can be made safe against a holder that lost the lock without knowing it (a long GC pause, a
// partition). Two ways:
//
//  - In the store: guardedTxn(client, hold) commits only while the hold's key still exists as created
//    at its token — a compare in the same transaction as the write, checked by the leader at commit.
//  - At any resource that stores data under a key: fencedPut() records the highest token seen beside
//    the data and refuses a write that carries a lower one.

import type { Bytes, Client, Comparison, Txn } from '../../core/client/index.ts'
import { compare, op, toText } from '../../core/client/index.ts'

/** Tokens are written as fixed-width decimals so that byte order is number order. */
const TOKEN_DIGITS = 20

export function encodeToken(token: number): string {
  if (!Number.isSafeInteger(token) || token <= 0) throw new RangeError(`fencing token: expected a positive integer, got ${token}`)
  return String(token).padStart(TOKEN_DIGITS, '0')
}

/** Something that holds a lock: a LockHold or a Leadership. */
export interface Fenced {
  readonly fencingToken: number
  guard(): Comparison
}

/** A transaction whose `then` branch runs only while `hold` still holds: add your writes with .then(). */
export function guardedTxn(client: Client, hold: Fenced): Txn {
  return client.txn().if(hold.guard())
}

/** Writes key=value only while `hold` holds; false (nothing written) once it has lost the lock. */
export async function guardedPut(client: Client, hold: Fenced, key: Bytes, value: Bytes): Promise<boolean> {
  const r = await guardedTxn(client, hold).then(op.put(key, value)).commit()
  return r.succeeded
}

export interface FencedPutResult {
  accepted: boolean
  /** The highest token the resource has seen (ours if accepted). */
  highestToken: number
}

/** The key beside `key` that records the highest token a fenced resource has accepted. */
export function fenceKeyOf(key: string): string {
  return `${key}/fence`
}

/**
 * Writes key=value unless the resource has already accepted a higher token (from a later holder):
 * one transaction compares the recorded token and writes both the value and our token.
 */
export async function fencedPut(client: Client, key: string, value: Bytes, token: number, opts: { fenceKey?: string } = {}): Promise<FencedPutResult> {
  const fenceKey = opts.fenceKey ?? fenceKeyOf(key)
  const ours = encodeToken(token)
  // A VALUE compare on a missing key is false, so a first writer lands in the else branch too.
  const r = await client
    .txn()
    .if(compare.value(fenceKey, '>', ours))
    .then(op.get(fenceKey))
    .else(op.put(fenceKey, ours), op.put(key, value))
    .commit()
  if (!r.succeeded) return { accepted: true, highestToken: token }
  const first = r.responses[0]
  const kv = first?.kind === 'range' ? first.range.kvs[0] : undefined
  return { accepted: false, highestToken: kv ? Number(toText(kv.value)) : token }
}
