// The client URL's HTTP front door: etcd's v3 JSON API (gateway paths and shapes), health, version
// and metrics. Requests are read with a size bound, decoded and validated, handed to the member, and
// answered in etcd's shapes; every error becomes etcd's {error, code, message} with its HTTP status.

import { collectBody } from './body.ts'
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { ServerOptions as HttpsServerOptions } from 'node:https'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { TLSSocket } from 'node:tls'
import type { Fetch } from '../tls/fetch.ts'
import type { ForwardPost } from './forward-post.ts'
import { guardTlsListener } from '../tls/listener.ts'
import type { Logger } from 'pino'
import { CairnError, InvalidArgumentError } from '../errors.ts'
import type { Member } from '../server/member.ts'
import { v3MembershipPort } from './membership-port.ts'
import { acquireV2Api } from './v2/index.ts'
import { attachWatchEndpoints } from './watch-endpoint.ts'
import { headerOf, routeV3, v3Paths } from './v3-routes.ts'
import { encodeHeader } from './v3-encode.ts'
import { snapshotStream } from '../server/snapshot-file.ts'
import { parseRequestUrl } from '../server/request-path.ts'
import type { Metrics } from './metrics.ts'
import { bcryptCostDefault } from '../auth/passwords.ts'
import { tokenTtlMsDefault } from '../auth/tokens.ts'
import { AuthGate, identityFromRequest, requireRoot, type AuthGateOptions, type Principal } from './auth-gate.ts'
import { policyOf } from './route-policy.ts'

export const VERSION = { etcdserver: '3.4.0', etcdcluster: '3.4.0', cairn: '0.1.0' }

export interface ClientApiOptions {
  member: Member
  logger: Logger
  maxRequestBytes: number
  metrics: Metrics
  /** Token TTL and bcrypt cost (etcd's --auth-token-ttl, --bcrypt-cost); etcd's defaults when absent. */
  auth?: Partial<AuthGateOptions>
  /** Checks credentials and permissions; made from `auth` by createClientServer. */
  gate?: AuthGate
  /** Serve https with these (certificate, and client-certificate checks under --client-cert-auth). */
  tls?: HttpsServerOptions
  /**
   * How this member calls other members' client URLs (forwarding to the leader, its own discovery
   * directory): with TLS, it trusts --trusted-ca-file and presents its --cert-file. Default: global fetch.
   */
  fetch?: Fetch
  /** How this member forwards requests to the leader (default: through `fetch`). */
  forward?: ForwardPost
  /** Connection and stream bounds; each defaults to CLIENT_LIMITS_DEFAULT's. */
  limits?: Partial<ClientLimits>
}

/** Bounds on what clients may hold open or take their time over (see docs/security.md). */
export interface ClientLimits {
  /** Open connections (HTTP and WebSocket) beyond this are answered 503 and closed. */
  connectionsMax: number
  /** Watches one watch stream may hold; more are refused (created and canceled at once). */
  watchesPerStreamMax: number
  /** Time to receive a whole request, headers and body; responses (watches, waits) may stream longer. */
  requestTimeoutMs: number
  /** WebSocket ping interval; a socket that has not answered the last ping by the next is closed. */
  pingIntervalMs: number
}

export const CLIENT_LIMITS_DEFAULT: ClientLimits = {
  connectionsMax: 4096,
  watchesPerStreamMax: 10_000,
  requestTimeoutMs: 30_000,
  pingIntervalMs: 30_000,
}

export function clientLimitsOf(opts: ClientApiOptions): ClientLimits {
  return { ...CLIENT_LIMITS_DEFAULT, ...opts.limits }
}

/** Sockets over the connection limit: answered 503 and closed; no handler serves them. */
const refusedSockets = new WeakSet<object>()

