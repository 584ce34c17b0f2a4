// The v3 JSON API's unary endpoints: path → decode → member call → etcd-shaped answer.

import { CairnError, errorFromEtcdBody, InvalidArgumentError, NoLeaderError } from '../errors.ts'
import type { Member } from '../server/member.ts'
import { Membership } from '../server/membership.ts'
import type { MemberInfo } from '../server/registry.ts'
import { alarmActions, alarmTypes } from '../mvcc/index.ts'
import type { AlarmMember, AlarmRequest } from '../mvcc/index.ts'
import { asObject, boolField, enumField, field, int64Field } from './json-fields.ts'
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
import type { Fetch } from '../tls/fetch.ts'
import type { ForwardAnswer, ForwardPost } from './forward-post.ts'
import { allAllowed, deleteAccesses, putAccesses, txnAccesses, type KeyAccess } from '../auth/permissions.ts'
import { requireAccess, type AuthGate, type Identity, type Principal } from './auth-gate.ts'
import { authRoutes } from './v3-auth-routes.ts'
import type { ApplyResponse, GuardedRequest } from '../mvcc/requests.ts'

export function headerOf(member: Member): HeaderFields {
  return { clusterId: idToDecimal(member.clusterId), memberId: idToDecimal(member.id), raftTerm: member.term() }
}

/**
 * What a route needs beyond the member: who asked (undefined while auth is off) and their
 * Authorization header for forwarding, and how to reach another member's client URL (TLS settings).
 */
export interface RouteContext {
  principal: Principal | undefined
  /** How to call another member's client URL (forwarding to the leader); default: global fetch. */
  fetch?: Fetch | undefined
  /** How to forward a request to the leader; when absent, `fetch` is used. */
  forward?: ForwardPost | undefined
  authorization?: string | undefined
  gate?: AuthGate | undefined
  /** The request's credentials, to check them again against a newer auth state. */
  identity?: Identity | undefined
}

/**
 * Refuses what the principal may not do — but before refusing, catches up with the cluster (ReadIndex)
 * and checks again, so that a member lagging behind a fresh grant does not refuse. (What it allows is
 * checked once more when the write is applied, see core/auth/guard.ts.)
 */
async function requireAccessFresh(m: Member, ctx: RouteContext, needs: KeyAccess[]): Promise<Principal | undefined> {
  if (ctx.principal === undefined || allAllowed(ctx.principal.permissions, needs)) return ctx.principal
  await m.linearizableBarrier()
  const fresh = await reauthorized(ctx)
  requireAccess(fresh, needs)
  return fresh
}

/** The principal re-resolved against the auth state applied now. */
async function reauthorized(ctx: RouteContext): Promise<Principal | undefined> {
  if (ctx.gate === undefined) return ctx.principal
  return ctx.gate.resolve(ctx.identity)
}

type Handler = (body: unknown, member: Member, path: string, ctx: RouteContext) => Promise<Json>

