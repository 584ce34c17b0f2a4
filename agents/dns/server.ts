// The DNS server's sockets: UDP and TCP on one address and port. Each message goes to the pure handler
// (recipes/dns/packet.ts); what it asks for — a reply, a forward, an upstream lookup to finish a CNAME
// chain — is done here. TCP follows RFC 7766: 2-byte length framing, several queries per connection
// (answered as they complete), an idle timeout, bounded connections and bounded queries in flight per
// connection. No input can crash the server: a handler failure answers SERVFAIL and is logged.

import { createSocket } from 'node:dgram'
import type { RemoteInfo, Socket as UdpSocket } from 'node:dgram'
import { createServer, isIP } from 'node:net'
import type { Server, Socket } from 'node:net'
import type { Logger } from 'pino'
import type { AnswerContext } from '../../recipes/dns/answer.ts'
import { handleQuery, serverFailure } from '../../recipes/dns/packet.ts'
import type { Transport } from '../../recipes/dns/packet.ts'
import type { Forwarder } from './forward.ts'

export const TCP_CONNECTIONS_MAX = 256
export const TCP_IDLE_MS = 10_000
export const TCP_QUERIES_IN_FLIGHT_MAX = 32

export interface ListenAddress {
  host: string
  port: number
}

/** Parses `--addr`: `host:port` or `[IPv6]:port`, an IP address as host. */
export function parseAddress(text: string): ListenAddress {
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text)
  const plain = /^([^:]+):(\d+)$/.exec(text)
  const m = bracket ?? plain
  if (!m) throw new RangeError(`--addr: expected host:port (e.g. 127.0.0.1:5353), got "${text}"`)
  const host = m[1]!
  const port = Number(m[2])
  if (isIP(host) === 0) throw new RangeError(`--addr: expected an IP address as host, got "${host}"`)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new RangeError(`--addr: bad port ${m[2]}`)
  return { host, port }
}

export interface DnsServerOptions {
  address: ListenAddress
  /** The answering context at this moment (the current index, readiness, lease lifetimes). */
  context: () => AnswerContext
  forwarder: Forwarder | undefined
  logger: Logger
}

export interface DnsServerStats {
  queries: number
  dropped: number
  forwarded: number
  failures: number
}

export class DnsServer {
  private udp: UdpSocket | undefined
  private tcp: Server | undefined
  private readonly connections = new Set<Socket>()
  readonly stats: DnsServerStats = { queries: 0, dropped: 0, forwarded: 0, failures: 0 }
  port = 0

  constructor(private readonly opts: DnsServerOptions) {}

  /** Binds UDP, then TCP on the same port (port 0: one the system picks). */
  async listen(): Promise<ListenAddress> {
    // With port 0 the UDP port is chosen first and TCP must take the same one, which another process
    // may hold: try a few ports before giving up.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.listenOnce()
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code
        if (this.opts.address.port !== 0 || code !== 'EADDRINUSE' || attempt >= 9) throw e
        this.udp = undefined
      }
    }
  }

  private async listenOnce(): Promise<ListenAddress> {
    const { host } = this.opts.address
    const udp = createSocket(isIP(host) === 6 ? 'udp6' : 'udp4')
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject)
      udp.bind(this.opts.address.port, host, () => {
        udp.off('error', reject)
        resolve()
      })
    })
    udp.on('error', (e) => this.opts.logger.error({ err: e.message }, 'dns: UDP socket error'))
    udp.on('message', (msg, rinfo) => void this.onDatagram(udp, msg, rinfo))
    this.udp = udp
    this.port = udp.address().port
    const tcp = createServer((socket) => this.onConnection(socket))
    tcp.maxConnections = TCP_CONNECTIONS_MAX
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject)
      tcp.listen(this.port, host, () => {
        tcp.off('error', reject)
        resolve()
      })
    }).catch((e: unknown) => {
      udp.close()
      throw e
    })
    tcp.on('error', (e) => this.opts.logger.error({ err: e.message }, 'dns: TCP server error'))
    this.tcp = tcp
    return { host, port: this.port }
  }

  async close(): Promise<void> {
    try {
      this.udp?.close()
    } catch {
      // already closed
    }
    for (const c of this.connections) c.destroy()
    await new Promise<void>((resolve) => (this.tcp ? this.tcp.close(() => resolve()) : resolve()))
  }

  /** Answers one message: the bytes to send back, or undefined to send nothing. */
  async answer(msg: Buffer, transport: Transport): Promise<Buffer | undefined> {
    this.stats.queries++
    try {
      const h = handleQuery(msg, transport, this.opts.context())
      switch (h.kind) {
        case 'drop':
          this.stats.dropped++
          return undefined
        case 'reply':
          return h.bytes
        case 'forward': {
          this.stats.forwarded++
          const reply = await this.opts.forwarder?.exchange(h.query, transport)
          return reply ?? serverFailure(msg)
        }
        case 'chase': {
          const upstream = (await this.opts.forwarder?.lookup(h.name, h.type)) ?? []
          if (upstream.length === 0) return h.fallback
          try {
            return h.finish(upstream)
          } catch {
            return h.fallback
          }
        }
      }
    } catch (e) {
      this.stats.failures++
      this.opts.logger.error({ err: (e as Error).stack }, 'dns: failed to answer a query')
      return serverFailure(msg)
    }
  }

  private async onDatagram(udp: UdpSocket, msg: Buffer, rinfo: RemoteInfo): Promise<void> {
    const reply = await this.answer(msg, 'udp')
    if (reply) udp.send(reply, rinfo.port, rinfo.address, () => undefined)
  }

  private onConnection(socket: Socket): void {
    this.connections.add(socket)
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy())
    socket.on('error', () => socket.destroy())
    socket.on('close', () => this.connections.delete(socket))
    let buf: Buffer = Buffer.alloc(0)
    let inFlight = 0
    // Reads whole frames while fewer than TCP_QUERIES_IN_FLIGHT_MAX are being answered; the rest wait
    // in `buf` (and the socket is paused) until answers go out.
    const drain = () => {
      while (buf.length >= 2 && inFlight < TCP_QUERIES_IN_FLIGHT_MAX) {
        const n = buf.readUInt16BE(0)
        if (n === 0) {
          socket.destroy()
          return
        }
        if (buf.length < n + 2) break
        const msg = Buffer.from(buf.subarray(2, n + 2))
        buf = buf.subarray(n + 2)
        inFlight++
        void this.answer(msg, 'tcp').then((reply) => {
          inFlight--
          if (socket.destroyed) return
          if (reply) {
            const len = Buffer.alloc(2)
            len.writeUInt16BE(reply.length)
            socket.write(Buffer.concat([len, reply]))
          }
          drain()
        })
      }
      if (inFlight >= TCP_QUERIES_IN_FLIGHT_MAX) socket.pause()
      else socket.resume()
    }
    socket.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      drain()
    })
  }
}
