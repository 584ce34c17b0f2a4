// The pure answering logic, driven deterministically: records in, packets out.

import dnsPacket from 'dns-packet'
import { describe, expect, it } from 'vitest'
import { srvWeights } from '../../recipes/dns/answer.ts'
import { keyOf, keyPath, nameOfKey } from '../../recipes/dns/name.ts'
import { handleQuery } from '../../recipes/dns/packet.ts'
import type { IndexedRecord } from '../../recipes/dns/record-index.ts'
import { emptyService, parseService } from '../../recipes/dns/service.ts'
import { ask, contextOf, indexOf, query, show, ttl } from './fixture.ts'

const readme = indexOf([
  { name: '1.rails.production.east.skydns.local', value: { host: 'service1.example.com', port: 8080 } },
  { name: '2.rails.production.west.skydns.local', value: { host: 'service2.example.com', port: 8080 } },
  { name: '4.rails.staging.east.skydns.local', value: { host: '10.0.1.125', port: 8080 } },
  { name: '6.rails.staging.east.skydns.local', value: { host: '2003::8:1', port: 8080 } },
])

describe('key layout', () => {
  it('keyOf() reverses the labels under the prefix, lower-cased; nameOfKey() inverts it', () => {
    expect(keyOf('1.rails.production.east.skydns.local.')).toBe('/skydns/local/skydns/east/production/rails/1')
    expect(keyOf('Web.Skydns.Local', '/dns/')).toBe('/dns/local/skydns/web')
    expect(nameOfKey('/skydns/local/skydns/east/production/rails/1')).toBe('1.rails.production.east.skydns.local.')
    expect(keyPath('/skydnsx/local')).toBeUndefined()
    expect(keyPath('/skydns')).toBeUndefined()
    expect(keyPath('/skydns/local//x')).toBeUndefined()
  })

  it('parseService() reads fields ignoring case, refuses mistyped ones', () => {
    const ok = parseService('{"Host":"10.0.0.1","port":53,"mail":true,"unknown":1}')
    expect(ok).toEqual({ ok: true, service: { ...emptyService(), host: '10.0.0.1', port: 53, mail: true } })
    expect(parseService('{"port":"53"}').ok).toBe(false)
    expect(parseService('{"port":70000}').ok).toBe(false)
    expect(parseService('[1]').ok).toBe(false)
    expect(parseService('nope').ok).toBe(false)
  })
})

describe('resolve(): addresses', () => {
  it('A and AAAA from address hosts, for a name and for every record below it', () => {
    const ctx = contextOf(readme)
    expect(show(ask(ctx, '4.rails.staging.east.skydns.local', 'A').answers)).toEqual(['4.rails.staging.east.skydns.local A 10.0.1.125'])
    expect(show(ask(ctx, 'staging.east.skydns.local', 'A').answers)).toEqual(['staging.east.skydns.local A 10.0.1.125'])
    expect(show(ask(ctx, 'staging.east.skydns.local', 'AAAA').answers)).toEqual(['staging.east.skydns.local AAAA 2003::8:1'])
  })

  it('matches by labels, never by string prefix', () => {
    const ctx = contextOf(indexOf([{ name: 'webx.skydns.local', value: { host: '10.0.0.9' } }, { name: 'a.web.skydns.local', value: { host: '10.0.0.1' } }]))
    expect(show(ask(ctx, 'web.skydns.local', 'A').answers)).toEqual(['web.skydns.local A 10.0.0.1'])
    expect(ask(ctx, 'we.skydns.local', 'A').rcode).toBe('NXDOMAIN')
  })

  it('wildcards * and any match one label anywhere, several per name', () => {
    const ctx = contextOf(readme)
    expect(show(ask(ctx, '*.staging.east.skydns.local', 'A').answers)).toEqual(['*.staging.east.skydns.local A 10.0.1.125'])
    expect(show(ask(ctx, 'staging.*.skydns.local', 'AAAA').answers)).toEqual(['staging.*.skydns.local AAAA 2003::8:1'])
    expect(show(ask(ctx, 'any.any.any.skydns.local', 'A').answers)).toEqual(['any.any.any.skydns.local A 10.0.1.125'])
    expect(ask(ctx, '*.nothing.skydns.local', 'A').rcode).toBe('NXDOMAIN')
  })

  it('a name host gives a CNAME, then the target addresses inside the zone', () => {
    const ctx = contextOf(
      indexOf([
        { name: '1.rails.skydns.local', value: { host: 'service1.skydns.local' } },
        { name: 'service1.skydns.local', value: { host: '10.0.2.15' } },
      ]),
    )
    const r = ask(ctx, '1.rails.skydns.local', 'A')
    expect(show(r.answers)).toEqual(['1.rails.skydns.local CNAME service1.skydns.local', 'service1.skydns.local A 10.0.2.15'])
    expect(r.flag_aa).toBe(true)
  })

  it('CNAME loops and over-long chains give no answer (NODATA), never a hang', () => {
    const loop = contextOf(
      indexOf([
        { name: 'a.skydns.local', value: { host: 'b.skydns.local' } },
        { name: 'b.skydns.local', value: { host: 'a.skydns.local' } },
        { name: 'self.skydns.local', value: { host: 'self.skydns.local' } },
      ]),
    )
    expect(ask(loop, 'a.skydns.local', 'A')).toMatchObject({ rcode: 'NOERROR', answers: [] })
    expect(ask(loop, 'self.skydns.local', 'A')).toMatchObject({ rcode: 'NOERROR', answers: [] })
    const chain = Array.from({ length: 12 }, (_, i) => ({ name: `c${i}.skydns.local`, value: { host: i === 11 ? '10.9.9.9' : `c${i + 1}.skydns.local` } }))
    const long = contextOf(indexOf(chain))
    expect(ask(long, 'c0.skydns.local', 'A').answers).toEqual([])
    expect(show(ask(long, 'c4.skydns.local', 'A').answers)).toHaveLength(8)
  })

  it('a CNAME to an outside name is answered alone, or chased upstream when forwarding', () => {
    const index = indexOf([{ name: 'ext.skydns.local', value: { host: 'www.example.org' } }])
    expect(show(ask(contextOf(index), 'ext.skydns.local', 'A').answers)).toEqual(['ext.skydns.local CNAME www.example.org'])
    const h = handleQuery(query('ext.skydns.local', 'A'), 'udp', contextOf(index, { forwarding: true }))
    expect(h.kind).toBe('chase')
    if (h.kind !== 'chase') return
    expect([h.name, h.type]).toEqual(['www.example.org.', 'A'])
    const done = dnsPacket.decode(h.finish([{ type: 'A', name: 'www.example.org', ttl: 60, data: '192.0.2.7' }]))
    expect(show(done.answers)).toEqual(['ext.skydns.local CNAME www.example.org', 'www.example.org A 192.0.2.7'])
  })
})

