// The v2 cluster endpoints as etcd serves them: /v2/members (+ /v2/members/leader), /v2/machines
// and /v2/stats/{self,leader,store}. Member IDs are hex, as etcd writes them.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { CairnError } from '../../errors.ts'
import { goTimeJson } from './node-json.ts'
import { corsHeaders, goDuration, readBinaryBody, sendHttpError, sendJsonLine, sendMethodNotAllowed, sendText } from './http-util.ts'
import type { V2Stats } from './stats.ts'

export interface ClusterMember {
  id: number
  name: string
  peerUrls: string[]
  clientUrls: string[]
}

/** Membership changes, when the server offers them; without it POST/PUT/DELETE answer 501. */
export interface MembershipPort {
  add(peerUrls: string[]): Promise<ClusterMember>
  remove(id: number): Promise<void>
  update(id: number, peerUrls: string[]): Promise<void>
}

export interface ClusterContext {
  memberId: number
  name: string
  clusterIdHex: () => string
  members: () => ClusterMember[]
  leaderId: () => number
  isLeader: () => boolean
  /** Membership changes on behalf of a request (its credentials go along when forwarded to the leader). */
  membership: ((req: IncomingMessage) => MembershipPort) | undefined
  stats: V2Stats
  startedMs: number
  /** Since when the current leader has been known here. */
  leaderSinceMs: () => number
  now: () => number
  maxRequestBytes: number
}

const hex = (id: number) => id.toString(16)

/** etcd's httptypes.Member: every field present, lists never null. */
export function memberJson(m: ClusterMember): { id: string; name: string; peerURLs: string[]; clientURLs: string[] } {
  return { id: hex(m.id), name: m.name, peerURLs: [...m.peerUrls], clientURLs: [...m.clientUrls] }
}

const membersPrefix = '/v2/members'
const membersMethods = ['GET', 'POST', 'DELETE', 'PUT'] as const

export async function serveMembers(req: IncomingMessage, res: ServerResponse, path: string, ctx: ClusterContext): Promise<void> {
  const method = req.method ?? 'GET'
  if (!(membersMethods as readonly string[]).includes(method)) return sendMethodNotAllowed(res, membersMethods)
  const headers = { 'X-Etcd-Cluster-Id': ctx.clusterIdHex() }
  const rest = path.slice(membersPrefix.length).replace(/^\//, '')
  if (method === 'GET') {
    req.resume()
    if (rest === '') return sendJsonLine(res, 200, { members: ctx.members().map(memberJson) }, headers)
    if (rest === 'leader') {
      const leader = ctx.members().find((m) => m.id === ctx.leaderId())
      if (ctx.leaderId() === 0 || leader === undefined) return sendHttpError(res, 503, 'During election', headers)
      return sendJsonLine(res, 200, memberJson(leader), headers)
    }
    return sendHttpError(res, 404, 'Not found', headers)
  }
  if (method === 'POST') return addMember(req, res, ctx, headers)
  // DELETE and PUT name a member.
  if (rest === '') {
    req.resume()
    return sendText(res, 405, 'Method Not Allowed\n', headers)
  }
  const id = /^[0-9a-fA-F]{1,16}$/.test(rest) ? Number.parseInt(rest, 16) : undefined
  const known = id === undefined ? undefined : ctx.members().find((m) => m.id === id)
  if (method === 'PUT') {
    const body = await readMemberRequest(req, res, ctx.maxRequestBytes, headers)
    if (body === undefined) return
    if (known === undefined) return sendHttpError(res, 404, `No such member: ${rest}`, headers)
    return changeMembership(req, res, headers, ctx, async (port) => {
      await port.update(known.id, body.peerURLs)
      res.writeHead(204, headers).end()
    })
  }
  req.resume()
  if (known === undefined) return sendHttpError(res, 404, `No such member: ${rest}`, headers)
  return changeMembership(req, res, headers, ctx, async (port) => {
    await port.remove(known.id)
    res.writeHead(204, headers).end()
  })
}

async function addMember(req: IncomingMessage, res: ServerResponse, ctx: ClusterContext, headers: Record<string, string>): Promise<void> {
  const body = await readMemberRequest(req, res, ctx.maxRequestBytes, headers)
  if (body === undefined) return
  return changeMembership(req, res, headers, ctx, async (port) => {
    const added = await port.add(body.peerURLs)
    sendJsonLine(res, 201, memberJson(added), headers)
  })
}

async function changeMembership(
  req: IncomingMessage,
  res: ServerResponse,
  headers: Record<string, string>,
  ctx: ClusterContext,
  change: (port: MembershipPort) => Promise<void>,
): Promise<void> {
  if (ctx.membership === undefined) {
    return sendHttpError(res, 501, 'cairn: membership changes through /v2/members are not available on this member yet', headers)
  }
  try {
    await change(ctx.membership(req))
  } catch (e) {
    if (!(e instanceof CairnError)) throw e
    if (e.code === 'MemberExists' || e.code === 'PeerUrlExists') return sendHttpError(res, 409, e.message, headers)
    if (e.code === 'MemberNotFound') return sendHttpError(res, 404, e.message, headers)
    sendHttpError(res, e.httpStatus, e.toEtcdBody().message, headers)
  }
}

/** etcd's MemberCreateRequest / MemberUpdateRequest: JSON {"peerURLs": [valid URLs]}. */
async function readMemberRequest(
  req: IncomingMessage,
  res: ServerResponse,
  maxBytes: number,
  headers: Record<string, string>,
): Promise<{ peerURLs: string[] } | undefined> {
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
  if (contentType !== 'application/json') {
    req.resume()
    sendHttpError(res, 415, `Bad Content-Type ${contentType}, accept application/json`, headers)
    return undefined
  }
  let raw: string
  try {
    raw = Buffer.from(await readBinaryBody(req, maxBytes), 'latin1').toString('utf8')
  } catch {
    sendHttpError(res, 400, 'http: request body too large', headers)
    return undefined
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch (e) {
    sendHttpError(res, 400, goJsonSyntaxError(e as Error), headers)
    return undefined
  }
  const problem = peerUrlsProblem(parsed)
  if (problem !== undefined) {
    sendHttpError(res, 400, problem, headers)
    return undefined
  }
  return { peerURLs: (parsed as { peerURLs: string[] }).peerURLs }
}

/** What is wrong with a member request body, in the words Go's decoder and etcd use; undefined if fine. */
export function peerUrlsProblem(parsed: unknown): string | undefined {
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return `json: cannot unmarshal ${goJsonType(parsed)} into Go value of type struct { PeerURLs []string "json:\\"peerURLs\\"" }`
  }
  const urls = (parsed as { peerURLs?: unknown }).peerURLs
  if (urls === undefined || urls === null) return 'URL address does not have the form "host:port": '
  if (!Array.isArray(urls)) return `json: cannot unmarshal ${goJsonType(urls)} into Go struct field .peerURLs of type []string`
  for (const u of urls) {
    if (typeof u !== 'string') return `json: cannot unmarshal ${goJsonType(u)} into Go struct field .peerURLs of type string`
    if (!isHttpUrl(u)) return `URL scheme must be http, https, unix, or unixs: ${u}`
  }
  if (urls.length === 0) return 'URL address does not have the form "host:port": '
  return undefined
}

/** Go's decoder words a syntax error differently from V8; say it Go's way (close enough to match on). */
function goJsonSyntaxError(e: Error): string {
  const token = /Unexpected token '?(.)/.exec(e.message)?.[1]
  if (token === undefined) return 'unexpected end of JSON input'
  return `invalid character '${token}' looking for beginning of value`
}

function goJsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array'
  if (v === null) return 'null'
  return typeof v === 'boolean' ? 'bool' : typeof v
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s)
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.pathname === '/' && u.search === ''
  } catch {
    return false
  }
}

