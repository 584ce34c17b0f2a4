// A typed transaction builder: client.txn().if(compares…).then(ops…).else(ops…).commit().
//
//   await client.txn()
//     .if(compare.createRevision('lock', '=', 0))
//     .then(op.put('lock', 'me', { lease }))
//     .else(op.get('lock'))
//     .commit()

import type { Bytes } from './bytes.ts'
import { toBase64, toBytes } from './bytes.ts'
import { encodeDelete, encodePut, encodeRange, keyRange } from './codec.ts'
import type { Json } from './codec.ts'
import type { CompareResult, CompareTarget, DeleteOptions, KeyRange, PutOptions, RangeOptions } from './types.ts'

export type CompareOperator = '=' | '==' | '!=' | '>' | '<'

const RESULT: Record<CompareOperator, CompareResult> = { '=': 'EQUAL', '==': 'EQUAL', '!=': 'NOT_EQUAL', '>': 'GREATER', '<': 'LESS' }

/** One condition of a transaction: `target` of every key in the range compared against `operand`. */
export interface Comparison {
  readonly target: CompareTarget
  readonly result: CompareResult
  readonly key: Uint8Array
  readonly rangeEnd: Uint8Array | undefined
  readonly operand: number | Uint8Array
}

function comparison(target: CompareTarget, key: Bytes, op: CompareOperator, operand: number | Uint8Array, range: KeyRange): Comparison {
  const result = RESULT[op]
  if (result === undefined) throw new RangeError(`compare: expected one of = != > <, got ${JSON.stringify(op)}`)
  if (typeof operand === 'number' && (!Number.isSafeInteger(operand) || operand < 0)) {
    throw new RangeError(`compare: expected a non-negative integer for ${target}, got ${operand}`)
  }
  const r = keyRange(key, range)
  return { target, result, key: r.key, rangeEnd: r.end, operand }
}

/** Builders for transaction conditions. */
export const compare = {
  value: (key: Bytes, op: CompareOperator, value: Bytes, range: KeyRange = {}) => comparison('VALUE', key, op, toBytes(value), range),
  version: (key: Bytes, op: CompareOperator, version: number, range: KeyRange = {}) => comparison('VERSION', key, op, version, range),
  /** `compare.createRevision(key, '=', 0)` holds when the key does not exist. */
  createRevision: (key: Bytes, op: CompareOperator, revision: number, range: KeyRange = {}) =>
    comparison('CREATE', key, op, revision, range),
  modRevision: (key: Bytes, op: CompareOperator, revision: number, range: KeyRange = {}) => comparison('MOD', key, op, revision, range),
  lease: (key: Bytes, op: CompareOperator, leaseId: number, range: KeyRange = {}) => comparison('LEASE', key, op, leaseId, range),
}

/** One operation of a transaction branch. */
export type TxnOp =
  | { readonly type: 'range'; readonly key: Bytes; readonly options: RangeOptions }
  | { readonly type: 'put'; readonly key: Bytes; readonly value: Bytes; readonly options: PutOptions }
  | { readonly type: 'delete'; readonly key: Bytes; readonly options: DeleteOptions }
  | { readonly type: 'txn'; readonly compares: Comparison[]; readonly success: TxnOp[]; readonly failure: TxnOp[] }

/** Builders for transaction operations. */
export const op = {
  get: (key: Bytes, options: RangeOptions = {}): TxnOp => ({ type: 'range', key, options }),
  put: (key: Bytes, value: Bytes, options: PutOptions = {}): TxnOp => ({ type: 'put', key, value, options }),
  delete: (key: Bytes, options: DeleteOptions = {}): TxnOp => ({ type: 'delete', key, options }),
  txn: (compares: Comparison[], success: TxnOp[], failure: TxnOp[] = []): TxnOp => ({ type: 'txn', compares, success, failure }),
}

export function encodeCompare(c: Comparison): Json {
  const out: Json = { key: toBase64(c.key), target: c.target, result: c.result }
  if (c.rangeEnd !== undefined) out.range_end = toBase64(c.rangeEnd)
  switch (c.target) {
    case 'VALUE':
      out.value = toBase64(c.operand as Uint8Array)
      break
    case 'VERSION':
      out.version = String(c.operand)
      break
    case 'CREATE':
      out.create_revision = String(c.operand)
      break
    case 'MOD':
      out.mod_revision = String(c.operand)
      break
    case 'LEASE':
      out.lease = String(c.operand)
      break
  }
  return out
}

export function encodeOp(o: TxnOp): Json {
  switch (o.type) {
    case 'range':
      return { request_range: encodeRange(o.key, o.options) }
    case 'put':
      return { request_put: encodePut(o.key, o.value, o.options) }
    case 'delete':
      return { request_delete_range: encodeDelete(o.key, o.options) }
    case 'txn':
      return { request_txn: encodeTxnBody(o.compares, o.success, o.failure) }
  }
}

export function encodeTxnBody(compares: Comparison[], success: TxnOp[], failure: TxnOp[]): Json {
  const out: Json = {}
  if (compares.length) out.compare = compares.map(encodeCompare)
  if (success.length) out.success = success.map(encodeOp)
  if (failure.length) out.failure = failure.map(encodeOp)
  return out
}

/** True when no operation writes: such a transaction may be retried safely. */
export function isReadOnly(ops: TxnOp[]): boolean {
  return ops.every((o) => o.type === 'range' || (o.type === 'txn' && isReadOnly(o.success) && isReadOnly(o.failure)))
}