describe('resolve(): SRV, MX, TXT, PTR, NS, SOA', () => {
  it('SRV targets are the host name or the record name, addresses in the additional section', () => {
    const r = ask(contextOf(readme), 'east.skydns.local', 'SRV')
    expect(show(r.answers)).toEqual([
      'east.skydns.local SRV 10 33 8080 service1.example.com',
      'east.skydns.local SRV 10 33 8080 4.rails.staging.east.skydns.local',
      'east.skydns.local SRV 10 33 8080 6.rails.staging.east.skydns.local',
    ])
    expect(show(r.additionals)).toEqual(['4.rails.staging.east.skydns.local A 10.0.1.125', '6.rails.staging.east.skydns.local AAAA 2003::8:1'])
  })

  it('srvWeights(): a share of 100 within each priority, rounded down (skydns README table)', () => {
    const rec = (weight: number, priority = 0): IndexedRecord => ({ key: 'k', name: 'n.', depth: 1, lease: 0, modRevision: 1, service: { ...emptyService(), weight, priority } })
    expect(srvWeights([rec(120), rec(100), rec(130)])).toEqual([34, 28, 37])
    expect(srvWeights([rec(0), rec(0), rec(0)])).toEqual([33, 33, 33])
    expect(srvWeights([rec(10, 1), rec(30, 1), rec(5, 2)])).toEqual([25, 75, 100])
  })

  it('targetstrip strips leading labels of the target; internal name targets get their addresses', () => {
    const ctx = contextOf(
      indexOf([
        { name: 'x1.db.skydns.local', value: { host: '10.0.0.1', port: 5432, targetstrip: 1, priority: 5 } },
        { name: 'web.skydns.local', value: { host: 'box.skydns.local', port: 80 } },
        { name: 'box.skydns.local', value: { host: '10.0.0.2' } },
      ]),
    )
    const db = ask(ctx, 'db.skydns.local', 'SRV')
    expect(show(db.answers)).toEqual(['db.skydns.local SRV 5 100 5432 db.skydns.local'])
    expect(show(db.additionals)).toEqual(['db.skydns.local A 10.0.0.1'])
    const web = ask(ctx, 'web.skydns.local', 'SRV')
    expect(show(web.answers)).toEqual(['web.skydns.local SRV 10 100 80 box.skydns.local'])
    expect(show(web.additionals)).toEqual(['box.skydns.local A 10.0.0.2'])
  })

  it('MX from records with mail: true, preference = priority', () => {
    const ctx = contextOf(
      indexOf([
        { name: 'mx1.mail.skydns.local', value: { host: '10.0.0.25', mail: true, priority: 20 } },
        { name: 'web.mail.skydns.local', value: { host: '10.0.0.80' } },
      ]),
    )
    const r = ask(ctx, 'mail.skydns.local', 'MX')
    expect(show(r.answers)).toEqual(['mail.skydns.local MX 20 mx1.mail.skydns.local'])
    expect(show(r.additionals)).toEqual(['mx1.mail.skydns.local A 10.0.0.25'])
  })

  it('TXT splits long text into 255-byte strings', () => {
    const text = 'x'.repeat(600)
    const r = ask(contextOf(indexOf([{ name: 't.skydns.local', value: { text } }])), 't.skydns.local', 'TXT', { edns: 4096 })
    const data = (r.answers![0] as { data: Buffer[] }).data
    expect(data.map((b) => b.length)).toEqual([255, 255, 90])
    expect(Buffer.concat(data).toString()).toBe(text)
  })

  it('PTR from /skydns/arpa/in-addr, not authoritative; an unknown reverse name is refused', () => {
    const ctx = contextOf(indexOf([{ name: '125.1.0.10.in-addr.arpa', value: { host: 'service1.example.com' } }]))
    const r = ask(ctx, '125.1.0.10.in-addr.arpa', 'PTR')
    expect(show(r.answers)).toEqual(['125.1.0.10.in-addr.arpa PTR service1.example.com'])
    expect(r.flag_aa).toBe(false)
    expect(ask(ctx, '9.9.9.9.in-addr.arpa', 'PTR').rcode).toBe('REFUSED')
  })

  it('NS and SOA for the domain; NS from ns.dns.<domain> records with glue', () => {
    const ctx = contextOf(indexOf([{ name: 'ns.dns.skydns.local', value: { host: '172.16.0.1' } }]))
    const ns = ask(ctx, 'skydns.local', 'NS')
    expect(show(ns.answers)).toEqual(['skydns.local NS ns.dns.skydns.local'])
    expect(show(ns.additionals)).toEqual(['ns.dns.skydns.local A 172.16.0.1'])
    const soa = ask(ctx, 'skydns.local', 'SOA')
    expect(show(soa.answers)).toEqual(['skydns.local SOA ns.dns.skydns.local hostmaster.skydns.local 30'])
    expect((soa.answers![0] as { data: { serial: number } }).data.serial).toBe(42)
    expect(show(ask(contextOf(indexOf([])), 'skydns.local', 'NS').answers)).toEqual(['skydns.local NS ns.dns.skydns.local'])
  })
})

