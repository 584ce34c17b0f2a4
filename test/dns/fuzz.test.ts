// The packet handler against hostile input: random bytes, mutated valid queries and hand-made malformed
// packets. It must never throw, and whatever it sends back must be a response that dns-packet can read,
// with the query's ID. Bounded: a few thousand packets, well under a second.

import dnsPacket from 'dns-packet'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { handleQuery } from '../../recipes/dns/packet.ts'
import type { Transport } from '../../recipes/dns/packet.ts'
import { contextOf, decodeReply, indexOf, query } from './fixture.ts'

const index = indexOf([
  { name: '1.web.skydns.local', value: { host: '10.0.0.1', port: 80, text: 't'.repeat(400) } },
  { name: '2.web.skydns.local', value: { host: 'box.skydns.local', port: 80, mail: true } },
  { name: 'box.skydns.local', value: { host: '2001:db8::1' } },
  { name: 'ext.skydns.local', value: { host: 'example.org' } },
  { name: '1.0.0.10.in-addr.arpa', value: { host: '1.web.skydns.local' } },
])
const contexts = [contextOf(index), contextOf(index, { forwarding: true })]

function check(buf: Buffer, transport: Transport, forwarding: boolean): void {
  const h = handleQuery(buf, transport, contexts[forwarding ? 1 : 0]!)
  if (h.kind === 'drop') return
  if (h.kind === 'forward') {
    expect(h.query).toBe(buf)
    return
  }
  const replies = h.kind === 'reply' ? [h.bytes] : [h.fallback, h.finish([{ type: 'A', name: 'example.org', ttl: 5, data: '192.0.2.1' }])]
  for (const bytes of replies) {
    expect(bytes.length).toBeLessThanOrEqual(transport === 'udp' ? 4096 : 65_535)
    const r = dnsPacket.decode(bytes)
    expect(r.id).toBe(buf.readUInt16BE(0))
    expect(r.type).toBe('response')
  }
}

const seeds: Buffer[] = [
  query('1.web.skydns.local', 'A'),
  query('web.skydns.local', 'SRV', { edns: 1232 }),
  query('*.skydns.local', 'TXT'),
  query('web.skydns.local', 'MX', { edns: 4096 }),
  query('ext.skydns.local', 'AAAA'),
  query('1.0.0.10.in-addr.arpa', 'PTR'),
  query('skydns.local', 'SOA'),
  query('example.com', 'A'),
]

describe('handleQuery() under hostile input', () => {
  it('random bytes never make it throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.boolean(), fc.constantFrom<Transport>('udp', 'tcp'), (bytes, forwarding, transport) => {
        check(Buffer.from(bytes), transport, forwarding)
      }),
      { numRuns: 2000, seed: 13 },
    )
  })

  it('mutated valid queries (flipped bytes, cuts, appended junk) never make it throw', () => {
    const mutation = fc.record({
      seed: fc.integer({ min: 0, max: seeds.length - 1 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.option(fc.nat()),
      junk: fc.uint8Array({ maxLength: 40 }),
    })
    fc.assert(
      fc.property(mutation, fc.boolean(), ({ seed, flips, cut, junk }, forwarding) => {
        let b = Buffer.from(seeds[seed]!)
        for (const [at, v] of flips) b[at % b.length] = v
        if (cut !== null) b = b.subarray(0, cut % (b.length + 1))
        check(Buffer.concat([b, junk]), 'udp', forwarding)
      }),
      { numRuns: 3000, seed: 31 },
    )
  })

  it('malformed names and sections get FORMERR (or are dropped), never an exception', () => {
    const header = (qd: number, extra = [0, 0, 0, 0, 0, 0]) => Buffer.from([0x12, 0x34, 0x01, 0x00, 0, qd, ...extra])
    const typeA = [0, 1, 0, 1]
    const cases: Array<[string, Buffer, string | undefined]> = [
      ['empty', Buffer.alloc(0), undefined],
      ['short header', Buffer.from([1, 2, 3]), undefined],
      ['a response', Buffer.from([0x12, 0x34, 0x81, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1]), undefined],
      ['no question', header(0), 'FORMERR'],
      ['two questions', Buffer.concat([header(2), Buffer.from([0, ...typeA, 0, ...typeA])]), 'FORMERR'],
      ['compression loop in the question', Buffer.concat([header(1), Buffer.from([0xc0, 12, ...typeA])]), 'FORMERR'],
      ['pointer forward', Buffer.concat([header(1), Buffer.from([0xc0, 20, ...typeA, 0, 0, 0, 0])]), 'FORMERR'],
      ['label of 64 bytes', Buffer.concat([header(1), Buffer.from([64, ...Array(64).fill(97), 0, ...typeA])]), 'FORMERR'],
      ['name over 255 bytes', Buffer.concat([header(1), Buffer.from([...Array(5).fill([63, ...Array(63).fill(97)]).flat(), 0, ...typeA])]), 'FORMERR'],
      ['name without end', Buffer.concat([header(1), Buffer.from([3, 97, 98])]), 'FORMERR'],
      ['question without type', Buffer.concat([header(1), Buffer.from([0, 0])]), 'FORMERR'],
      ['counts past the end', Buffer.concat([header(1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), Buffer.from([0, ...typeA])]), 'FORMERR'],
      ['loop in the additional section', Buffer.concat([header(1, [0, 0, 0, 0, 0, 1]), Buffer.from([0, ...typeA, 0xc0, 29, 0, 41])]), 'FORMERR'],
    ]
    for (const [what, buf, rcode] of cases) {
      const h = handleQuery(buf, 'udp', contexts[0]!)
      if (rcode === undefined) {
        expect(h.kind, what).toBe('drop')
        continue
      }
      expect(h.kind, what).toBe('reply')
      if (h.kind === 'reply') expect([what, decodeReply(h.bytes).rcode]).toEqual([what, rcode])
    }
  })

  it('two OPT records, or an OPT not at the root, get FORMERR', () => {
    const opt = { type: 'OPT' as const, name: '.', udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }
    const twice = dnsPacket.encode({ type: 'query', id: 9, questions: [{ name: 'web.skydns.local', type: 'A' }], additionals: [opt, opt] })
    const h = handleQuery(twice, 'udp', contexts[0]!)
    expect(h.kind === 'reply' && decodeReply(h.bytes).rcode).toBe('FORMERR')
  })

  it('a non-QUERY opcode gets NOTIMP with the question echoed', () => {
    const q = Buffer.from(query('web.skydns.local', 'A'))
    q.writeUInt16BE(q.readUInt16BE(2) | (5 << 11), 2) // UPDATE
    const h = handleQuery(q, 'udp', contexts[0]!)
    expect(h.kind).toBe('reply')
    if (h.kind !== 'reply') return
    const r = decodeReply(h.bytes)
    expect([r.rcode, r.opcode, r.questions?.[0]?.name]).toEqual(['NOTIMP', 'UPDATE', 'web.skydns.local'])
  })
})

