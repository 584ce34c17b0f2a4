// Forwarding to the upstream name servers (`--nameservers`): a question outside the zone is sent as it
// came (same ID, one fresh socket per exchange so concurrent clients' IDs never mix), over UDP or TCP as
// the client asked; each upstream is tried in turn, round-robin, each with a deadline. The number of
// exchanges in flight is bounded: beyond it the client gets SERVFAIL at once.

import { randomInt } from 'node:crypto'
import { createSocket } from 'node:dgram'
import { isIP, connect } from 'node:net'
import dnsPacket from 'dns-packet'
import type { Answer, RecordType } from 'dns-packet'
import type { Transport } from '../../recipes/dns/packet.ts'

export interface Upstream {
  host: string
  port: number
}

export const FORWARD_TIMEOUT_MS_DEFAULT = 2000
export const FORWARDS_IN_FLIGHT_MAX = 256
const UDP_REPLY_BYTES_MAX = 65_535

/** Parses `--nameservers`: `IP[:port]` or `[IPv6]:port`, comma-separated; port 53 by default. */
export function parseNameservers(text: string): Upstream[] {
  const out: Upstream[] = []
  for (const raw of text.split(',')) {
    const s = raw.trim()
    if (s === '') continue
    let host: string
    let port = 53
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s)
    if (bracket) {
      host = bracket[1]!
      if (bracket[2] !== undefined) port = Number(bracket[2])
    } else if (isIP(s) === 6) {
      host = s
    } else {
      const i = s.lastIndexOf(':')
      host = i < 0 ? s : s.slice(0, i)
      if (i >= 0) port = /^\d+$/.test(s.slice(i + 1)) ? Number(s.slice(i + 1)) : Number.NaN
    }
    if (isIP(host) === 0) throw new RangeError(`--nameservers: expected IP[:port] entries, got "${s}"`)
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new RangeError(`--nameservers: bad port in "${s}"`)
    out.push({ host, port })
  }
  return out
}

export class Forwarder {
  private next = 0
  private inFlight = 0
  forwarded = 0
  failed = 0

  constructor(
    readonly upstreams: Upstream[],
    private readonly timeoutMs: number = FORWARD_TIMEOUT_MS_DEFAULT,
  ) {}

  get enabled(): boolean {
    return this.upstreams.length > 0
  }

  /** Sends a query upstream and answers the reply, or undefined when no upstream answered in time. */
  async exchange(query: Buffer, transport: Transport): Promise<Buffer | undefined> {
    if (this.inFlight >= FORWARDS_IN_FLIGHT_MAX || this.upstreams.length === 0) return undefined
    this.inFlight++
    try {
      const start = this.next++ % this.upstreams.length
      for (let i = 0; i < this.upstreams.length; i++) {
        const up = this.upstreams[(start + i) % this.upstreams.length]!
        let reply = transport === 'tcp' ? await tcpExchange(up, query, this.timeoutMs) : await udpExchange(up, query, this.timeoutMs)
        if (reply && transport === 'tcp' && isTruncated(reply)) reply = await tcpExchange(up, query, this.timeoutMs)
        if (reply) {
          this.forwarded++
          return reply
        }
      }
      this.failed++
      return undefined
    } finally {
      this.inFlight--
    }
  }

  /** Asks upstream for a name's records of one type (to finish a CNAME chain that leaves the zone). */
  async lookup(name: string, type: 'A' | 'AAAA'): Promise<Answer[]> {
    const id = randomInt(0, 65_536)
    const query = dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as RecordType }] })
    const reply = await this.exchange(query, 'udp')
    if (!reply) return []
    try {
      const decoded = dnsPacket.decode(reply)
      return decoded.id === id ? (decoded.answers ?? []) : []
    } catch {
      return []
    }
  }
}

function isTruncated(reply: Buffer): boolean {
  return reply.length >= 4 && (reply.readUInt16BE(2) & (1 << 9)) !== 0
}

function sameId(query: Buffer, reply: Buffer): boolean {
  return reply.length >= 12 && reply.readUInt16BE(0) === query.readUInt16BE(0)
}

function udpExchange(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = createSocket(isIP(up.host) === 6 ? 'udp6' : 'udp4')
    let settled = false
    const finish = (reply: Buffer | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.close()
      resolve(reply)
    }
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    socket.on('error', () => finish(undefined))
    socket.on('message', (msg, rinfo) => {
      if (rinfo.port !== up.port || msg.length > UDP_REPLY_BYTES_MAX || !sameId(query, msg)) return
      finish(msg)
    })
    socket.send(query, up.port, up.host, (err) => {
      if (err) finish(undefined)
    })
  })
}

function tcpExchange(up: Upstream, query: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: up.host, port: up.port })
    let buf = Buffer.alloc(0)
    let settled = false
    const finish = (reply: Buffer | undefined) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(reply)
    }
    const timer = setTimeout(() => finish(undefined), timeoutMs)
    socket.on('error', () => finish(undefined))
    socket.on('close', () => finish(undefined))
    socket.on('connect', () => {
      const len = Buffer.alloc(2)
      len.writeUInt16BE(query.length)
      socket.write(Buffer.concat([len, query]))
    })
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      if (buf.length < 2) return
      const n = buf.readUInt16BE(0)
      if (buf.length < n + 2) return
      const reply = buf.subarray(2, n + 2)
      finish(sameId(query, reply) ? reply : undefined)
    })
  })
}