describe('resolve(): negative answers, TTLs, groups, refusals', () => {
  it('NXDOMAIN for a missing name, NODATA for a name without that type; SOA with the min TTL', () => {
    const ctx = contextOf(readme)
    const nx = ask(ctx, 'nothing.skydns.local', 'A')
    expect(nx.rcode).toBe('NXDOMAIN')
    expect(nx.answers).toEqual([])
    expect(show(nx.authorities)).toEqual(['skydns.local SOA ns.dns.skydns.local hostmaster.skydns.local 30'])
    expect(ttl(nx.authorities![0])).toBe(30)
    const nodata = ask(ctx, '4.rails.staging.east.skydns.local', 'AAAA')
    expect(nodata.rcode).toBe('NOERROR')
    expect(nodata.answers).toEqual([])
    expect(show(nodata.authorities)).toHaveLength(1)
    expect(ask(ctx, 'east.skydns.local', 'MX').rcode).toBe('NOERROR')
    expect(ask(ctx, 'east.skydns.local', 65280).rcode).toBe('NOERROR')
    expect(ask(ctx, 'skydns.local', 'A').rcode).toBe('NOERROR')
  })

  it('TTL: the record ttl or the default, capped by the remaining lease time, never the lease ID', () => {
    const index = indexOf([
      { name: 'a.skydns.local', value: { host: '10.0.0.1', ttl: 60 } },
      { name: 'b.skydns.local', value: { host: '10.0.0.2' }, lease: 7_587_000_000_000_000 },
      { name: 'c.skydns.local', value: { host: '10.0.0.3', ttl: 5 }, lease: 99 },
      { name: 'd.skydns.local', value: { host: '10.0.0.4' }, lease: 123 },
    ])
    const ctx = contextOf(index, { leaseRemaining: (id) => (id === 123 ? undefined : 9.7) })
    const ttlAt = (n: string) => ttl(ask(ctx, n, 'A').answers![0])
    expect([ttlAt('a.skydns.local'), ttlAt('b.skydns.local'), ttlAt('c.skydns.local'), ttlAt('d.skydns.local')]).toEqual([60, 9, 5, 30])
  })

  it('group: the shallowest grouped records choose the group; disagreement filters nothing', () => {
    const ctx = contextOf(
      indexOf([
        { name: 'x1.a.skydns.local', value: { host: '127.0.0.1', group: 'g1' } },
        { name: 'x2.b.a.skydns.local', value: { host: '127.0.0.2', group: 'g2' } },
        { name: 'x3.b.a.skydns.local', value: { host: '127.0.0.3' } },
        { name: 'y1.c.skydns.local', value: { host: '127.0.1.1', group: 'g1' } },
        { name: 'y2.c.skydns.local', value: { host: '127.0.1.2', group: 'g2' } },
      ]),
    )
    expect(show(ask(ctx, 'a.skydns.local', 'A').answers)).toEqual(['a.skydns.local A 127.0.0.1', 'a.skydns.local A 127.0.0.3'])
    expect(show(ask(ctx, 'b.a.skydns.local', 'A').answers)).toEqual(['b.a.skydns.local A 127.0.0.2', 'b.a.skydns.local A 127.0.0.3'])
    expect(show(ask(ctx, 'c.skydns.local', 'A').answers)).toHaveLength(2)
  })

  it('ANY and zone transfers are refused; outside the zone: refused, or forwarded with --nameservers', () => {
    const ctx = contextOf(readme)
    expect(ask(ctx, 'east.skydns.local', 'ANY').rcode).toBe('REFUSED')
    expect(ask(ctx, 'skydns.local', 'AXFR', { transport: 'tcp' }).rcode).toBe('REFUSED')
    expect(ask(ctx, 'example.org', 'A').rcode).toBe('REFUSED')
    expect(handleQuery(query('example.org', 'A'), 'udp', contextOf(readme, { forwarding: true })).kind).toBe('forward')
    expect(ask(contextOf(readme, { ready: false }), 'east.skydns.local', 'A').rcode).toBe('SERVFAIL')
  })

  it('the question is echoed byte for byte, case included; ID and RD copied', () => {
    const q = query('StAgInG.EaSt.SkyDNS.local', 'A', { id: 777 })
    const h = handleQuery(q, 'udp', contextOf(readme))
    expect(h.kind).toBe('reply')
    if (h.kind !== 'reply') return
    const r = dnsPacket.decode(h.bytes)
    expect(r.id).toBe(777)
    expect(r.flag_rd).toBe(true)
    expect(r.questions![0]!.name).toBe('StAgInG.EaSt.SkyDNS.local')
    expect(show(r.answers)).toEqual(['StAgInG.EaSt.SkyDNS.local A 10.0.1.125'])
  })
})

