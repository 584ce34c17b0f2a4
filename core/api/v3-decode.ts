// etcd v3 JSON request bodies → the keyspace's typed requests. Values are checked for type and shape
// here; semantic checks (empty key, limits, txn rules) are the keyspace's, so they hold for every caller.

import { InvalidArgumentError } from '../errors.ts'
import { compareResults, compareTargets, sortOrders, sortTargets } from '../mvcc/requests.ts'
import type {
  Compare,
  CompactionRequest,
  DeleteRangeRequest,
  PutRequest,
  RangeRequest,
  RequestOp,
  TxnRequest,
} from '../mvcc/requests.ts'
import { arrayField, asObject, boolField, bytesField, defined, enumField, field, int64Field } from './json-fields.ts'
import type { JsonObject } from './json-fields.ts'

const TXN_DEPTH_MAX = 16

function key(o: JsonObject): Uint8Array {
  return bytesField(o, 'key') ?? new Uint8Array()
}

export function decodeRange(body: unknown): RangeRequest {
  const o = asObject(body, 'range request')
  return defined({
    key: key(o),
    rangeEnd: bytesField(o, 'range_end'),
    limit: int64Field(o, 'limit'),
    revision: int64Field(o, 'revision'),
    sortOrder: enumField(o, 'sort_order', sortOrders),
    sortTarget: enumField(o, 'sort_target', sortTargets),
    serializable: boolField(o, 'serializable'),
    keysOnly: boolField(o, 'keys_only'),
    countOnly: boolField(o, 'count_only'),
    minModRevision: int64Field(o, 'min_mod_revision'),
    maxModRevision: int64Field(o, 'max_mod_revision'),
    minCreateRevision: int64Field(o, 'min_create_revision'),
    maxCreateRevision: int64Field(o, 'max_create_revision'),
  }) as RangeRequest
}

export function decodePut(body: unknown): PutRequest {
  const o = asObject(body, 'put request')
  return defined({
    key: key(o),
    value: bytesField(o, 'value'),
    lease: int64Field(o, 'lease'),
    prevKv: boolField(o, 'prev_kv'),
    ignoreValue: boolField(o, 'ignore_value'),
    ignoreLease: boolField(o, 'ignore_lease'),
  }) as PutRequest
}

export function decodeDeleteRange(body: unknown): DeleteRangeRequest {
  const o = asObject(body, 'delete range request')
  return defined({ key: key(o), rangeEnd: bytesField(o, 'range_end'), prevKv: boolField(o, 'prev_kv') }) as DeleteRangeRequest
}

export function decodeCompaction(body: unknown): CompactionRequest {
  const o = asObject(body, 'compaction request')
  return defined({ revision: int64Field(o, 'revision') ?? 0, physical: boolField(o, 'physical') }) as CompactionRequest
}

function decodeCompare(v: unknown): Compare {
  const o = asObject(v, 'compare')
  return defined({
    result: enumField(o, 'result', compareResults) ?? 'EQUAL',
    target: enumField(o, 'target', compareTargets) ?? 'VERSION',
    key: key(o),
    rangeEnd: bytesField(o, 'range_end'),
    version: int64Field(o, 'version'),
    createRevision: int64Field(o, 'create_revision'),
    modRevision: int64Field(o, 'mod_revision'),
    value: bytesField(o, 'value'),
    lease: int64Field(o, 'lease'),
  }) as Compare
}

function decodeOp(v: unknown, depth: number): RequestOp {
  const o = asObject(v, 'request op')
  const range = field(o, 'request_range')
  const put = field(o, 'request_put')
  const del = field(o, 'request_delete_range')
  const txn = field(o, 'request_txn')
  const set = [range, put, del, txn].filter((x) => x !== undefined && x !== null).length
  if (set !== 1) throw new InvalidArgumentError('each request op must set exactly one of request_range, request_put, request_delete_range, request_txn')
  if (range !== undefined && range !== null) return { requestRange: decodeRange(range) }
  if (put !== undefined && put !== null) return { requestPut: decodePut(put) }
  if (del !== undefined && del !== null) return { requestDeleteRange: decodeDeleteRange(del) }
  return { requestTxn: decodeTxnAt(txn, depth + 1) }
}

function decodeTxnAt(body: unknown, depth: number): TxnRequest {
  if (depth > TXN_DEPTH_MAX) throw new InvalidArgumentError(`txn nesting deeper than ${TXN_DEPTH_MAX}`)
  const o = asObject(body, 'txn request')
  return {
    compare: arrayField(o, 'compare').map(decodeCompare),
    success: arrayField(o, 'success').map((x) => decodeOp(x, depth)),
    failure: arrayField(o, 'failure').map((x) => decodeOp(x, depth)),
  }
}

export function decodeTxn(body: unknown): TxnRequest {
  return decodeTxnAt(body, 0)
}

export function decodeLeaseId(body: unknown): number {
  const o = asObject(body, 'lease request')
  return int64Field(o, 'ID') ?? int64Field(o, 'id') ?? 0
}

export function decodeLeaseGrant(body: unknown): { ttl: number; id: number } {
  const o = asObject(body, 'lease grant request')
  return { ttl: int64Field(o, 'TTL') ?? int64Field(o, 'ttl') ?? 0, id: int64Field(o, 'ID') ?? int64Field(o, 'id') ?? 0 }
}

export function decodeLeaseTimeToLive(body: unknown): { id: number; keys: boolean } {
  const o = asObject(body, 'lease time-to-live request')
  return { id: int64Field(o, 'ID') ?? int64Field(o, 'id') ?? 0, keys: boolField(o, 'keys') ?? false }
}