const routes: Record<string, Handler> = {
  '/v3/kv/range': async (body, m, _path, ctx) => {
    const r = decodeRange(body)
    if (ctx.principal === undefined) return encodeRange(headerOf(m), await m.range(r))
    // A linearizable read is checked against the auth state as of its read index (etcd checks after
    // the ReadIndex too): a lagging member neither lets a revoked permission through nor refuses a
    // fresh grant. A serializable read uses the member's state, as its data.
    if (!r.serializable) await m.linearizableBarrier()
    requireAccess(r.serializable ? ctx.principal : await reauthorized(ctx), [{ access: 'read', key: r.key, rangeEnd: r.rangeEnd }])
    return encodeRange(headerOf(m), await m.mvcc.range(r))
  },
  '/v3/kv/put': async (body, m, _path, ctx) => {
    const r = decodePut(body)
    const principal = await requireAccessFresh(m, ctx, putAccesses(r))
    if (principal === undefined) return encodePut(headerOf(m), await m.put(r))
    return encodePut(headerOf(m), await proposeGuarded(m, principal, { put: r }, (a) => ('put' in a ? a.put : undefined)))
  },
  '/v3/kv/deleterange': async (body, m, _path, ctx) => {
    const r = decodeDeleteRange(body)
    const principal = await requireAccessFresh(m, ctx, deleteAccesses(r))
    if (principal === undefined) return encodeDeleteRange(headerOf(m), await m.deleteRange(r))
    return encodeDeleteRange(headerOf(m), await proposeGuarded(m, principal, { deleteRange: r }, (a) => ('deleteRange' in a ? a.deleteRange : undefined)))
  },
  '/v3/kv/txn': async (body, m, _path, ctx) => {
    const r = decodeTxn(body)
    const principal = await requireAccessFresh(m, ctx, txnAccesses(r))
    if (principal === undefined) return encodeTxn(headerOf(m), await m.txn(r))
    return encodeTxn(headerOf(m), await proposeGuarded(m, principal, { txn: r }, (a) => ('txn' in a ? a.txn : undefined)))
  },
  '/v3/kv/compaction': async (body, m) => {
    const r = await m.compact(decodeCompaction(body))
    return { header: encodeHeader(headerOf(m), r.header.revision) }
  },
  '/v3/lease/grant': leaseGrant,
  '/v3/lease/revoke': leaseRevoke,
  '/v3/kv/lease/revoke': leaseRevoke,
  '/v3/lease/keepalive': leaderOnly(async (body, m) => {
    // etcd's gateway streams keep-alives; a single request gets one result frame.
    const id = decodeLeaseId(body)
    try {
      const r = await m.leaseKeepAlive(id)
      return { result: { header: encodeHeader(headerOf(m), m.mvcc.currentRevision()), ID: String(r.id), TTL: String(r.ttl) } }
    } catch (e) {
      // etcd answers a keep-alive of an unknown lease with TTL 0 (left out), not an error.
      if (e instanceof CairnError && e.code === 'LeaseNotFound') {
        return { result: { header: encodeHeader(headerOf(m), m.mvcc.currentRevision()), ID: String(id) } }
      }
      throw e
    }
  }),
  '/v3/lease/timetolive': leaseTimeToLive,
  '/v3/kv/lease/timetolive': leaseTimeToLive,
  '/v3/lease/leases': async (_body, m) => {
    await m.linearizableBarrier()
    const r = await m.mvcc.leaseLeases()
    const out: Json = { header: encodeHeader(headerOf(m), r.header.revision) }
    if (r.leases.length) out.leases = r.leases.map((l) => ({ ID: String(l.id) }))
    return out
  },
  '/v3/kv/lease/leases': async (body, m, path, ctx) => routes['/v3/lease/leases']!(body, m, path, ctx),
  ...authRoutes,
  '/v3/cluster/member/list': async (_body, m) => {
    const out: Json = { header: encodeHeader(headerOf(m), 0) }
    out.members = m.registry.list().map(encodeMember)
    return out
  },
  '/v3/cluster/member/add': leaderOnly(async (body, m) => {
    const o = asObject(body, 'member add request')
    const r = await membershipOf(m).add(stringList(field(o, 'peerURLs')), boolField(o, 'isLearner') ?? false)
    return { header: encodeHeader(headerOf(m), 0), member: encodeMember(r.member), members: r.members.map(encodeMember) }
  }),
  '/v3/cluster/member/remove': leaderOnly(async (body, m) => {
    const members = await membershipOf(m).remove(memberIdField(body))
    return { header: encodeHeader(headerOf(m), 0), members: members.map(encodeMember) }
  }),
  '/v3/cluster/member/promote': leaderOnly(async (body, m) => {
    const members = await membershipOf(m).promote(memberIdField(body))
    return { header: encodeHeader(headerOf(m), 0), members: members.map(encodeMember) }
  }),
  '/v3/cluster/member/update': async (body, m) => {
    const o = asObject(body, 'member update request')
    const members = await membershipOf(m).update(memberIdField(body), stringList(field(o, 'peerURLs')))
    return { header: encodeHeader(headerOf(m), 0), members: members.map(encodeMember) }
  },
  '/v3/maintenance/transfer-leadership': leaderOnly(async (body, m) => {
    const o = asObject(body, 'move leader request')
    const target = int64Field(o, 'targetID') ?? int64Field(o, 'target_id') ?? 0
    await m.transferLeadership(target)
    return { header: encodeHeader(headerOf(m), m.mvcc.currentRevision()) }
  }),
  '/v3/maintenance/alarm': async (body, m) => {
    const request = decodeAlarm(body)
    if (request.action === 'GET') {
      // etcd sends GET through the log too; a linearizable read of the applied table answers the same.
      await m.linearizableBarrier()
      return encodeAlarms(m, m.mvcc.currentRevision(), m.mvcc.alarmList(request.alarm))
    }
    const outcome = await m.propose({ alarm: request })
    if (outcome.status === 'refused') throw outcome.error
    if (outcome.status !== 'applied' || !outcome.response || !('alarm' in outcome.response)) throw new Error('alarm: unexpected apply outcome')
    return encodeAlarms(m, outcome.response.alarm.header.revision, outcome.response.alarm.alarms)
  },
  '/v3/maintenance/defragment': async (_body, m) => {
    // RocksDB reclaims the space of deleted data in its own background compactions, without stopping
    // anything (etcd's defragment stops the member). What is left to wait for is the deletion of
    // history below the compact revision, so an `etcdctl defrag` in a NOSPACE recovery script still
    // means "the space freed by compaction is gone from the keyspace".
    await m.mvcc.compacted()
    return { header: encodeHeader(headerOf(m), m.mvcc.currentRevision()) }
  },
  '/v3/maintenance/status': async (_body, m) => {
    const out: Json = {
      header: encodeHeader(headerOf(m), m.mvcc.currentRevision()),
      version: '3.4.0',
      dbSize: String(m.dbSize().total),
      leader: idToDecimal(m.leaderId()),
      raftIndex: String(m.committedIndex()),
      raftTerm: String(m.term()),
      raftAppliedIndex: String(m.appliedIndex()),
      dbSizeInUse: String(m.dbSize().inUse),
    }
    if (m.isLearner()) out.isLearner = true
    // etcd 3.4 lists a missing leader and the active alarms here, as proto text ("memberID:… alarm:NOSPACE ").
    const errors = [...(m.leaderId() === 0 ? ['etcdserver: no leader'] : []), ...m.mvcc.alarmList().map((a) => `memberID:${a.memberId} alarm:${a.alarm} `)]
    if (errors.length) out.errors = errors
    return out
  },
}