describe('handleQuery(): sizes and EDNS0', () => {
  const many = indexOf(Array.from({ length: 60 }, (_, i) => ({ name: `h${i}.big.skydns.local`, value: { host: `10.1.0.${i}`, port: 80 } })))

  it('sets TC when a UDP answer exceeds 512 bytes without EDNS0, fits in the advertised EDNS0 size', () => {
    const small = ask(contextOf(many), 'big.skydns.local', 'A')
    expect(small.flag_tc).toBe(true)
    expect(dnsPacket.encode(small).length).toBeLessThanOrEqual(512)
    const large = ask(contextOf(many), 'big.skydns.local', 'A', { edns: 4096 })
    expect(large.flag_tc).toBe(false)
    expect(large.answers).toHaveLength(60)
    expect(large.additionals!.find((a) => a.type === 'OPT')).toBeDefined()
    const tcp = ask(contextOf(many), 'big.skydns.local', 'SRV', { transport: 'tcp' })
    expect([tcp.flag_tc, tcp.answers!.length, tcp.additionals!.length]).toEqual([false, 60, 60])
  })

  it('drops the additional section before truncating answers', () => {
    const r = ask(contextOf(many), 'h1.big.skydns.local', 'SRV')
    expect(r.flag_tc).toBe(false)
    const srv = ask(contextOf(many), 'big.skydns.local', 'SRV', { edns: 1232 })
    expect(srv.flag_tc).toBe(true)
    expect(srv.additionals!.filter((a) => a.type !== 'OPT')).toEqual([])
  })

  it('answers EDNS version 1 with BADVERS', () => {
    const q = dnsPacket.encode({
      type: 'query',
      id: 1,
      questions: [{ name: 'east.skydns.local', type: 'A' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 1, flags: 0, flag_do: false, options: [] }],
    })
    const h = handleQuery(q, 'udp', contextOf(readme))
    expect(h).toMatchObject({ kind: 'reply', rcode: 'BADVERS' })
    if (h.kind !== 'reply') return
    const opt = dnsPacket.decode(h.bytes).additionals!.find((a) => a.type === 'OPT') as { extendedRcode: number }
    expect(opt.extendedRcode).toBe(1)
  })
})
