// Evaluation of a txn's compares (etcd's applyCompare): every key in the compare's range must pass;
// a range with no key compares against an all-zero KeyValue, except that a VALUE compare on no key
// always fails (protobuf cannot tell a missing value from an empty one).

import { compareBytes, emptyBytes } from './bytes.ts'
import { toInterval } from './interval.ts'
import type { Compare } from './requests.ts'
import type { WriteTxn } from './write-txn.ts'
import type { KeyValue } from './types.ts'

const zeroKeyValue: KeyValue = { key: emptyBytes, createRevision: 0, modRevision: 0, version: 0, value: emptyBytes, lease: 0 }

function sign(n: number): number {
  return n < 0 ? -1 : n > 0 ? 1 : 0
}

export function compareKeyValue(compare: Compare, kv: KeyValue): boolean {
  let order: number
  switch (compare.target) {
    case 'VALUE':
      order = compareBytes(kv.value, compare.value ?? emptyBytes)
      break
    case 'VERSION':
      order = sign(kv.version - (compare.version ?? 0))
      break
    case 'CREATE':
      order = sign(kv.createRevision - (compare.createRevision ?? 0))
      break
    case 'MOD':
      order = sign(kv.modRevision - (compare.modRevision ?? 0))
      break
    case 'LEASE':
      order = sign(kv.lease - (compare.lease ?? 0))
      break
  }
  switch (compare.result) {
    case 'EQUAL':
      return order === 0
    case 'NOT_EQUAL':
      return order !== 0
    case 'GREATER':
      return order > 0
    case 'LESS':
      return order < 0
  }
}

export async function evaluateCompare(txn: WriteTxn, compare: Compare): Promise<boolean> {
  if (compare.rangeEnd === undefined || compare.rangeEnd.length === 0) {
    // One key (the common case): a point read, not a scan.
    const kv = await txn.get(compare.key)
    if (kv !== undefined) return compareKeyValue(compare, kv)
    return compare.target !== 'VALUE' && compareKeyValue(compare, zeroKeyValue)
  }
  let found = false
  const scan = txn.scan(toInterval(compare.key, compare.rangeEnd), false)
  try {
    for await (const kv of scan) {
      found = true
      if (!compareKeyValue(compare, kv)) return false
    }
  } finally {
    await scan.return()
  }
  if (found) return true
  return compare.target !== 'VALUE' && compareKeyValue(compare, zeroKeyValue)
}

export async function evaluateCompares(txn: WriteTxn, compares: readonly Compare[]): Promise<boolean> {
  for (const compare of compares) {
    if (!(await evaluateCompare(txn, compare))) return false
  }
  return true
}
