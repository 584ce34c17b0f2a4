// One outbound connection to one peer: a WebSocket that reconnects with capped, jittered backoff and a
// bounded send queue. When the queue is full, frames are dropped and the peer reported unreachable:
// Raft retransmits, so dropping is safe, and growing without bound is not.

import WebSocket from 'ws'
import type { Logger } from 'pino'
import { tlsConnectOptions, tlsFailure } from '../tls/fetch.ts'
import type { ClientTls } from '../tls/fetch.ts'

export const LINK_QUEUE_FRAMES_MAX = 1024
export const LINK_QUEUE_BYTES_MAX = 64 * 1024 * 1024
export const RECONNECT_DELAY_MS_MIN = 50
export const RECONNECT_DELAY_MS_MAX = 2_000
export const PING_INTERVAL_MS = 5_000

export interface PeerLinkOptions {
  selfId: string
  /** Our advertised peer URLs, announced so that a peer which does not know us yet can answer. */
  selfPeerUrls?: string[]
  clusterId: string
  peerId: string
  urls: string[]
  logger: Logger
  onUnreachable: () => void
  onUp: () => void
  onDown: () => void
  /** The peer answered 410 Gone: we were removed from the cluster. */
  onGone?: () => void
  random?: () => number
  /** TLS for wss:// peer URLs (CA to trust, certificate to present). */
  tls?: ClientTls
}

export class PeerLink {
  private ws: WebSocket | undefined
  private connected = false
  private closed = false
  private queue: Buffer[] = []
  private queueBytes = 0
  private attempt = 0
  private urlIndex = 0
  private timer: NodeJS.Timeout | undefined
  private wasUp = false
  private pingTimer: NodeJS.Timeout | undefined
  private pingSentAt = 0
  private lastTlsFailure: string | undefined
  /** Round-trip time of the last WebSocket ping to this peer, in seconds (undefined until measured). */
  rttSeconds: number | undefined

  constructor(private opts: PeerLinkOptions) {
    this.connect()
  }

  urls(): string[] {
    return this.opts.urls
  }

  setUrls(urls: string[]): void {
    this.opts = { ...this.opts, urls }
    this.ws?.terminate()
  }

  /** Queues a frame; returns false (and reports the peer unreachable) when the queue is full. */
  send(frame: Buffer): boolean {
    if (this.closed) return false
    if (this.queue.length >= LINK_QUEUE_FRAMES_MAX || this.queueBytes + frame.byteLength > LINK_QUEUE_BYTES_MAX) {
      this.opts.onUnreachable()
      return false
    }
    this.queue.push(frame)
    this.queueBytes += frame.byteLength
    this.flush()
    return true
  }

  isConnected(): boolean {
    return this.connected
  }

  close(): void {
    this.closed = true
    if (this.timer) clearTimeout(this.timer)
    if (this.pingTimer) clearInterval(this.pingTimer)
    this.ws?.terminate()
    this.queue = []
    this.queueBytes = 0
  }

  private flush(): void {
    const ws = this.ws
    if (!ws || !this.connected) return
    // Respect the socket's own buffer: a stalled peer keeps frames in our bounded queue instead.
    while (this.queue.length > 0 && ws.bufferedAmount < LINK_QUEUE_BYTES_MAX / 4) {
      const frame = this.queue.shift()!
      this.queueBytes -= frame.byteLength
      ws.send(frame, { binary: true }, (err) => {
        if (err) this.opts.onUnreachable()
        else if (this.queue.length > 0) this.flush()
      })
    }
  }

  private connect(): void {
    if (this.closed) return
    const base = this.opts.urls[this.urlIndex % Math.max(1, this.opts.urls.length)]
    if (!base) return
    const url = peerSocketUrl(base)
    const ws = new WebSocket(url, {
      headers: {
        'x-cairn-from': this.opts.selfId,
        'x-cairn-cluster-id': this.opts.clusterId,
        'x-cairn-to': this.opts.peerId,
        ...(this.opts.selfPeerUrls?.length ? { 'x-cairn-peer-urls': this.opts.selfPeerUrls.join(',') } : {}),
      },
      perMessageDeflate: false,
      handshakeTimeout: 2_000,
      ...tlsConnectOptions(this.opts.tls),
    })
    this.ws = ws
    ws.on('open', () => {
      this.connected = true
      this.attempt = 0
      this.lastTlsFailure = undefined
      this.startPings(ws)
      if (!this.wasUp) {
        this.wasUp = true
        this.opts.logger.info({ peer: this.opts.peerId, url }, 'peer link up')
        this.opts.onUp()
      }
      this.flush()
    })
    ws.on('error', (e) => {
      // 'close' follows; errors of an unreachable peer are routine and logged at state changes only,
      // but a TLS failure is a configuration problem worth saying once per episode.
      const reason = tlsFailure(e)
      if (reason !== undefined && reason !== this.lastTlsFailure) {
        this.lastTlsFailure = reason
        this.opts.logger.warn({ peer: this.opts.peerId, url, reason }, 'peer link: TLS handshake failed')
      }
    })
    ws.on('unexpected-response', (_req, res) => {
      this.opts.logger.warn({ peer: this.opts.peerId, status: res.statusCode, reason: res.headers['x-cairn-reject'] }, 'peer refused connection')
      if (res.statusCode === 410) this.opts.onGone?.()
    })
    ws.on('close', () => {
      this.connected = false
      if (this.ws !== ws) return
      this.ws = undefined
      if (this.wasUp) {
        this.wasUp = false
        this.opts.logger.warn({ peer: this.opts.peerId }, 'peer link down')
        this.opts.onDown()
      }
      // Messages queued for a dead connection are stale by the time it returns; Raft resends.
      if (this.queue.length > 0) this.opts.onUnreachable()
      this.queue = []
      this.queueBytes = 0
      this.scheduleReconnect()
    })
  }

  /** Measures the peer round-trip time with WebSocket pings (a metric, and a liveness hint). */
  private startPings(ws: WebSocket): void {
    if (this.pingTimer) clearInterval(this.pingTimer)
    ws.on('pong', () => {
      if (this.pingSentAt > 0) this.rttSeconds = (performance.now() - this.pingSentAt) / 1000
      this.pingSentAt = 0
    })
    this.pingTimer = setInterval(() => {
      if (this.ws !== ws || !this.connected) return
      this.pingSentAt = performance.now()
      ws.ping()
    }, PING_INTERVAL_MS)
    this.pingTimer.unref?.()
  }

  private scheduleReconnect(): void {
    if (this.closed) return
    this.attempt++
    this.urlIndex++
    const ceiling = Math.min(RECONNECT_DELAY_MS_MAX, RECONNECT_DELAY_MS_MIN * 2 ** Math.min(this.attempt, 10))
    const delay = Math.floor(ceiling / 2 + (this.opts.random ?? Math.random)() * (ceiling / 2))
    this.timer = setTimeout(() => this.connect(), delay)
    this.timer.unref?.()
  }
}

export const PEER_PATH = '/cairn/peer'

export function peerSocketUrl(peerUrl: string): string {
  const u = new URL(peerUrl)
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
  u.pathname = PEER_PATH
  return u.toString()
}