export function isRefusedSocket(socket: object): boolean {
  return refusedSockets.has(socket)
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`)
  }
}

export function createClientServer(options: ClientApiOptions): Server {
  const gate =
    options.gate ??
    new AuthGate(options.member, { tokenTtlMs: options.auth?.tokenTtlMs ?? tokenTtlMsDefault, bcryptCost: options.auth?.bcryptCost ?? bcryptCostDefault })
  const opts: ClientApiOptions = { ...options, gate }
  // etcd's v2 API: /v2/keys, /v2/members, /v2/machines, /v2/stats/*. Member changes were checked for
  // root by the v2 layer; forwarded to the leader, they carry the request's credentials.
  const membershipFor = (req: IncomingMessage) =>
    v3MembershipPort(opts.member, {
      principal: undefined,
      authorization: req.headers.authorization,
      identity: identityFromRequest(req),
      gate,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.forward ? { forward: opts.forward } : {}),
    })
  const v2 = acquireV2Api({ ...opts, membership: membershipFor })
  const limits = clientLimitsOf(opts)
  const onRequest: RequestListener = (req, res) => {
    if (refusedSockets.has(req.socket)) return
    if (v2.api.owns(req)) return void v2.api.handle(req, res)
    handle(req, res, opts).catch((e: unknown) => sendError(res, e, opts.logger))
  }
  // requestTimeout bounds receiving a request (a slow or stalled sender gets 408 and is closed); it
  // stops counting once the request is in, so watches and v2 waits stream for as long as they need.
  // TCP keep-alive probes find clients that vanished while an answer streams (a POST watch, a v2
  // wait) and nothing is being written to them; WebSockets are pinged instead (watch-endpoint.ts).
  const httpOptions = {
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4))),
    keepAlive: true,
    keepAliveInitialDelay: limits.pingIntervalMs,
  }
  const server: Server = opts.tls ? tlsClientServer({ ...httpOptions, ...opts.tls }, onRequest, opts.logger) : createServer(httpOptions, onRequest)
  server.on('close', v2.release)
  server.keepAliveTimeout = 30_000
  // Over TLS a connection is counted (and refused, in TLS) once its handshake is done.
  limitConnections(server, opts.tls ? 'secureConnection' : 'connection', limits.connectionsMax, opts.logger)
  attachWatchEndpoints(server, opts)
  return server
}

/** Answers connections over the limit with one 503 and closes them, so the client learns why. */
function limitConnections(server: Server, event: 'connection' | 'secureConnection', connectionsMax: number, logger: Logger): void {
  let open = 0
  let lastWarningMs = 0
  server.on(event, (socket: Socket) => {
    open++
    socket.once('close', () => open--)
    if (open <= connectionsMax) return
    refusedSockets.add(socket)
    const message = `cairn: too many open client connections (at most ${connectionsMax}); retry later or use another member`
    endSocketWithJson(socket, 503, 'Service Unavailable', { error: message, code: 14, message })
    socket.setTimeout(1000, () => socket.destroy())
    if (Date.now() - lastWarningMs > 10_000) {
      lastWarningMs = Date.now()
      logger.warn({ open, connectionsMax }, 'refusing client connections over --max-client-connections')
    }
  })
}

/** Answers a raw socket (no HTTP exchange is served on it) with one JSON response, and closes it. */
export function endSocketWithJson(socket: Duplex, status: number, reason: string, body: unknown): void {
  const text = JSON.stringify(body)
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`)
}

/**
 * Every path the client listener answers, for tests that must cover each route (fuzzing, auth): the
 * v3 route table, the endpoints handled here and a representative of each v2 family.
 */
export function clientPaths(): string[] {
  const plain = ['/health', '/readyz', '/livez', '/version', '/metrics', '/new', '/v3/watch', '/v3/maintenance/snapshot']
  const v2 = ['/v2/keys', '/v2/keys/fuzz/a', '/v2/members', '/v2/members/1', '/v2/machines', '/v2/stats/self', '/v2/stats/leader', '/v2/stats/store']
  return [...plain, ...v3Paths(), ...v2]
}

