// Client requests → etcd v3 JSON, and etcd v3 JSON → the client's types. The JSON follows etcd's
// gateway: proto field names, int64 as decimal strings, bytes as standard base64, zero values left out.

import type { Bytes } from './bytes.ts'
import { FROM_KEY_END, fromBase64, prefixEnd, toBase64, toBytes } from './bytes.ts'
import { BadResponseError } from './errors.ts'
import type {
  DeleteOptions,
  DeleteResult,
  KeyRange,
  KeyValue,
  Member,
  OpResult,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ResponseHeader,
  TxnResult,
} from './types.ts'

export type Json = Record<string, unknown>

/** Resolves a key and its range options into the wire's (key, range_end). */
export function keyRange(key: Bytes, r: KeyRange): { key: Uint8Array; end: Uint8Array | undefined } {
  let k = toBytes(key)
  const set = [r.end !== undefined, r.prefix === true, r.fromKey === true].filter(Boolean).length
  if (set > 1) throw new TypeError('range: set at most one of end, prefix and fromKey')
  if (r.prefix === true) {
    if (k.length === 0) return { key: FROM_KEY_END, end: FROM_KEY_END }
    return { key: k, end: prefixEnd(k) }
  }
  if (r.fromKey === true) {
    if (k.length === 0) k = FROM_KEY_END
    return { key: k, end: FROM_KEY_END }
  }
  if (r.end !== undefined) return { key: k, end: toBytes(r.end) }
  return { key: k, end: undefined }
}

function checkCount(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) {
    throw new RangeError(`${name}: expected a non-negative integer, got ${String(v)}`)
  }
}

export function encodeRange(key: Bytes, o: RangeOptions): Json {
  const { key: k, end } = keyRange(key, o)
  for (const name of ['limit', 'revision', 'minModRevision', 'maxModRevision', 'minCreateRevision', 'maxCreateRevision'] as const) {
    checkCount(name, o[name])
  }
  const out: Json = { key: toBase64(k) }
  if (end !== undefined) out.range_end = toBase64(end)
  if (o.limit) out.limit = String(o.limit)
  if (o.revision) out.revision = String(o.revision)
  if (o.sortOrder !== undefined && o.sortOrder !== 'NONE') out.sort_order = o.sortOrder
  if (o.sortTarget !== undefined && o.sortTarget !== 'KEY') out.sort_target = o.sortTarget
  if (o.serializable) out.serializable = true
  if (o.keysOnly) out.keys_only = true
  if (o.countOnly) out.count_only = true
  if (o.minModRevision) out.min_mod_revision = String(o.minModRevision)
  if (o.maxModRevision) out.max_mod_revision = String(o.maxModRevision)
  if (o.minCreateRevision) out.min_create_revision = String(o.minCreateRevision)
  if (o.maxCreateRevision) out.max_create_revision = String(o.maxCreateRevision)
  return out
}

export function encodePut(key: Bytes, value: Bytes, o: PutOptions): Json {
  checkCount('lease', o.lease)
  const out: Json = { key: toBase64(key) }
  const v = toBytes(value)
  if (v.length) out.value = toBase64(v)
  if (o.lease) out.lease = String(o.lease)
  if (o.prevKv) out.prev_kv = true
  if (o.ignoreValue) out.ignore_value = true
  if (o.ignoreLease) out.ignore_lease = true
  return out
}

export function encodeDelete(key: Bytes, o: DeleteOptions): Json {
  const { key: k, end } = keyRange(key, o)
  const out: Json = { key: toBase64(k) }
  if (end !== undefined) out.range_end = toBase64(end)
  if (o.prevKv) out.prev_kv = true
  return out
}

// ---- decoding ----

function obj(v: unknown, what: string): Json {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new BadResponseError(`${what} is not an object`)
  return v as Json
}

/** An int64 field (a decimal string, or a number); absent = 0. */
export function int(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number' && Number.isInteger(v)) return v
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v)
  throw new BadResponseError(`${what}: expected an integer, got ${JSON.stringify(v)}`)
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new BadResponseError(`${what} is not a list`)
  return v
}

function strings(v: unknown, what: string): string[] {
  return list(v, what).map((x) => {
    if (typeof x !== 'string') throw new BadResponseError(`${what}: expected strings`)
    return x
  })
}

export function decodeHeader(v: unknown): ResponseHeader {
  const h = obj(v, 'header')
  return {
    clusterId: int(h.cluster_id, 'cluster_id'),
    memberId: int(h.member_id, 'member_id'),
    revision: int(h.revision, 'revision'),
    raftTerm: int(h.raft_term, 'raft_term'),
  }
}

export function decodeKv(v: unknown): KeyValue {
  const o = obj(v, 'kv')
  return {
    key: fromBase64(o.key, 'kv.key'),
    value: fromBase64(o.value, 'kv.value'),
    createRevision: int(o.create_revision, 'create_revision'),
    modRevision: int(o.mod_revision, 'mod_revision'),
    version: int(o.version, 'version'),
    lease: int(o.lease, 'lease'),
  }
}

export function decodeRange(v: unknown): RangeResult {
  const o = obj(v, 'range response')
  return {
    header: decodeHeader(o.header),
    kvs: list(o.kvs, 'kvs').map(decodeKv),
    more: o.more === true,
    count: int(o.count, 'count'),
  }
}

export function decodePut(v: unknown): PutResult {
  const o = obj(v, 'put response')
  const out: PutResult = { header: decodeHeader(o.header) }
  if (o.prev_kv !== undefined && o.prev_kv !== null) out.prevKv = decodeKv(o.prev_kv)
  return out
}

export function decodeDelete(v: unknown): DeleteResult {
  const o = obj(v, 'delete response')
  return { header: decodeHeader(o.header), deleted: int(o.deleted, 'deleted'), prevKvs: list(o.prev_kvs, 'prev_kvs').map(decodeKv) }
}

function decodeOpResult(v: unknown): OpResult {
  const o = obj(v, 'response op')
  if (o.response_range !== undefined) return { kind: 'range', range: decodeRange(o.response_range) }
  if (o.response_put !== undefined) return { kind: 'put', put: decodePut(o.response_put) }
  if (o.response_delete_range !== undefined) return { kind: 'delete', delete: decodeDelete(o.response_delete_range) }
  if (o.response_txn !== undefined) return { kind: 'txn', txn: decodeTxn(o.response_txn) }
  throw new BadResponseError('response op without a response')
}

export function decodeTxn(v: unknown): TxnResult {
  const o = obj(v, 'txn response')
  return { header: decodeHeader(o.header), succeeded: o.succeeded === true, responses: list(o.responses, 'responses').map(decodeOpResult) }
}

export function decodeMember(v: unknown): Member {
  const o = obj(v, 'member')
  return {
    id: int(o.ID, 'member ID'),
    name: typeof o.name === 'string' ? o.name : '',
    peerUrls: strings(o.peerURLs, 'peerURLs'),
    clientUrls: strings(o.clientURLs, 'clientURLs'),
    isLearner: o.isLearner === true,
  }
}

export { obj as decodeObject, list as decodeList, strings as decodeStrings }
