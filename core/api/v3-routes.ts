// The v3 JSON API's unary endpoints: path → decode → member call → etcd-shaped answer.

import type { Member } from '../server/member.ts'
import { idToDecimal } from './ids-json.ts'
import {
  decodeCompaction,
  decodeDeleteRange,
  decodeLeaseGrant,
  decodeLeaseId,
  decodeLeaseTimeToLive,
  decodePut,
  decodeRange,
  decodeTxn,
} from './v3-decode.ts'
import { encodeDeleteRange, encodeHeader, encodePut, encodeRange, encodeTxn } from './v3-encode.ts'
import type { HeaderFields, Json } from './v3-encode.ts'

export function headerOf(member: Member): HeaderFields {
  return { clusterId: idToDecimal(member.clusterId), memberId: idToDecimal(member.id), raftTerm: member.term() }
}

type Handler = (body: unknown, member: Member) => Promise<Json>

const routes: Record<string, Handler> = {
  '/v3/kv/range': async (body, m) => encodeRange(headerOf(m), await m.range(decodeRange(body))),
  '/v3/kv/put': async (body, m) => encodePut(headerOf(m), await m.put(decodePut(body))),
  '/v3/kv/deleterange': async (body, m) => encodeDeleteRange(headerOf(m), await m.deleteRange(decodeDeleteRange(body))),
  '/v3/kv/txn': async (body, m) => encodeTxn(headerOf(m), await m.txn(decodeTxn(body))),
  '/v3/kv/compaction': async (body, m) => {
    const r = await m.compact(decodeCompaction(body))
    return { header: encodeHeader(headerOf(m), r.header.revision) }
  },
  '/v3/lease/grant': leaseGrant,
  '/v3/lease/revoke': leaseRevoke,
  '/v3/kv/lease/revoke': leaseRevoke,
  '/v3/lease/keepalive': async (body, m) => {
    // etcd's gateway streams keep-alives; a single request gets one result frame.
    const id = decodeLeaseId(body)
    const r = await m.leaseKeepAlive(id)
    return { result: { header: encodeHeader(headerOf(m), m.mvcc.currentRevision()), ID: String(r.id), TTL: String(r.ttl) } }
  },
  '/v3/lease/timetolive': leaseTimeToLive,
  '/v3/kv/lease/timetolive': leaseTimeToLive,
  '/v3/lease/leases': async (_body, m) => {
    await m.linearizableBarrier()
    const r = await m.mvcc.leaseLeases()
    const out: Json = { header: encodeHeader(headerOf(m), r.header.revision) }
    if (r.leases.length) out.leases = r.leases.map((l) => ({ ID: String(l.id) }))
    return out
  },
  '/v3/kv/lease/leases': async (body, m) => routes['/v3/lease/leases']!(body, m),
  '/v3/cluster/member/list': async (_body, m) => {
    const out: Json = { header: encodeHeader(headerOf(m), 0) }
    out.members = m.registry.list().map((x) => {
      const o: Json = { ID: idToDecimal(x.id) }
      if (x.name) o.name = x.name
      if (x.peerUrls.length) o.peerURLs = x.peerUrls
      if (x.clientUrls.length) o.clientURLs = x.clientUrls
      if (x.isLearner) o.isLearner = true
      return o
    })
    return out
  },
  '/v3/maintenance/status': async (_body, m) => {
    const out: Json = {
      header: encodeHeader(headerOf(m), m.mvcc.currentRevision()),
      version: '3.4.0',
      dbSize: '0',
      leader: idToDecimal(m.leaderId()),
      raftIndex: String(m.committedIndex()),
      raftTerm: String(m.term()),
      raftAppliedIndex: String(m.appliedIndex()),
      dbSizeInUse: '0',
    }
    if (m.isLearner()) out.isLearner = true
    return out
  },
}

async function leaseGrant(body: unknown, m: Member): Promise<Json> {
  const { ttl, id } = decodeLeaseGrant(body)
  const r = await m.leaseGrant(ttl, id)
  return { header: encodeHeader(headerOf(m), r.header.revision), ID: String(r.id), TTL: String(r.ttl) }
}

async function leaseRevoke(body: unknown, m: Member): Promise<Json> {
  const r = await m.leaseRevoke(decodeLeaseId(body))
  return { header: encodeHeader(headerOf(m), r.header.revision) }
}

async function leaseTimeToLive(body: unknown, m: Member): Promise<Json> {
  const { id, keys } = decodeLeaseTimeToLive(body)
  await m.linearizableBarrier()
  const r = await m.mvcc.leaseTimeToLive({ id, keys })
  if (!r) {
    // etcd answers a missing lease with TTL -1 rather than an error.
    return { header: encodeHeader(headerOf(m), m.mvcc.currentRevision()), ID: String(id), TTL: '-1' }
  }
  const out: Json = {
    header: encodeHeader(headerOf(m), r.header.revision),
    ID: String(r.id),
    TTL: String(m.leaseRemainingSeconds(r.id, r.grantedTtl)),
    grantedTTL: String(r.grantedTtl),
  }
  if (keys && r.keys.length) out.keys = r.keys.map((k) => Buffer.from(k).toString('base64'))
  return out
}

export async function routeV3(path: string, body: unknown, member: Member): Promise<Json | undefined> {
  const handler = routes[path]
  if (!handler) return undefined
  return handler(body, member)
}

export function v3Paths(): string[] {
  return Object.keys(routes)
}
