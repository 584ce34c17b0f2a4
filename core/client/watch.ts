// Watches over the WebSocket /v3/watch. All watches of a client share one socket to the endpoint in
// use; each has a client-chosen watch ID. When the socket breaks (member killed, network cut, ping
// unanswered, server-side cancel) the manager reconnects — to the next endpoint — and re-creates every
// watch from the revision after the last one it delivered, so a consumer sees every event exactly once,
// in revision order. A watch whose resume revision has been compacted ends with CompactedError.

import WebSocket from 'ws'
import { CompactedError, WatchCanceledError } from '../errors.ts'
import type { Bytes } from './bytes.ts'
import { toBase64 } from './bytes.ts'
import { decodeHeader, decodeKv, decodeList, decodeObject, int, keyRange } from './codec.ts'
import type { Json } from './codec.ts'
import { ClosedError, serverError, UnavailableError } from './errors.ts'
import { tlsFailure } from '../tls/fetch.ts'
import { PLAIN_HTTP_ANSWER } from '../tls/listener.ts'
import type { Transport } from './transport.ts'
import { sleep } from './transport.ts'
import type { KeyRange, KeyValue, ResponseHeader } from './types.ts'

export type WatchFilter = 'NOPUT' | 'NODELETE'

export interface WatchOptions extends KeyRange {
  /** First revision to report; absent or 0 = changes after the watch is created. */
  startRevision?: number
  /** Also deliver each key's previous state. */
  prevKv?: boolean
  filters?: WatchFilter[]
  /** Ask the server for periodic empty responses while nothing changes (delivered as progress). */
  progressNotify?: boolean
  /** Aborting ends the watch (the iterator finishes without error). */
  signal?: AbortSignal
}

export interface WatchEvent {
  type: 'PUT' | 'DELETE'
  /** For a DELETE: the key and the deleting revision (modRevision) only. */
  kv: KeyValue
  prevKv?: KeyValue
}

export interface WatchResponse {
  header: ResponseHeader
  /** Whole revisions, in order. Empty for a progress notice. */
  events: WatchEvent[]
  /** An empty notice: everything up to header.revision has been delivered. */
  progress: boolean
}

/** Bounds: responses queued per watch before the socket is paused (the server then buffers, bounded). */
export const WATCH_QUEUE_RESPONSES_MAX = 1024
const PING_INTERVAL_MS = 2000
const PING_TIMEOUT_MS = 6000

/** One watch: an async iterator of responses. `break` out of the loop or call cancel() to end it. */
export class Watch implements AsyncIterable<WatchResponse> {
  /** The next revision this watch will deliver (0 until the server has created it when no start was given). */
  nextRevision: number
  /** Set when the watch ended with an error (compaction, a refused request). */
  error: Error | undefined
  /** Times the watch was re-created after a broken connection. */
  resumes = 0
  readonly request: Json
  private readonly queue: WatchResponse[] = []
  private waiter: (() => void) | undefined
  private ended = false
  private readyResolve!: () => void
  private readyReject!: (e: Error) => void
  /** Resolves once the server has created the watch for the first time. */
  readonly ready: Promise<void>
  created = false
  progressWanted: boolean

