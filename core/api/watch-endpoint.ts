// Watch streams: /v3/watch as a WebSocket (JSON frames, many watches per socket) and as etcd's
// streaming POST (one watch, newline-delimited {"result": …} objects). A client that stops reading
// is cut off once its socket buffer passes a bound: server memory never grows with a slow reader.

import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer } from 'ws'
import type WebSocket from 'ws'
import { CairnError, InvalidArgumentError } from '../errors.ts'
import { requestPath } from '../server/request-path.ts'
import { EventEncoder, watchFilterTypes } from '../mvcc/index.ts'
import type { WatchCreateRequest, WatchResponse, Watcher } from '../mvcc/index.ts'
import type { ClientApiOptions } from './client-server.ts'
import { clientLimitsOf, endSocketWithJson, isRefusedSocket, readJson, sendError } from './client-server.ts'
import { arrayField, asObject, boolField, bytesField, field, int64Field } from './json-fields.ts'
import { encodeHeader, encodeEvent } from './v3-encode.ts'
import type { Json } from './v3-encode.ts'
import { headerOf } from './v3-routes.ts'
import { identityFromRequest, requireAccess, type Identity } from './auth-gate.ts'

export const WATCH_SOCKET_BUFFER_BYTES_MAX = 16 * 1024 * 1024
const WATCH_FRAME_BYTES_MAX = 1024 * 1024

const encoder = new EventEncoder<Json>(encodeEvent)

export function decodeWatchCreate(v: unknown): WatchCreateRequest {
  const o = asObject(v, 'create_request')
  const filters = arrayField(o, 'filters').map((f) => {
    if (typeof f === 'number' && f >= 0 && f < watchFilterTypes.length) return watchFilterTypes[f]!
    if (typeof f === 'string' && (watchFilterTypes as readonly string[]).includes(f)) return f as (typeof watchFilterTypes)[number]
    throw new InvalidArgumentError(`filters: unknown filter ${JSON.stringify(f)}`)
  })
  const req: WatchCreateRequest = { key: bytesField(o, 'key') ?? new Uint8Array() }
  const rangeEnd = bytesField(o, 'range_end')
  if (rangeEnd) req.rangeEnd = rangeEnd
  const start = int64Field(o, 'start_revision')
  if (start !== undefined) req.startRevision = start
  if (boolField(o, 'progress_notify')) req.progressNotify = true
  if (boolField(o, 'prev_kv')) req.prevKv = true
  if (filters.length) req.filters = filters
  return req
}

function encodeWatchResponse(opts: ClientApiOptions, r: WatchResponse): Json {
  const out: Json = { header: encodeHeader(headerOf(opts.member), r.header.revision) }
  if (r.watchId) out.watch_id = String(r.watchId)
  if (r.created) out.created = true
  if (r.canceled) out.canceled = true
  if (r.compactRevision) out.compact_revision = String(r.compactRevision)
  if (r.cancelReason) out.cancel_reason = r.cancelReason
  if (r.events.length) out.events = r.events.map((e) => encoder.get(e))
  return { result: out }
}

/** One client's watch stream (socket or POST), owning its watchers. */
class WatchStream {
  private readonly watchers = new Map<number, Watcher>()
  private nextId = 0
  private closed = false

  constructor(
    private readonly opts: ClientApiOptions,
    private readonly write: (frame: string) => boolean,
    private readonly cutOff: (reason: string) => void,
    /** The stream's credentials, checked again at each create (permissions may have changed). */
    private readonly identity: Identity | undefined = undefined,
  ) {}

  /** Refuses a watch over keys the stream's user may not read (nothing to check while auth is off). */
  async authorizedCreate(req: WatchCreateRequest, requestedId?: number): Promise<void> {
    const principal = await this.opts.gate?.resolve(this.identity)
    requireAccess(principal, [{ access: 'read', key: req.key, rangeEnd: req.rangeEnd }])
    this.create(req, requestedId)
  }

  create(req: WatchCreateRequest, requestedId?: number): void {
    const max = clientLimitsOf(this.opts).watchesPerStreamMax
    if (this.watchers.size >= max) throw new CairnError('TooManyRequests', `at most ${max} watches on one stream (--max-watches-per-connection)`)
    let id = requestedId ?? this.nextId
    if (requestedId === undefined) {
      while (this.watchers.has(id)) id++
      this.nextId = id + 1
    } else if (this.watchers.has(id)) {
      throw new InvalidArgumentError(`watch ID ${id} is already in use`)
    }
    const watcher = this.opts.member.watchHub.watch(req, id)
    this.watchers.set(id, watcher)
    void this.pump(id, watcher)
  }

  private async pump(id: number, watcher: Watcher): Promise<void> {
    try {
      for await (const r of watcher) {
        if (this.closed) break
        if (!this.write(JSON.stringify(encodeWatchResponse(this.opts, r)))) {
          this.cutOff('watch client is too slow: send buffer full')
          break
        }
      }
    } finally {
      this.watchers.delete(id)
    }
  }

  cancel(id: number): void {
    const w = this.watchers.get(id)
    if (w) w.cancel('')
  }

  progress(): void {
    for (const w of this.watchers.values()) this.opts.member.watchHub.requestProgress(w)
  }

  close(): void {
    this.closed = true
    for (const w of this.watchers.values()) w.cancel('stream closed')
    this.watchers.clear()
  }
}