/**
 * The client listener over TLS. A client refused during the handshake (no certificate, or one the
 * --trusted-ca-file did not sign, under --client-cert-auth) is logged with its address and the reason.
 * The verified certificate's common name is available to request handlers through
 * clientCertCommonName(req) (client-identity.ts).
 */
function tlsClientServer(tls: HttpsServerOptions, onRequest: RequestListener, logger: Logger): Server {
  const server = createHttpsServer(tls, onRequest)
  guardTlsListener(server, logger, 'client')
  return server
}

async function handle(req: IncomingMessage, res: ServerResponse, opts: ClientApiOptions): Promise<void> {
  const url = parseRequestUrl(req.url, 'http://client')
  if (!url) return sendJson(res, 400, { error: 'Bad Request: invalid request target', code: 3, message: 'Bad Request: invalid request target' })
  const path = url.pathname
  if (path === '/v3/watch') return // the watch endpoint answers it (and checks it) itself
  const principal = await authorize(req, path, opts)
  if (path === '/health' || path === '/readyz' || path === '/livez') return health(res, opts.member)
  if (path === '/version') return sendJson(res, 200, VERSION)
  if (path === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(await opts.metrics.render())
    return
  }
  if (path === '/v3/maintenance/snapshot') return serveSnapshot(req, res, opts)
  if (path === '/new' && req.method === 'GET') {
    // The token directory is made through this member's v2 API, which checks credentials again:
    // the caller's go along.
    const authorization = opts.gate ? opts.gate.onwardAuthorization(req.headers.authorization, identityFromRequest(req)) : req.headers.authorization
    return newDiscoveryToken(req, res, url, opts.fetch ?? fetch, authorization)
  }
  if (path.startsWith('/v3/')) {
    if (path === '/v3/watch') return // handled by the watch endpoint (streaming POST)
    if (req.method !== 'POST' && req.method !== 'PUT') {
      return sendJson(res, 405, { error: 'Method Not Allowed', code: 12, message: 'Method Not Allowed' })
    }
    const body = await readJson(req, opts.maxRequestBytes)
    const started = process.hrtime.bigint()
    const context = { principal, authorization: req.headers.authorization, gate: opts.gate, identity: identityFromRequest(req), ...(opts.fetch ? { fetch: opts.fetch } : {}), ...(opts.forward ? { forward: opts.forward } : {}) }
    const answer = await routeV3(path, body, opts.member, context)
    opts.metrics.observeRequest(path, Number(process.hrtime.bigint() - started) / 1e9)
    if (answer === undefined) return sendJson(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' })
    return sendJson(res, 200, answer)
  }
  sendJson(res, 404, { error: 'Not Found', code: 5, message: 'Not Found' })
}

/**
 * Checks the request against the route policy (see route-policy.ts) when auth is enabled: public
 * paths pass, others need a valid identity, root paths the root role. Returns the principal for the
 * handler's finer checks (undefined: auth is off, or a public path).
 */
export async function authorize(req: IncomingMessage, path: string, opts: ClientApiOptions): Promise<Principal | undefined> {
  const access = policyOf(path)
  if (access === 'public' || opts.gate === undefined) return undefined
  const principal = await opts.gate.authenticate(req)
  if (access === 'root') requireRoot(principal)
  return principal
}

/**
 * A consistent snapshot of the keyspace, streamed while writes go on. GET answers the raw backup file
 * (`cairn snapshot save`); POST answers etcd's gateway stream of {"result": {"blob": base64}} lines.
 */
async function serveSnapshot(req: IncomingMessage, res: ServerResponse, opts: ClientApiOptions): Promise<void> {
  const raw = req.method === 'GET'
  if (!raw) await readBody(req, opts.maxRequestBytes)
  const stream = snapshotStream(opts.member)
  const first = await stream.next() // fails before any byte is sent if the snapshot cannot be taken
  res.writeHead(200, { 'content-type': raw ? 'application/octet-stream' : 'application/json' })
  let closed = false
  res.on('close', () => {
    closed = true
  })
  // The gateway form marks the last message with remaining_bytes 0, so one chunk is held back.
  const write = async (chunk: Uint8Array, last: boolean) => {
    const ok = raw
      ? res.write(chunk)
      : res.write(
          JSON.stringify({
            result: {
              header: encodeHeader(headerOf(opts.member), opts.member.mvcc.currentRevision()),
              remaining_bytes: last ? '0' : String(chunk.byteLength),
              blob: Buffer.from(chunk).toString('base64'),
            },
          }) + '\n',
        )
    if (!ok) await new Promise((r) => res.once('drain', r))
  }
  let held = first.done ? undefined : first.value
  try {
    for await (const chunk of stream) {
      if (closed) break
      if (held) await write(held, false)
      held = chunk
    }
    if (held && !closed) await write(held, true)
  } finally {
    if (closed) await stream.return(undefined)
  }
  res.end()
}

export const DISCOVERY_SIZE_MAX = 99

/**
 * `GET /new?size=N`: makes this cluster a discovery service for a new cluster of N members, as
 * discovery.etcd.io does. Answers the discovery URL as plain text.
 */
async function newDiscoveryToken(req: IncomingMessage, res: ServerResponse, url: URL, get: Fetch, authorization: string | undefined): Promise<void> {
  const raw = url.searchParams.get('size') ?? '3'
  const size = Number(raw)
  if (!/^\d+$/.test(raw) || size < 1 || size > DISCOVERY_SIZE_MAX) {
    res.writeHead(400, { 'content-type': 'text/plain' }).end(`size must be an integer from 1 to ${DISCOVERY_SIZE_MAX}\n`)
    return
  }
  const token = randomBytes(16).toString('hex')
  const scheme = req.socket instanceof TLSSocket ? 'https' : 'http'
  const self = `${scheme}://${req.socket.localAddress?.includes(':') ? `[${req.socket.localAddress}]` : req.socket.localAddress}:${req.socket.localPort}`
  const dir = `/v2/keys/_etcd/registry/${token}`
  const put = await get(`${self}${dir}/_config/size`, {
    method: 'PUT',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization === undefined ? {} : { authorization }) },
    body: `value=${size}`,
    signal: AbortSignal.timeout(10_000),
  })
  if (put.status >= 300) {
    res.writeHead(503, { 'content-type': 'text/plain' }).end(`cannot create the discovery token: HTTP ${put.status}\n`)
    return
  }
  const host = req.headers.host ?? self.replace(/^https?:\/\//, '')
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`${scheme}://${host}${dir}\n`)
}

