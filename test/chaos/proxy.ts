// A fault-injecting TCP proxy for one directed peer link (member A dialling member B). Peer traffic is
// WebSocket over TCP, so faults act on whole connections and on timing, never on single bytes inside a
// stream (TCP never loses bytes mid-stream; corrupting a frame would test the WebSocket parser, not Raft):
//
//   pass       bytes flow both ways
//   delay      every chunk is held `delayMs` (± jitter) before it is forwarded, order kept
//   reject     existing connections are reset and new ones are reset at once (a refused route)
//   blackhole  existing connections freeze (nothing is read or forwarded, TCP backpressure builds up) and new
//              ones are accepted but never reach B (the dialler's handshake times out); healing unfreezes
//              them, so B may get very late but intact data, as after a long TCP retransmission
//
// Each side of every connection has a bounded queue; past it the source socket is paused.

import { createServer, connect } from 'node:net'
import type { Server, Socket } from 'node:net'

export type LinkMode = { kind: 'pass' } | { kind: 'delay'; delayMs: number; jitterMs: number } | { kind: 'reject' } | { kind: 'blackhole' }

const QUEUE_BYTES_MAX = 4 * 1024 * 1024
const CONNECTIONS_MAX = 64

interface Pending {
  due: number
  chunk: Buffer
}

/** One direction of one connection: from `source` to `sink`, honouring the link's mode. */
class Pump {
  private queue: Pending[] = []
  private queueBytes = 0
  private timer: NodeJS.Timeout | undefined
  private lastDue = 0

  constructor(
    private readonly link: LinkProxy,
    private readonly source: Socket,
    private readonly sink: Socket,
  ) {
    source.on('data', (chunk: Buffer) => this.onData(chunk))
  }

  private onData(chunk: Buffer): void {
    const mode = this.link.mode
    const delay = mode.kind === 'delay' ? Math.max(0, mode.delayMs + (Math.random() * 2 - 1) * mode.jitterMs) : 0
    // Order is kept: a chunk is never due before the one ahead of it.
    const due = Math.max(Date.now() + delay, this.lastDue)
    this.lastDue = due
    this.queue.push({ due, chunk })
    this.queueBytes += chunk.byteLength
    if (this.queueBytes > QUEUE_BYTES_MAX) this.source.pause()
    this.drain()
  }

  /** Forwards every chunk that is due, unless the link is frozen. */
  drain(): void {
    if (this.timer) {
      clearTimeout(this.timer)
      this.timer = undefined
    }
    if (this.link.mode.kind === 'blackhole') return
    const now = Date.now()
    while (this.queue.length > 0 && this.queue[0]!.due <= now) {
      const { chunk } = this.queue.shift()!
      this.queueBytes -= chunk.byteLength
      if (!this.sink.destroyed) this.sink.write(chunk)
    }
    if (this.queueBytes <= QUEUE_BYTES_MAX / 2 && this.source.isPaused() && !this.link.frozen()) this.source.resume()
    const head = this.queue[0]
    if (head) this.timer = setTimeout(() => this.drain(), Math.max(1, head.due - now))
  }

  freeze(): void {
    this.source.pause()
  }

  thaw(): void {
    this.source.resume()
    this.drain()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.queue = []
  }
}

interface Connection {
  client: Socket
  upstream: Socket | undefined
  pumps: Pump[]
}

export class LinkProxy {
  mode: LinkMode = { kind: 'pass' }
  private readonly server: Server
  private readonly connections = new Set<Connection>()
  port = 0

  constructor(
    readonly from: number,
    readonly to: number,
    private readonly targetPort: number,
  ) {
    this.server = createServer((socket) => this.accept(socket))
    this.server.maxConnections = CONNECTIONS_MAX
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as { port: number }).port
        resolve()
      })
    })
  }

  frozen(): boolean {
    return this.mode.kind === 'blackhole'
  }

  setMode(mode: LinkMode): void {
    const before = this.mode.kind
    this.mode = mode
    if (mode.kind === 'reject') {
      for (const c of this.connections) this.destroy(c)
    } else if (mode.kind === 'blackhole') {
      for (const c of this.connections) for (const p of c.pumps) p.freeze()
    } else if (before === 'blackhole') {
      for (const c of this.connections) {
        if (!c.upstream) this.connectUpstream(c)
        for (const p of c.pumps) p.thaw()
      }
    }
  }

  private accept(client: Socket): void {
    client.setNoDelay(true)
    if (this.mode.kind === 'reject') {
      client.resetAndDestroy()
      return
    }
    const c: Connection = { client, upstream: undefined, pumps: [] }
    this.connections.add(c)
    client.on('error', () => this.destroy(c))
    client.on('close', () => this.destroy(c))
    // A black-holed route accepts the SYN but nothing ever comes back.
    if (this.mode.kind === 'blackhole') client.pause()
    else this.connectUpstream(c)
  }

  private connectUpstream(c: Connection): void {
    const upstream = connect(this.targetPort, '127.0.0.1')
    upstream.setNoDelay(true)
    c.upstream = upstream
    upstream.on('error', () => this.destroy(c))
    upstream.on('close', () => this.destroy(c))
    c.client.resume()
    c.pumps = [new Pump(this, c.client, upstream), new Pump(this, upstream, c.client)]
  }

  private destroy(c: Connection): void {
    if (!this.connections.delete(c)) return
    for (const p of c.pumps) p.stop()
    c.client.destroy()
    c.upstream?.destroy()
  }

  /** Resets every connection (as a peer restart would), keeping the mode. */
  resetConnections(): void {
    for (const c of [...this.connections]) this.destroy(c)
  }

  close(): Promise<void> {
    for (const c of [...this.connections]) this.destroy(c)
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
