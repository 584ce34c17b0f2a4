// etcd's rule against writing one key twice in a txn (v3rpc checkIntervals): within one branch, a key
// may be put at most once and may not be both put and deleted, counting nested txns; the success and
// failure branches of a nested txn may each put the same key, since only one of them runs. Deletes
// may overlap each other. As in etcd, a delete's interval is the literal [key, range_end), so a
// range_end of "\0" ("to the end") conflicts with nothing.

import { DuplicateKeyError } from '../errors.ts'
import { bytesToBinaryString, compareBytes, concatBytes } from './bytes.ts'
import type { RequestOp } from './requests.ts'

interface Interval {
  start: Uint8Array
  end: Uint8Array
}

interface Writes {
  puts: Map<string, Uint8Array>
  deletes: Interval[]
}

const zeroByte = new Uint8Array([0])

function deletesCover(deletes: Interval[], key: Uint8Array): boolean {
  return deletes.some((d) => compareBytes(d.start, key) <= 0 && compareBytes(key, d.end) < 0)
}

function duplicate(key: Uint8Array): DuplicateKeyError {
  return new DuplicateKeyError(`key ${JSON.stringify(bytesToBinaryString(key))}`)
}

function collect(ops: RequestOp[]): Writes {
  const deletes: Interval[] = []
  for (const op of ops) {
    if (!('requestDeleteRange' in op)) continue
    const { key, rangeEnd } = op.requestDeleteRange
    const end = rangeEnd === undefined || rangeEnd.length === 0 ? concatBytes(key, zeroByte) : rangeEnd
    deletes.push({ start: key, end })
  }
  const puts = new Map<string, Uint8Array>()
  for (const op of ops) {
    if (!('requestTxn' in op)) continue
    const then = collect(op.requestTxn.success ?? [])
    const otherwise = collect(op.requestTxn.failure ?? [])
    for (const [id, key] of then.puts) {
      if (puts.has(id) || deletesCover(deletes, key)) throw duplicate(key)
      puts.set(id, key)
    }
    for (const [id, key] of otherwise.puts) {
      if ((puts.has(id) && !then.puts.has(id)) || deletesCover(deletes, key)) throw duplicate(key)
      puts.set(id, key)
    }
    deletes.push(...then.deletes, ...otherwise.deletes)
  }
  for (const op of ops) {
    if (!('requestPut' in op)) continue
    const key = op.requestPut.key
    const id = bytesToBinaryString(key)
    if (puts.has(id) || deletesCover(deletes, key)) throw duplicate(key)
    puts.set(id, key)
  }
  return { puts, deletes }
}

/** Throws DuplicateKeyError if the branch writes a key twice. */
export function checkTxnIntervals(ops: RequestOp[]): void {
  collect(ops)
}