export function attachWatchEndpoints(server: Server, opts: ClientApiOptions): void {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WATCH_FRAME_BYTES_MAX, perMessageDeflate: false })
  keepAlive(server, wss, clientLimitsOf(opts).pingIntervalMs)
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    // Ours to watch from here on (see the peer listener in core/server/start.ts): a reset while it is
    // refused or waits for the auth check must not become an unhandled 'error' event.
    socket.on('error', () => socket.destroy())
    if (isRefusedSocket(socket)) return
    const path = requestPath(req.url)
    if (path !== '/v3/watch') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n')
      return
    }
    const identity = identityFromRequest(req)
    // An unauthenticated socket is refused before the upgrade, with the same 401 body as a POST.
    void (opts.gate?.resolve(identity) ?? Promise.resolve(undefined)).then(
      () =>
        wss.handleUpgrade(req, socket, head, (ws) => {
          wss.emit('connection', ws, req) // keepAlive() pings it from now on
          serveSocket(ws, opts, identity)
        }),
      (e: unknown) => refuseUpgrade(socket, e),
    )
  })
  server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => {
    if (isRefusedSocket(req.socket)) return
    if (requestPath(req.url) !== '/v3/watch') return
    servePost(req, res, opts).catch((e: unknown) => sendError(res, e, opts.logger))
  })
}

/** Pings every socket each interval; one that has not answered the previous ping is closed. */
function keepAlive(server: Server, wss: WebSocketServer, intervalMs: number): void {
  const answered = new WeakSet<WebSocket>()
  wss.on('connection', (ws: WebSocket) => {
    answered.add(ws)
    ws.on('pong', () => answered.add(ws))
  })
  const timer = setInterval(() => {
    for (const ws of wss.clients) {
      if (!answered.has(ws)) {
        ws.terminate()
        continue
      }
      answered.delete(ws)
      ws.ping()
    }
  }, intervalMs)
  timer.unref()
  server.on('close', () => clearInterval(timer))
}

function refuseUpgrade(socket: Duplex, e: unknown): void {
  const err = e instanceof CairnError ? e : new CairnError('AuthRequired')
  endSocketWithJson(socket, err.httpStatus, err.httpStatus === 403 ? 'Forbidden' : 'Unauthorized', err.toEtcdBody())
}

function serveSocket(ws: WebSocket, opts: ClientApiOptions, identity: Identity | undefined): void {
  const stream = new WatchStream(
    opts,
    (frame) => {
      if (ws.readyState !== ws.OPEN) return true
      if (ws.bufferedAmount > WATCH_SOCKET_BUFFER_BYTES_MAX) return false
      ws.send(frame)
      return true
    },
    (reason) => ws.close(1008, reason.slice(0, 120)),
    identity,
  )
  // Frames are handled one after another, in order (a create may wait on its permission check).
  let handled: Promise<void> = Promise.resolve()
  ws.on('message', (data) => {
    handled = handled.then(() => onMessage(data))
  })
  const onMessage = async (data: WebSocket.RawData): Promise<void> => {
    try {
      const msg = asObject(JSON.parse(String(data)) as unknown, 'watch request')
      const create = field(msg, 'create_request')
      const cancel = field(msg, 'cancel_request')
      const progress = field(msg, 'progress_request')
      if (create !== undefined) {
        const id = int64Field(asObject(create, 'create_request'), 'watch_id')
        try {
          await stream.authorizedCreate(decodeWatchCreate(create), id)
        } catch (e) {
          // etcd answers a refused create as a watch created and canceled at once, with its ID and reason.
          const err = e instanceof CairnError ? e : new InvalidArgumentError((e as Error).message)
          const result: Json = {
            header: encodeHeader(headerOf(opts.member), opts.member.mvcc.currentRevision()),
            created: true,
            canceled: true,
            cancel_reason: err.toEtcdBody().message,
          }
          if (id) result.watch_id = String(id)
          if (err.code === 'Compacted' && 'compactRevision' in err) result.compact_revision = String((err as { compactRevision: number }).compactRevision)
          ws.send(JSON.stringify({ result }))
        }
      } else if (cancel !== undefined) {
        stream.cancel(int64Field(asObject(cancel, 'cancel_request'), 'watch_id') ?? 0)
      } else if (progress !== undefined) {
        stream.progress()
      } else {
        throw new InvalidArgumentError('expected create_request, cancel_request or progress_request')
      }
    } catch (e) {
      const err = e instanceof CairnError ? e : new InvalidArgumentError(`invalid watch request: ${(e as Error).message}`)
      ws.send(JSON.stringify({ error: err.toEtcdBody() }))
    }
  }
  ws.on('close', () => stream.close())
  ws.on('error', () => ws.terminate())
}

async function servePost(req: IncomingMessage, res: ServerResponse, opts: ClientApiOptions): Promise<void> {
  const identity = identityFromRequest(req)
  const principal = await opts.gate?.resolve(identity)
  const body = asObject(await readJson(req, 1024 * 1024), 'watch request')
  const create = field(body, 'create_request')
  if (create === undefined) throw new InvalidArgumentError('expected create_request')
  const request = decodeWatchCreate(create)
  requireAccess(principal, [{ access: 'read', key: request.key, rangeEnd: request.rangeEnd }])
  res.writeHead(200, { 'content-type': 'application/json' })
  const stream = new WatchStream(
    opts,
    (frame) => {
      if (res.writableLength > WATCH_SOCKET_BUFFER_BYTES_MAX) return false
      res.write(frame + '\n')
      return true
    },
    () => res.destroy(),
  )
  res.on('close', () => stream.close())
  stream.create(request)
}