async function health(res: ServerResponse, member: Member): Promise<void> {
  if (member.leaderId() === 0) return sendJson(res, 503, { health: 'false', reason: 'RAFT NO LEADER' })
  try {
    await member.linearizableBarrier()
    sendJson(res, 200, { health: 'true', reason: '' })
  } catch (e) {
    sendJson(res, 503, { health: 'false', reason: (e as Error).message })
  }
}

/** Reads a body, refusing one over maxBytes as etcd does. */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return collectBody(req, maxBytes, () => new CairnError('RequestTooLarge'))
}

export async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const raw = await readBody(req, maxBytes)
  const text = raw.toString('utf8').trim()
  if (text === '') return {}
  try {
    return JSON.parse(text) as unknown
  } catch (e) {
    throw new InvalidArgumentError(`invalid JSON body: ${(e as Error).message}`)
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

export function sendError(res: ServerResponse, e: unknown, logger: Logger): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  if (e instanceof CairnError) {
    // The rest of an oversized body is not worth reading: answer, then close the connection.
    if (e.code === 'RequestTooLarge') res.setHeader('connection', 'close')
    sendJson(res, e.httpStatus, e.toEtcdBody())
    return
  }
  if (e instanceof HttpError) {
    sendJson(res, e.status, e.body)
    return
  }
  logger.error({ err: e }, 'request failed')
  sendJson(res, 500, { error: 'etcdserver: internal error', code: 13, message: 'etcdserver: internal error' })
}