export function serveMachines(req: IncomingMessage, res: ServerResponse, ctx: ClusterContext): void {
  req.resume()
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendMethodNotAllowed(res, ['GET', 'HEAD'])
  const urls = ctx.members().flatMap((m) => m.clientUrls).sort()
  sendText(res, 200, urls.join(', '), { 'Content-Type': 'text/plain; charset=utf-8' })
}

export function serveStats(req: IncomingMessage, res: ServerResponse, path: string, ctx: ClusterContext): void {
  req.resume()
  const which = path.slice('/v2/stats/'.length)
  if (which !== 'self' && which !== 'leader' && which !== 'store') return sendText(res, 404, '404 page not found\n')
  if (req.method !== 'GET') return sendMethodNotAllowed(res, ['GET'])
  if (which === 'store') return sendRawJson(res, ctx.stats.toJson())
  if (which === 'self') return sendRawJson(res, selfStats(ctx))
  if (!ctx.isLeader()) return sendHttpError(res, 403, 'not current leader')
  const followers: Record<string, unknown> = {}
  for (const m of ctx.members()) {
    if (m.id === ctx.memberId) continue
    // Cairn does not measure per-follower latency yet; the shape is etcd's, the numbers are zero.
    followers[hex(m.id)] = {
      latency: { current: 0, average: 0, standardDeviation: 0, minimum: 0, maximum: 0 },
      counts: { fail: 0, success: 0 },
    }
  }
  sendRawJson(res, { leader: hex(ctx.memberId), followers })
}

/** etcd writes the stats without a trailing newline. */
function sendRawJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(200, { ...corsHeaders, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) })
  res.end(text)
}

function selfStats(ctx: ClusterContext): Record<string, unknown> {
  const leaderId = ctx.leaderId()
  const since = ctx.leaderSinceMs()
  return {
    name: ctx.name,
    id: hex(ctx.memberId),
    state: ctx.isLeader() ? 'StateLeader' : 'StateFollower',
    startTime: goTimeJson(ctx.startedMs),
    leaderInfo: { leader: leaderId === 0 ? '' : hex(leaderId), uptime: goDuration(ctx.now() - since), startTime: goTimeJson(since) },
    recvAppendRequestCnt: 0,
    sendAppendRequestCnt: 0,
  }
}
