// The agent's pieces without a store: flag parsing, the lease lifetime cache on a test clock, and the
// server's sockets with forwarding, one in-process DnsServer forwarding to another on loopback.

import { createSocket } from 'node:dgram'
import { connect } from 'node:net'
import dnsPacket from 'dns-packet'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDnsOptions } from '../../agents/dns/agent.ts'
import { Forwarder, parseNameservers } from '../../agents/dns/forward.ts'
import { LeaseLifetimes } from '../../agents/dns/leases.ts'
import { DnsServer, parseAddress } from '../../agents/dns/server.ts'
import type { AnswerContext } from '../../recipes/dns/answer.ts'
import { contextOf, decodeReply, indexOf, query, show } from './fixture.ts'
import type { Reply } from './fixture.ts'

const silent = pino({ level: 'silent' })

describe('flags', () => {
  it('parseDnsOptions() applies defaults and names the flag in errors', () => {
    const o = parseDnsOptions({}, ['http://127.0.0.1:2379'])
    expect(o).toMatchObject({ address: { host: '127.0.0.1', port: 5353 }, zone: { domain: 'skydns.local.', ttlDefault: 300, ttlMin: 30 }, prefix: '/skydns', nameservers: [] })
    expect(parseDnsOptions({ domain: 'Example.COM', pathPrefix: 'dns/', ttl: '60' }, ['x']).zone).toMatchObject({ domain: 'example.com.', ttlDefault: 60 })
    expect(() => parseDnsOptions({ ttl: '1m' }, ['x'])).toThrow(/^--ttl: expected whole seconds, got "1m"$/)
    expect(() => parseDnsOptions({ addr: 'localhost:53' }, ['x'])).toThrow(/^--addr/)
    expect(() => parseDnsOptions({ domain: '.' }, ['x'])).toThrow(/^--domain/)
  })

  it('parseNameservers() and parseAddress() read IPv4 and IPv6 with and without ports', () => {
    expect(parseNameservers('8.8.8.8:53, 1.1.1.1,[::1]:5300,::1')).toEqual([
      { host: '8.8.8.8', port: 53 },
      { host: '1.1.1.1', port: 53 },
      { host: '::1', port: 5300 },
      { host: '::1', port: 53 },
    ])
    expect(() => parseNameservers('dns.google:53')).toThrow(/--nameservers/)
    expect(parseAddress('[::1]:5353')).toEqual({ host: '::1', port: 5353 })
  })
})

describe('LeaseLifetimes', () => {
  it('counts down from the last lookup, refreshes when stale, never waits for the store', async () => {
    let now = 0
    const asked: number[] = []
    let answer = 10
    const leases = new LeaseLifetimes({ fetch: async (id) => (asked.push(id), answer), nowMs: () => now, refreshMs: 2000 })
    expect(leases.remaining(7)).toBeUndefined()
    await Promise.resolve()
    await Promise.resolve()
    expect(asked).toEqual([7])
    now = 1500
    expect(leases.remaining(7)).toBeCloseTo(8.5)
    expect(asked).toEqual([7])
    now = 60_000 // long idle: counted past its end, so not known until looked up again
    expect(leases.remaining(7)).toBeUndefined()
    await Promise.resolve()
    await Promise.resolve()
    now = 61_000
    expect(leases.remaining(7)).toBeCloseTo(9)
    now = 62_500
    answer = -1 // gone
    expect(leases.remaining(7)).toBeCloseTo(7.5)
    await Promise.resolve()
    await Promise.resolve()
    expect(leases.remaining(7)).toBe(0)
    leases.retain(new Set())
    expect(leases.size).toBe(0)
  })

  it('bounds lookups in flight and backs off after a failure', async () => {
    const resolvers: Array<() => void> = []
    let failures = 0
    const leases = new LeaseLifetimes({
      fetch: (id) =>
        id === 99 ? (failures++, Promise.reject(new Error('down'))) : new Promise((resolve) => resolvers.push(() => resolve(5))),
      nowMs: () => 0,
      inFlightMax: 2,
    })
    for (let id = 1; id <= 5; id++) leases.prefetch(id)
    expect(resolvers).toHaveLength(2)
    resolvers.shift()!()
    await new Promise((r) => setImmediate(r))
    expect(resolvers).toHaveLength(2)
    leases.prefetch(99)
    for (const r of resolvers.splice(0)) r()
    await new Promise((r) => setImmediate(r))
    for (const r of resolvers.splice(0)) r()
    await new Promise((r) => setImmediate(r))
    leases.remaining(99)
    leases.remaining(99)
    expect(failures).toBe(1)
  })
})

function udpAsk(port: number, msg: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4')
    const t = setTimeout(() => (s.close(), reject(new Error('no UDP reply'))), 3000)
    s.on('message', (m) => {
      clearTimeout(t)
      s.close()
      resolve(decodeReply(m))
    })
    s.send(msg, port, '127.0.0.1')
  })
}