/** etcd's AlarmRequest: {action, memberID, alarm}, enums as names or numbers. */
export function decodeAlarm(body: unknown): AlarmRequest {
  const o = asObject(body, 'alarm request')
  const memberId = int64Field(o, 'memberID') ?? int64Field(o, 'member_id') ?? 0
  if (memberId < 0) throw new InvalidArgumentError('memberID must not be negative')
  return { action: enumField(o, 'action', alarmActions) ?? 'GET', memberId, alarm: enumField(o, 'alarm', alarmTypes) ?? 'NONE' }
}

function encodeAlarms(m: Member, revision: number, alarms: AlarmMember[]): Json {
  const out: Json = { header: encodeHeader(headerOf(m), revision) }
  if (alarms.length) out.alarms = alarms.map((a) => ({ memberID: idToDecimal(a.memberId), alarm: a.alarm }))
  return out
}

/**
 * Proposes a write checked for `principal`, carrying the user's permission revision so that the entry
 * is refused (AuthOldRevision) if the permissions changed before it is applied.
 */
async function proposeGuarded<T>(m: Member, principal: Principal, request: GuardedRequest, pick: (a: ApplyResponse) => T | undefined): Promise<T> {
  const outcome = await m.propose({ guarded: { user: principal.user, userRevision: principal.revision, request } })
  if (outcome.status === 'refused') throw outcome.error
  const value = outcome.status === 'applied' && outcome.response !== undefined ? pick(outcome.response) : undefined
  if (value === undefined) throw new Error('a guarded write was applied with an unexpected answer')
  return value
}

const memberships = new WeakMap<Member, Membership>()

function membershipOf(m: Member): Membership {
  let ms = memberships.get(m)
  if (!ms) memberships.set(m, (ms = new Membership(m, true)))
  return ms
}

