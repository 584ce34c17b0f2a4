// Helpers for the DNS unit tests: an index built from a table of records, a context over it, and
// queries encoded/decoded with dns-packet.

import dnsPacket from 'dns-packet'
import type { Answer, DecodedPacket, RecordType } from 'dns-packet'
import type { AnswerContext } from '../../recipes/dns/answer.ts'
import { keyOf } from '../../recipes/dns/name.ts'
import { handleQuery } from '../../recipes/dns/packet.ts'
import type { Transport } from '../../recipes/dns/packet.ts'
import { RecordIndex } from '../../recipes/dns/record-index.ts'

export interface Rec {
  name: string
  value: Record<string, unknown> | string
  lease?: number
}

export function indexOf(records: Rec[], revision = 42): RecordIndex {
  const index = new RecordIndex()
  let rev = 2
  for (const r of records) {
    index.put(keyOf(r.name), typeof r.value === 'string' ? r.value : JSON.stringify(r.value), r.lease ?? 0, rev++)
  }
  index.revision = revision
  return index
}

export function contextOf(index: RecordIndex, over: Partial<AnswerContext> = {}): AnswerContext {
  return {
    zone: { domain: 'skydns.local.', ttlDefault: 300, ttlMin: 30 },
    index,
    ready: true,
    leaseRemaining: () => undefined,
    forwarding: false,
    ...over,
  }
}

export function query(name: string, type: RecordType | 'ANY' | number, opts: { id?: number; edns?: number; rd?: boolean } = {}): Buffer {
  const packet: dnsPacket.Packet = {
    type: 'query',
    id: opts.id ?? 4242,
    flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED,
    questions: [{ name, type: (typeof type === 'number' ? `UNKNOWN_${type}` : type) as RecordType, class: 'IN' }],
  }
  if (opts.edns !== undefined) {
    packet.additionals = [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }]
  }
  return dnsPacket.encode(packet)
}

/** The TTL of a record (OPT records have none). */
export function ttl(rr: Answer | undefined): number | undefined {
  return (rr as { ttl?: number } | undefined)?.ttl
}

export interface Reply extends DecodedPacket {
  rcode: string
  opcode: string
}

/** Decodes a reply with the fields dns-packet reads but its types leave out. */
export function decodeReply(bytes: Buffer): Reply {
  return dnsPacket.decode(bytes) as Reply
}

/** Asks the handler and decodes its reply (fails the test when there is no reply). */
export function ask(ctx: AnswerContext, name: string, type: RecordType | 'ANY' | number, opts: { edns?: number; transport?: Transport } = {}): Reply {
  const h = handleQuery(query(name, type, opts.edns === undefined ? {} : { edns: opts.edns }), opts.transport ?? 'udp', ctx)
  if (h.kind !== 'reply') throw new Error(`expected a reply, got ${h.kind}`)
  return decodeReply(h.bytes)
}

/** Answer records as short strings: `A 10.0.0.1`, `SRV 10 50 8080 x.skydns.local`. */
export function show(rrs: Answer[] | undefined): string[] {
  return (rrs ?? []).filter((a) => a.type !== 'OPT').map((a) => {
    const d = (a as { data: unknown }).data
    switch (a.type) {
      case 'SRV': {
        const s = d as { priority: number; weight: number; port: number; target: string }
        return `${a.name} SRV ${s.priority} ${s.weight} ${s.port} ${s.target}`
      }
      case 'MX': {
        const m = d as { preference: number; exchange: string }
        return `${a.name} MX ${m.preference} ${m.exchange}`
      }
      case 'TXT':
        return `${a.name} TXT ${(d as Buffer[]).map((b) => JSON.stringify(b.toString())).join(' ')}`
      case 'SOA': {
        const s = d as { mname: string; rname: string; minimum: number }
        return `${a.name} SOA ${s.mname} ${s.rname} ${s.minimum}`
      }
      default:
        return `${a.name} ${a.type} ${String(d)}`
    }
  })
}