function tcpAsk(port: number, msgs: Buffer[]): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const c = connect(port, '127.0.0.1')
    const out: Reply[] = []
    let buf = Buffer.alloc(0)
    const t = setTimeout(() => (c.destroy(), reject(new Error('no TCP reply'))), 3000)
    c.on('connect', () => {
      // Both queries in one write: the server must split the frames.
      c.write(Buffer.concat(msgs.map((m) => dnsPacket.streamEncode(dnsPacket.decode(m)))))
    })
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
        out.push(decodeReply(buf.subarray(2, buf.readUInt16BE(0) + 2)))
        buf = buf.subarray(buf.readUInt16BE(0) + 2)
      }
      if (out.length === msgs.length) {
        clearTimeout(t)
        c.destroy()
        resolve(out)
      }
    })
  })
}

describe('DnsServer with forwarding (two servers on loopback)', () => {
  let upstream: DnsServer
  let front: DnsServer
  let frontContext: AnswerContext

  beforeAll(async () => {
    const upIndex = indexOf([{ name: 'www.example.org', value: { host: '192.0.2.80' } }])
    const upContext = contextOf(upIndex, { zone: { domain: 'example.org.', ttlDefault: 120, ttlMin: 10 } })
    upstream = new DnsServer({ address: { host: '127.0.0.1', port: 0 }, context: () => upContext, forwarder: undefined, logger: silent })
    const up = await upstream.listen()
    const frontIndex = indexOf([
      { name: 'ext.skydns.local', value: { host: 'www.example.org' } },
      { name: 'a.skydns.local', value: { host: '10.0.0.1' } },
    ])
    frontContext = contextOf(frontIndex, { forwarding: true })
    front = new DnsServer({ address: { host: '127.0.0.1', port: 0 }, context: () => frontContext, forwarder: new Forwarder([up], 1000), logger: silent })
    await front.listen()
  })

  afterAll(async () => {
    await front?.close()
    await upstream?.close()
  })

  it('forwards names outside the zone, over UDP and TCP, keeping the client ID', async () => {
    const r = await udpAsk(front.port, query('www.example.org', 'A', { id: 321 }))
    expect([r.id, r.rcode, show(r.answers)]).toEqual([321, 'NOERROR', ['www.example.org A 192.0.2.80']])
    // Answers on one connection come as they are ready (RFC 7766): match them by ID.
    const [t1, t2] = (await tcpAsk(front.port, [query('www.example.org', 'A', { id: 1 }), query('a.skydns.local', 'A', { id: 2 })])).sort((a, b) => a.id! - b.id!)
    expect(show(t1!.answers)).toEqual(['www.example.org A 192.0.2.80'])
    expect(show(t2!.answers)).toEqual(['a.skydns.local A 10.0.0.1'])
    // A server that forwards says recursion is available in its own answers (the upstream's are relayed as they are).
    expect(t2!.flag_ra).toBe(true)
  })

  it('answers many pipelined TCP queries on one connection (more than are answered at once)', async () => {
    const qs = Array.from({ length: 100 }, (_, i) => query(i % 2 ? 'a.skydns.local' : 'nothing.skydns.local', 'A', { id: 1000 + i }))
    const replies = await tcpAsk(front.port, qs)
    expect(replies.map((r) => r.id).sort()).toEqual(qs.map((_, i) => 1000 + i))
    expect(replies.filter((r) => r.rcode === 'NXDOMAIN')).toHaveLength(50)
  })

  it('finishes a CNAME chain that leaves the zone with the upstream addresses', async () => {
    const r = await udpAsk(front.port, query('ext.skydns.local', 'A'))
    expect(show(r.answers)).toEqual(['ext.skydns.local CNAME www.example.org', 'www.example.org A 192.0.2.80'])
  })

  it('answers SERVFAIL when no upstream answers', async () => {
    const dead = new DnsServer({ address: { host: '127.0.0.1', port: 0 }, context: () => frontContext, forwarder: new Forwarder([{ host: '127.0.0.1', port: 9 }], 200), logger: silent })
    await dead.listen()
    try {
      const r = await udpAsk(dead.port, query('www.example.org', 'A', { id: 55 }))
      expect([r.id, r.rcode, r.questions?.[0]?.name]).toEqual([55, 'SERVFAIL', 'www.example.org'])
    } finally {
      await dead.close()
    }
  })

  it('survives garbage on UDP and TCP and keeps answering', async () => {
    const s = createSocket('udp4')
    for (let i = 0; i < 50; i++) s.send(Buffer.from(Array.from({ length: i * 7 }, (_, j) => (i * 31 + j * 17) % 256)), front.port, '127.0.0.1')
    await new Promise((r) => setTimeout(r, 100))
    s.close()
    const c = connect(front.port, '127.0.0.1')
    await new Promise((r) => c.on('connect', r))
    c.write(Buffer.from([0, 5, 1, 2, 3, 4, 5, 0, 0]))
    await new Promise((r) => setTimeout(r, 100))
    c.destroy()
    const r = await udpAsk(front.port, query('a.skydns.local', 'A'))
    expect(show(r.answers)).toEqual(['a.skydns.local A 10.0.0.1'])
    expect(front.stats.failures).toBe(0)
  })
})