function encodeMember(x: MemberInfo): Json {
  const o: Json = { ID: idToDecimal(x.id) }
  if (x.name) o.name = x.name
  if (x.peerUrls.length) o.peerURLs = x.peerUrls
  if (x.clientUrls.length) o.clientURLs = x.clientUrls
  if (x.isLearner) o.isLearner = true
  return o
}

function memberIdField(body: unknown): number {
  const id = int64Field(asObject(body, 'member request'), 'ID')
  if (id === undefined || id <= 0) throw new InvalidArgumentError('ID: a member ID is required')
  return id
}

function stringList(v: unknown): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new CairnError('MemberBadUrls', 'peerURLs must be a list of URLs')
  return v as string[]
}

/** Runs `handler` on the leader: a follower forwards the request to the leader's client URL. */
function leaderOnly(handler: Handler): Handler {
  return async (body, m, path, ctx) => {
    // Just after an election or a restart, the leader may not be known yet, or its client URL not
    // yet published: wait a little rather than fail at once.
    const deadline = Date.now() + 3_000
    for (;;) {
      if (m.isLeader()) return handler(body, m, path, ctx)
      const url = m.registry.get(m.leaderId())?.clientUrls[0]
      if (url) return forwarded(ctx, url + path, body)
      if (Date.now() > deadline) throw new NoLeaderError()
      await new Promise((r) => setTimeout(r, 50))
    }
  }
}

async function forwarded(ctx: RouteContext, url: string, body: unknown): Promise<Json> {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-cairn-forwarded': '1' }
  // The leader checks the same credentials again (tokens verify on every member); a caller known by
  // its certificate alone goes with a token naming it, since the leader sees our certificate.
  const authorization = ctx.gate ? ctx.gate.onwardAuthorization(ctx.authorization, ctx.identity) : ctx.authorization
  if (authorization !== undefined) headers.authorization = authorization
  let answer: ForwardAnswer
  try {
    answer = ctx.forward
      ? await ctx.forward(url, JSON.stringify(body), headers, FORWARD_TIMEOUT_MS)
      : await viaFetch(ctx.fetch ?? fetch, url, JSON.stringify(body), headers)
  } catch (e) {
    // The leader we know of is gone (killed, partitioned, or just deposed): a retryable answer, as
    // etcd gives while an election runs, rather than an internal error.
    throw new CairnError('LeaderChanged', `leader at ${url} unreachable: ${(e as Error).message}`)
  }
  const json = answer.body as Json
  if (answer.status !== 200) throw errorFromEtcdBody(json as { code?: number; message?: string; error?: string })
  return json
}

const FORWARD_TIMEOUT_MS = 15_000

async function viaFetch(post: Fetch, url: string, body: string, headers: Record<string, string>): Promise<ForwardAnswer> {
  const res = await post(url, { method: 'POST', body, headers, signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS) })
  return { status: res.status, body: await res.json() }
}

async function leaseGrant(body: unknown, m: Member): Promise<Json> {
  const { ttl, id } = decodeLeaseGrant(body)
  const r = await m.leaseGrant(ttl, id)
  return { header: encodeHeader(headerOf(m), r.header.revision), ID: String(r.id), TTL: String(r.ttl) }
}

async function leaseRevoke(body: unknown, m: Member, _path: string, ctx: RouteContext): Promise<Json> {
  const id = decodeLeaseId(body)
  if (ctx.principal !== undefined && !ctx.principal.permissions.root) {
    // etcd's rule: revoking deletes the lease's keys, so it needs write access to every one of them.
    await m.linearizableBarrier()
    const attached = await m.mvcc.leaseTimeToLive({ id, keys: true })
    requireAccess(ctx.principal, (attached?.keys ?? []).map((key) => ({ access: 'write' as const, key })))
  }
  const r = await m.leaseRevoke(id)
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

export async function routeV3(path: string, body: unknown, member: Member, ctx: RouteContext = { principal: undefined }): Promise<Json | undefined> {
  const handler = routes[path]
  if (!handler) return undefined
  return handler(body, member, path, ctx)
}

export function v3Paths(): string[] {
  return Object.keys(routes)
}