describe('handleQuery(): names that do not read back as text', () => {
  it('a label with invalid UTF-8 or a dot inside is refused in the zone (forwarded outside), never mis-echoed', () => {
    const q = Buffer.concat([Buffer.from([0, 7, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), Buffer.from([3, 0xff, 0x2e, 0xfe, 3, 119, 101, 98, 6]), Buffer.from('skydns'), Buffer.from([5]), Buffer.from('local'), Buffer.from([0, 0, 1, 0, 1])])
    for (const ctx of contexts) {
      const h = handleQuery(q, 'udp', ctx)
      expect(h.kind === 'reply' && decodeReply(h.bytes).rcode).toBe('REFUSED')
    }
    // Outside the zone it goes upstream as it came.
    const outside = Buffer.concat([q.subarray(0, 12), Buffer.from([3, 0xff, 0x2e, 0xfe, 3]), Buffer.from('org'), Buffer.from([0, 0, 1, 0, 1])])
    expect(handleQuery(outside, 'udp', contexts[1]!).kind).toBe('forward')
  })
})

describe('handleQuery() over random records', () => {
  const label = fc.constantFrom('a', 'b', 'web', 'x1', '*', 'any', 'Z', 'l'.repeat(63))
  const host = fc.oneof(
    fc.constantFrom('10.0.0.1', '2001:db8::1', '::ffff:1.2.3.4', 'a.skydns.local', 'b.a.skydns.local', 'www.example.org', 'bad host', '', 'x'.repeat(70) + '.org'),
    fc.string({ maxLength: 20 }),
  )
  const service = fc.record(
    { host, port: fc.nat(65_535), priority: fc.nat(65_535), weight: fc.nat(65_535), text: fc.string({ maxLength: 700 }), mail: fc.boolean(), ttl: fc.nat(100_000), targetstrip: fc.nat(5), group: fc.constantFrom('', 'g1', 'g2') },
    { requiredKeys: [] },
  )
  const record = fc.record({ labels: fc.array(label, { minLength: 1, maxLength: 4 }), service, lease: fc.constantFrom(0, 5, 2 ** 52) })
  const types = ['A', 'AAAA', 'SRV', 'TXT', 'MX', 'CNAME', 'NS', 'SOA', 'PTR', 'CAA'] as const

  it('every reply decodes, whatever the records hold', () => {
    fc.assert(
      fc.property(
        fc.array(record, { maxLength: 25 }),
        fc.array(fc.tuple(fc.array(label, { maxLength: 4 }), fc.constantFrom(...types), fc.constantFrom<Transport>('udp', 'tcp'), fc.option(fc.integer({ min: 0, max: 5000 }))), { minLength: 1, maxLength: 8 }),
        (records, questions) => {
          const ix = indexOf(records.map((r) => ({ name: `${r.labels.join('.')}.skydns.local`, value: r.service, lease: r.lease })))
          const ctx = contextOf(ix, { leaseRemaining: (id) => (id === 5 ? 3.5 : undefined) })
          for (const [labels, type, transport, edns] of questions) {
            const name = [...labels, 'skydns', 'local'].join('.')
            const h = handleQuery(query(name, type, edns === null ? {} : { edns }), transport, ctx)
            expect(h.kind).toBe('reply')
            if (h.kind !== 'reply') continue
            const r = decodeReply(h.bytes)
            expect(r.questions?.[0]?.name).toBe(name)
            expect(h.bytes.length).toBeLessThanOrEqual(transport === 'tcp' ? 65_535 : Math.min(4096, Math.max(512, edns ?? 512)))
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    )
  })
})
