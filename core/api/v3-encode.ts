// Typed responses → etcd v3 JSON, exactly as etcd's gateway writes them: proto field names, int64 as
// strings, bytes as base64, and zero values left out.

import type { DeleteRangeResponse, PutResponse, RangeResponse, ResponseOp, TxnResponse } from '../mvcc/requests.ts'
import type { Event, KeyValue } from '../mvcc/types.ts'

export interface HeaderFields {
  clusterId: string
  memberId: string
  raftTerm: number
}

export type Json = Record<string, unknown>

/** The header of responses nested in a txn: etcd fills in only the revision there. */
export const INNER_HEADER: HeaderFields = { clusterId: '', memberId: '', raftTerm: 0 }

export function encodeHeader(h: HeaderFields, revision: number): Json {
  const out: Json = {}
  if (h.clusterId) out.cluster_id = h.clusterId
  if (h.memberId) out.member_id = h.memberId
  if (revision) out.revision = String(revision)
  if (h.raftTerm) out.raft_term = String(h.raftTerm)
  return out
}

function b64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
}

export function encodeKv(kv: KeyValue): Json {
  const out: Json = {}
  if (kv.key.byteLength) out.key = b64(kv.key)
  if (kv.createRevision) out.create_revision = String(kv.createRevision)
  if (kv.modRevision) out.mod_revision = String(kv.modRevision)
  if (kv.version) out.version = String(kv.version)
  if (kv.value.byteLength) out.value = b64(kv.value)
  if (kv.lease) out.lease = String(kv.lease)
  return out
}

export function encodeRange(h: HeaderFields, r: RangeResponse): Json {
  const out: Json = { header: encodeHeader(h, r.header.revision) }
  if (r.kvs.length) out.kvs = r.kvs.map(encodeKv)
  if (r.more) out.more = true
  if (r.count) out.count = String(r.count)
  return out
}

export function encodePut(h: HeaderFields, r: PutResponse): Json {
  const out: Json = { header: encodeHeader(h, r.header.revision) }
  if (r.prevKv) out.prev_kv = encodeKv(r.prevKv)
  return out
}

export function encodeDeleteRange(h: HeaderFields, r: DeleteRangeResponse): Json {
  const out: Json = { header: encodeHeader(h, r.header.revision) }
  if (r.deleted) out.deleted = String(r.deleted)
  if (r.prevKvs.length) out.prev_kvs = r.prevKvs.map(encodeKv)
  return out
}

function encodeOp(h: HeaderFields, op: ResponseOp): Json {
  if ('responseRange' in op) return { response_range: encodeRange(h, op.responseRange) }
  if ('responsePut' in op) return { response_put: encodePut(h, op.responsePut) }
  if ('responseDeleteRange' in op) return { response_delete_range: encodeDeleteRange(h, op.responseDeleteRange) }
  return { response_txn: encodeTxn(h, op.responseTxn) }
}

export function encodeTxn(h: HeaderFields, r: TxnResponse): Json {
  const out: Json = { header: encodeHeader(h, r.header.revision) }
  if (r.succeeded) out.succeeded = true
  if (r.responses.length) out.responses = r.responses.map((op) => encodeOp(INNER_HEADER, op))
  return out
}

export function encodeEvent(e: Event): Json {
  const out: Json = {}
  if (e.type === 'DELETE') out.type = 'DELETE'
  out.kv = encodeKv(e.kv)
  if (e.prevKv) out.prev_kv = encodeKv(e.prevKv)
  return out
}