  constructor(
    readonly id: number,
    key: Bytes,
    readonly options: WatchOptions,
    private readonly manager: WatchManager,
  ) {
    const { key: k, end } = keyRange(key, options)
    const req: Json = { key: toBase64(k), watch_id: String(id) }
    if (end !== undefined) req.range_end = toBase64(end)
    if (options.prevKv) req.prev_kv = true
    if (options.filters?.length) req.filters = options.filters
    if (options.progressNotify) req.progress_notify = true
    this.request = req
    const start = options.startRevision ?? 0
    if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`startRevision: expected a non-negative integer, got ${start}`)
    this.nextRevision = start
    this.progressWanted = options.progressNotify === true
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve
      this.readyReject = reject
    })
    this.ready.catch(() => undefined)
  }

  get isEnded(): boolean {
    return this.ended
  }

  /** The create_request for (re)creating the watch where it left off. */
  createFrame(): string {
    const req = { ...this.request }
    if (this.nextRevision > 0) req.start_revision = String(this.nextRevision)
    return JSON.stringify({ create_request: req })
  }

  /** Asks the server for a progress notice (delivered as a response with progress: true). */
  requestProgress(): void {
    this.progressWanted = true
    this.manager.requestProgress()
  }

  /** Ends the watch; the iterator finishes. */
  async cancel(): Promise<void> {
    if (this.ended) return
    this.finish(undefined)
    this.manager.remove(this)
  }

  /** Every event, one at a time. */
  async *events(): AsyncGenerator<WatchEvent> {
    for await (const r of this) yield* r.events
  }

  // ---- driven by the manager ----

  onCreated(header: ResponseHeader): void {
    if (this.nextRevision === 0) this.nextRevision = header.revision + 1
    if (!this.created) {
      this.created = true
      this.readyResolve()
    }
  }

  onResponse(header: ResponseHeader, events: WatchEvent[]): void {
    if (this.ended) return
    // Drop what was already delivered (a resumed watch starts at nextRevision, so this is defensive).
    const fresh = events.filter((e) => e.kv.modRevision >= this.nextRevision)
    if (events.length > 0) {
      if (fresh.length === 0) return
      this.nextRevision = fresh[fresh.length - 1]!.kv.modRevision + 1
      this.push({ header, events: fresh, progress: false })
      return
    }
    // A progress notice: every event up to header.revision has been sent.
    if (header.revision + 1 > this.nextRevision) this.nextRevision = header.revision + 1
    if (this.progressWanted) this.push({ header, events: [], progress: true })
  }

  get queuedResponses(): number {
    return this.queue.length
  }

  finish(error: Error | undefined): void {
    if (this.ended) return
    this.ended = true
    this.error = error
    if (!this.created) this.readyReject(error ?? new ClosedError('watch'))
    this.wake()
  }

  private push(r: WatchResponse): void {
    this.queue.push(r)
    this.wake()
    if (this.queue.length >= WATCH_QUEUE_RESPONSES_MAX) this.manager.pauseForBackpressure()
  }

  private wake(): void {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }

  async next(): Promise<IteratorResult<WatchResponse>> {
    for (;;) {
      const r = this.queue.shift()
      if (r !== undefined) {
        if (this.queue.length < WATCH_QUEUE_RESPONSES_MAX / 2) this.manager.maybeResume()
        return { value: r, done: false }
      }
      if (this.ended) {
        if (this.error) {
          const e = this.error
          this.error = undefined
          throw e
        }
        return { value: undefined, done: true }
      }
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchResponse> {
    return {
      next: () => this.next(),
      return: async () => {
        await this.cancel()
        return { value: undefined, done: true }
      },
    }
  }
}

function decodeEvent(v: unknown): WatchEvent {
  const o = decodeObject(v, 'event')
  const type = o.type === 'DELETE' || o.type === 1 ? 'DELETE' : 'PUT'
  const e: WatchEvent = { type, kv: decodeKv(o.kv) }
  if (o.prev_kv !== undefined && o.prev_kv !== null) e.prevKv = decodeKv(o.prev_kv)
  return e
}

/** The client's watch socket and the watches on it. */
export class WatchManager {
  private readonly watches = new Map<number, Watch>()
  private nextId = 1
  private socket: WebSocket | undefined
  private socketEndpoint = ''
  private connecting = false
  private closed = false
  /** Watches waiting to be (re)created on the current socket, in order; one create is in flight at a time. */
  private createQueue: Watch[] = []
  private inFlight: Watch | undefined
  private pingTimer: NodeJS.Timeout | undefined
  private lastPong = 0
  private pausedForBackpressure = false
  /** Connection attempts since the last successful one (drives the backoff). */
  private failures = 0

  constructor(private readonly transport: Transport) {}

  watch(key: Bytes, options: WatchOptions = {}): Watch {
    if (this.closed) throw new ClosedError('client')
    const w = new Watch(this.nextId++, key, options, this)
    if (options.signal?.aborted) {
      w.finish(undefined)
      return w
    }
    options.signal?.addEventListener('abort', () => void w.cancel(), { once: true })
    this.watches.set(w.id, w)
    if (this.socket?.readyState === WebSocket.OPEN) this.enqueueCreate(w)
    else void this.connect()
    return w
  }

  remove(w: Watch): void {
    if (!this.watches.delete(w.id)) return
    this.createQueue = this.createQueue.filter((x) => x !== w)
    if (this.socket?.readyState === WebSocket.OPEN && w.created) {
      this.socket.send(JSON.stringify({ cancel_request: { watch_id: String(w.id) } }))
    }
    if (this.watches.size === 0) this.dropSocket()
  }

  requestProgress(): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify({ progress_request: {} }))
  }

  pauseForBackpressure(): void {
    if (this.pausedForBackpressure || !this.socket) return
    this.pausedForBackpressure = true
    this.socket.pause()
  }

  maybeResume(): void {
    if (!this.pausedForBackpressure) return
    for (const w of this.watches.values()) if (w.queuedResponses >= WATCH_QUEUE_RESPONSES_MAX / 2) return
    this.pausedForBackpressure = false
    this.socket?.resume()
  }

  get activeCount(): number {
    return this.watches.size
  }

  close(): void {
    this.closed = true
    for (const w of [...this.watches.values()]) w.finish(undefined)
    this.watches.clear()
    this.dropSocket()
  }

  private dropSocket(): void {
    const s = this.socket
    this.socket = undefined
    this.inFlight = undefined
    this.createQueue = []
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.pingTimer = undefined
    if (s) {
      s.removeAllListeners()
      s.on('error', () => undefined)
      s.terminate()
    }
  }

  private async connect(): Promise<void> {
    if (this.connecting || this.closed) return
    this.connecting = true
    try {
      while (!this.closed && this.watches.size > 0 && this.socket === undefined) {
        const endpoint = this.transport.activeEndpoint
        try {
          await this.open(endpoint)
          this.failures = 0
        } catch (e) {
          // A certificate that does not verify will not verify on the next try, nor will an https
          // member answer http: end the watches, as calls fail at once on these, instead of
          // reconnecting forever.
          const tls = tlsFailure(e)
          if (tls !== undefined || e instanceof UnavailableError) {
            const error = e instanceof UnavailableError ? e : new UnavailableError(`${endpoint}: TLS: ${tls}`, e)
            for (const w of [...this.watches.values()]) w.finish(error)
            this.watches.clear()
            return
          }
          this.transport.failover(endpoint)
          this.failures++
          const n = this.transport.endpoints.length
          if (this.failures % n === 0) await sleep(this.transport.backoffMs(Math.floor(this.failures / n) - 1))
        }
      }
    } finally {
      this.connecting = false
    }
  }

  private async open(endpoint: string): Promise<void> {
    const url = endpoint.replace(/^http/, 'ws') + '/v3/watch'
    const headers = await this.transport.authHeaders()
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: this.transport.dialTimeoutMs, headers, ...this.transport.tlsOptions })
      ws.once('open', () => {
        ws.removeAllListeners('error')
        this.adopt(ws, endpoint)
        resolve()
      })
      ws.once('error', (e) => {
        ws.removeAllListeners()
        ws.on('error', () => undefined)
        ws.terminate()
        reject(e)
      })
      ws.once('unexpected-response', (_req, res) => {
        // 401: the token expired or is outdated; the next attempt authenticates again.
        if (res.statusCode === 401) this.transport.invalidateToken()
        // Not a WebSocket answer: read a little of it to tell an https member answering http apart.
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => {
          if (body.length < 512) body += d
        })
        res.once('end', () => {
          ws.removeAllListeners()
          ws.on('error', () => undefined)
          ws.terminate()
          reject(
            body.startsWith(PLAIN_HTTP_ANSWER)
              ? new UnavailableError(`${endpoint} serves https only: use ${endpoint.replace(/^http:/, 'https:')}`)
              : new Error(`${url}: unexpected server response ${res.statusCode ?? 0}`),
          )
        })
      })
    })
  }

  private adopt(ws: WebSocket, endpoint: string): void {
    if (this.closed || this.watches.size === 0) {
      ws.terminate()
      return
    }
    this.socket = ws
    this.socketEndpoint = endpoint
    this.pausedForBackpressure = false
    this.lastPong = Date.now()
    ws.on('message', (data) => this.onFrame(String(data)))
    ws.on('pong', () => (this.lastPong = Date.now()))
    ws.on('close', () => this.onBroken(ws))
    ws.on('error', () => this.onBroken(ws))
    this.pingTimer = setInterval(() => {
      if (Date.now() - this.lastPong > PING_TIMEOUT_MS) this.onBroken(ws)
      else if (ws.readyState === WebSocket.OPEN) ws.ping()
    }, PING_INTERVAL_MS)
    this.pingTimer.unref?.()
    for (const w of this.watches.values()) {
      if (w.created) w.resumes++
      this.enqueueCreate(w)
    }
  }

  private onBroken(ws: WebSocket): void {
    if (ws !== this.socket) return
    this.transport.failover(this.socketEndpoint)
    this.dropSocket()
    if (!this.closed && this.watches.size > 0) void this.connect()
  }

  private enqueueCreate(w: Watch): void {
    this.createQueue.push(w)
    this.sendNextCreate()
  }

  private sendNextCreate(): void {
    if (this.inFlight !== undefined || !this.socket) return
    const w = this.createQueue.shift()
    if (w === undefined) return
    this.inFlight = w
    this.socket.send(w.createFrame())
  }

  private onFrame(text: string): void {
    let msg: Json
    try {
      msg = decodeObject(JSON.parse(text) as unknown, 'watch frame')
    } catch {
      if (this.socket) this.onBroken(this.socket)
      return
    }
    if (msg.error !== undefined) {
      // A refused create_request (creates go one at a time, so it is the one in flight).
      const w = this.inFlight
      this.inFlight = undefined
      if (w) {
        this.watches.delete(w.id)
        w.finish(serverError(decodeObject(msg.error, 'error') as { message?: string }))
      }
      this.sendNextCreate()
      return
    }
    const r = decodeObject(msg.result, 'result')
    const id = int(r.watch_id, 'watch_id')
    const header = decodeHeader(r.header)
    const w = this.watches.get(id)
    const refusedInFlight = this.inFlight !== undefined && (w === undefined || w === this.inFlight)
    if (r.created === true && r.canceled === true && refusedInFlight && this.inFlight !== undefined) {
      // The in-flight create was refused (e.g. permission denied); etcd 3.4 answers it without our ID.
      const refused = this.inFlight
      if (r.cancel_reason === 'etcdserver: invalid auth token' && this.socket) {
        // The socket's token expired or is outdated: reconnect with a fresh one; the watch is created again.
        this.transport.invalidateToken()
        this.onBroken(this.socket)
        return
      }
      this.inFlight = undefined
      this.watches.delete(refused.id)
      refused.finish(serverError({ message: typeof r.cancel_reason === 'string' ? r.cancel_reason : 'watch refused' }))
      this.sendNextCreate()
      return
    }
    if (r.created === true) {
      if (this.inFlight?.id === id) this.inFlight = undefined
      w?.onCreated(header)
      this.sendNextCreate()
    }
    if (w === undefined) return
    if (r.canceled === true) {
      this.onCanceled(w, r)
      return
    }
    const events = decodeList(r.events, 'events').map(decodeEvent)
    if (r.created !== true) w.onResponse(header, events)
  }

  private onCanceled(w: Watch, r: Json): void {
    const compactRevision = int(r.compact_revision, 'compact_revision')
    if (compactRevision > 0) {
      this.watches.delete(w.id)
      w.finish(new CompactedError(compactRevision))
      return
    }
    // Canceled by the server without our asking (e.g. the member is stopping): resume elsewhere.
    const reason = typeof r.cancel_reason === 'string' ? r.cancel_reason : ''
    if (this.socket) {
      if (reason === '' && w.created) {
        w.finish(new WatchCanceledError('canceled by the server'))
        this.watches.delete(w.id)
        return
      }
      this.onBroken(this.socket)
    }
  }
}

