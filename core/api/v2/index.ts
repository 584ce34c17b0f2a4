// The etcd v2 API of one member: /v2/keys, /v2/members, /v2/machines, /v2/stats/*. The client
// server creates one V2Api per listener and hands it every request under those paths; the V2Api
// also runs this member's share of TTL expiry (it acts only while the member leads).
// See docs/api-v2.md.

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { Member } from '../../server/member.ts'
import { serveMachines, serveMembers, serveStats } from './cluster-http.ts'
import type { ClusterContext, MembershipPort } from './cluster-http.ts'
import { ExpiryLoop } from './expiry.ts'
import { corsHeaders, sendHttpError, sendText } from './http-util.ts'
import { authorizeV2, isAuthRefusal } from './auth.ts'
import type { AuthGate } from '../auth-gate.ts'
import { keysPrefix, serveKeys } from './keys-http.ts'
import type { KeysContext } from './keys-http.ts'
import { V2Store } from './store.ts'
import type { V2Backend, WriteAs } from './store.ts'
import type { TxnRequest, TxnResponse } from '../../mvcc/requests.ts'

export { V2Store, type V2Backend } from './store.ts'
export type { MembershipPort } from './cluster-http.ts'

export interface V2ApiOptions {
  member: Member
  logger: Logger
  maxRequestBytes: number
  /** Membership changes on behalf of a request (see ClusterContext). */
  membership?: (req: IncomingMessage) => MembershipPort
  /** Checks credentials once auth is enabled (see auth.ts). */
  gate?: AuthGate
}

/** The member seen through the narrow interface the v2 store uses. */
export function memberBackend(member: Member): V2Backend {
  return {
    range: (request) => member.mvcc.range(request),
    latest: (keys) => member.mvcc.latest(keys),
    txn: (request, as) => (as === undefined ? member.txn(request) : guardedTxn(member, request, as)),
    linearizableBarrier: () => member.linearizableBarrier(),
    currentRevision: () => member.mvcc.currentRevision(),
    compactRevision: () => member.mvcc.compactRevision(),
    watch: (request) => member.watchHub.watch(request),
  }
}

/** A v2 write made for a user: refused when applied if the user's permissions changed meanwhile. */
async function guardedTxn(member: Member, request: TxnRequest, as: WriteAs): Promise<TxnResponse> {
  const outcome = await member.propose({ guarded: { user: as.user, userRevision: as.revision, request: { txn: request } } })
  if (outcome.status === 'refused') throw outcome.error
  if (outcome.status === 'applied' && outcome.response !== undefined && 'txn' in outcome.response) return outcome.response.txn
  throw new Error('a guarded v2 write was applied with an unexpected answer')
}

/** True for the paths the v2 API answers: everything under /v2/ (unknown ones get Go's 404). */
export function isV2Path(path: string): boolean {
  return path.startsWith('/v2/')
}

export class V2Api {
  readonly store: V2Store
  private readonly expiry: ExpiryLoop
  private readonly keys: KeysContext
  private readonly cluster: ClusterContext
  private leaderSeen = { id: 0, sinceMs: Date.now() }
  /** Notices leader changes for /v2/stats/self's leaderInfo (the member has no event for them). */
  private readonly leaderWatch: NodeJS.Timeout

  constructor(private readonly opts: V2ApiOptions) {
    const member = opts.member
    this.store = new V2Store(memberBackend(member))
    this.expiry = new ExpiryLoop(this.store, () => member.isLeader(), opts.logger)
    const clusterIdHex = () => member.clusterId.toString(16)
    this.keys = {
      store: this.store,
      clusterIdHex,
      raftIndex: () => member.appliedIndex(),
      raftTerm: () => member.term(),
      maxRequestBytes: opts.maxRequestBytes,
      logError: (e) => opts.logger.error({ err: e }, 'v2 request failed'),
    }
    this.cluster = {
      memberId: member.id,
      name: member.name,
      clusterIdHex,
      members: () => member.registry.list(),
      leaderId: () => member.leaderId(),
      isLeader: () => member.isLeader(),
      membership: opts.membership,
      stats: this.store.stats,
      startedMs: Date.now(),
      leaderSinceMs: () => this.leaderSince(),
      now: Date.now,
      maxRequestBytes: opts.maxRequestBytes,
    }
    this.expiry.start()
    this.leaderSeen = { id: member.leaderId(), sinceMs: Date.now() }
    this.leaderWatch = setInterval(() => this.leaderSince(), 250)
    this.leaderWatch.unref?.()
  }

  private leaderSince(): number {
    const id = this.opts.member.leaderId()
    if (id !== this.leaderSeen.id) this.leaderSeen = { id, sinceMs: Date.now() }
    return this.leaderSeen.sinceMs
  }

  /** True when the request is for the v2 API (see isV2Path). */
  owns(req: IncomingMessage): boolean {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    return isV2Path(q === -1 ? url : url.slice(0, q))
  }

  /** Serves one request on a v2 path. Never rejects: failures are answered. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    const rawPath = q === -1 ? url : url.slice(0, q)
    const query = q === -1 ? '' : url.slice(q + 1)
    try {
      if (req.method === 'OPTIONS') {
        // etcd's CORS handler answers every preflight itself.
        req.resume()
        res.writeHead(200, { ...corsHeaders, 'Content-Length': 0 }).end()
        return
      }
      let principal: WriteAs | undefined
      try {
        principal = await authorizeV2(this.opts.gate, req, rawPath)
      } catch (e) {
        if (!isAuthRefusal(e)) throw e
        req.resume()
        return sendHttpError(res, 401, 'Insufficient credentials')
      }
      if (rawPath === keysPrefix || rawPath.startsWith(keysPrefix + '/')) return await serveKeys(req, res, rawPath, query, this.keys, principal)
      if (rawPath === '/v2/machines') return serveMachines(req, res, this.cluster)
      if (rawPath.startsWith('/v2/stats/')) return serveStats(req, res, rawPath, this.cluster)
      if (rawPath === '/v2/members' || rawPath.startsWith('/v2/members/')) return await serveMembers(req, res, rawPath, this.cluster)
      req.resume()
      sendText(res, 404, '404 page not found\n')
    } catch (e) {
      this.opts.logger.error({ err: e }, 'v2 request failed')
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'application/json' }).end('{"message":"Internal Server Error"}\n')
      else res.destroy()
    }
  }

  close(): void {
    this.expiry.stop()
    clearInterval(this.leaderWatch)
  }
}

const shared = new WeakMap<Member, { api: V2Api; users: number }>()

/**
 * The member's V2Api, shared by all its client listeners (one expiry loop per member). Call the
 * returned release() when a listener closes; the last one stops the loop.
 */
export function acquireV2Api(opts: V2ApiOptions): { api: V2Api; release: () => void } {
  let entry = shared.get(opts.member)
  if (entry === undefined) {
    entry = { api: new V2Api(opts), users: 0 }
    shared.set(opts.member, entry)
  }
  entry.users++
  const held = entry
  let released = false
  const release = () => {
    if (released) return
    released = true
    if (--held.users === 0) {
      held.api.close()
      shared.delete(opts.member)
    }
  }
  return { api: held.api, release }
}
