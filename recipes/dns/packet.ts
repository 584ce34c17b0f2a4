// The wire side of answering, still pure: a query's bytes in, what to do out — drop it, send these
// bytes, forward the query upstream, or look a CNAME target up upstream and then finish the answer.
// Malformed input never throws: a packet too short to carry an ID is dropped, anything else that cannot
// be read gets FORMERR. The question is echoed byte for byte (case included), as resolvers expect.

import dnsPacket from 'dns-packet'
import type { Answer, OptAnswer } from 'dns-packet'
import { resolve } from './answer.ts'
import type { AnswerContext, Rcode, Resolution } from './answer.ts'
import { canonical, isSubdomain, NAME_WIRE_BYTES_MAX } from './name.ts'

/** A UDP answer is at most 512 bytes, or the EDNS0 size the client advertises, up to this. */
export const UDP_PAYLOAD_BYTES_MAX = 4096
export const UDP_PAYLOAD_BYTES_MIN = 512
/** The EDNS0 size we advertise (DNS flag day 2020). */
export const EDNS_PAYLOAD_BYTES_ADVERTISED = 1232
export const TCP_MESSAGE_BYTES_MAX = 65_535
const HEADER_BYTES = 12

const FLAG_QR = 1 << 15
const FLAG_AA = 1 << 10
const FLAG_TC = 1 << 9
const FLAG_RD = 1 << 8
const FLAG_RA = 1 << 7
const FLAG_CD = 1 << 4
const OPCODE_MASK = 0xf << 11

const RCODES: Record<Rcode, number> = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 }
/** EDNS0's BADVERS (16): 1 in the OPT's extended RCODE, 0 in the header. */
const BADVERS_EXTENDED = 1

export type Transport = 'udp' | 'tcp'

export type Handled =
  | { kind: 'drop'; reason: string }
  | { kind: 'reply'; bytes: Buffer; rcode: Rcode | 'BADVERS'; truncated: boolean }
  | { kind: 'forward'; query: Buffer }
  | { kind: 'chase'; name: string; type: 'A' | 'AAAA'; finish: (upstream: Answer[]) => Buffer; fallback: Buffer }

interface Request {
  id: number
  flags: number
  question: Buffer
  edns: { payload: number } | undefined
  recursionAvailable: boolean
}

/** Handles one query message (a UDP datagram, or one TCP frame without its length prefix). */
export function handleQuery(buf: Buffer, transport: Transport, ctx: AnswerContext): Handled {
  if (buf.length < HEADER_BYTES) return { kind: 'drop', reason: 'shorter than a header' }
  const id = buf.readUInt16BE(0)
  const flags = buf.readUInt16BE(2)
  if (flags & FLAG_QR) return { kind: 'drop', reason: 'a response, not a query' }
  const bare = (rcode: Rcode) => ({ kind: 'reply' as const, bytes: headerOnly(id, flags, rcode), rcode, truncated: false })
  if (buf.readUInt16BE(4) !== 1) return bare('FORMERR')
  const questionEnd = questionExtent(buf)
  if (questionEnd === undefined) return bare('FORMERR')
  let decoded: dnsPacket.DecodedPacket
  try {
    decoded = dnsPacket.decode(buf)
  } catch {
    return bare('FORMERR')
  }
  const q = decoded.questions?.[0]
  if (!q) return bare('FORMERR')
  const opts = (decoded.additionals ?? []).filter((a): a is OptAnswer => a.type === 'OPT')
  if (opts.length > 1 || (opts[0] !== undefined && opts[0].name !== '.')) return bare('FORMERR')
  const opt = opts[0]
  const req: Request = {
    id,
    flags,
    question: buf.subarray(HEADER_BYTES, questionEnd),
    edns: opt ? { payload: opt.udpPayloadSize } : undefined,
    recursionAvailable: ctx.forwarding,
  }
  const limit = transport === 'tcp' ? TCP_MESSAGE_BYTES_MAX : udpLimit(req)
  if (opt && opt.ednsVersion > 0) return { kind: 'reply', bytes: encode(req, empty('NOERROR'), limit, BADVERS_EXTENDED).bytes, rcode: 'BADVERS', truncated: false }
  if ((flags & OPCODE_MASK) !== 0) return reply(req, empty('NOTIMP'), limit)
  // A name whose labels are not plain text (a dot or invalid UTF-8 inside a label) would not read back
  // as it came: such names match no record; outside the zone they may still be forwarded (as they came).
  const plain = roundTrips(q.name, req.question.subarray(0, req.question.length - 4))
  const outside = !isSubdomain(canonical(q.name), ctx.zone.domain)
  const res = plain ? resolve({ name: q.name, type: q.type, class: q.class ?? 'IN' }, ctx) : outside && ctx.forwarding ? { ...empty('NOERROR'), forward: true } : empty('REFUSED')
  if (res.forward) return { kind: 'forward', query: buf }
  if (res.chase && ctx.forwarding) {
    const chase = res.chase
    return {
      kind: 'chase',
      name: chase.name,
      type: chase.type,
      finish: (upstream) => encode(req, { ...res, answers: [...res.answers, ...upstream.filter((a) => a.type === 'CNAME' || a.type === chase.type)] }, limit).bytes,
      fallback: encode(req, res, limit).bytes,
    }
  }
  return reply(req, res, limit)
}

/** SERVFAIL for a query (when forwarding fails); undefined when the query cannot be answered at all. */
export function serverFailure(query: Buffer): Buffer | undefined {
  if (query.length < HEADER_BYTES) return undefined
  const flags = query.readUInt16BE(2)
  if (flags & FLAG_QR) return undefined
  const end = query.readUInt16BE(4) === 1 ? questionExtent(query) : undefined
  if (end === undefined) return headerOnly(query.readUInt16BE(0), flags, 'SERVFAIL')
  const out = Buffer.concat([headerOnly(query.readUInt16BE(0), flags, 'SERVFAIL'), query.subarray(HEADER_BYTES, end)])
  out.writeUInt16BE(1, 4)
  return out
}

function empty(rcode: Rcode): Resolution {
  return { rcode, authoritative: false, answers: [], authorities: [], additionals: [], truncated: false, forward: false }
}

function reply(req: Request, res: Resolution, limit: number): Handled {
  const { bytes, truncated } = encode(req, res, limit)
  return { kind: 'reply', bytes, rcode: res.rcode, truncated }
}

function udpLimit(req: Request): number {
  if (!req.edns) return UDP_PAYLOAD_BYTES_MIN
  return Math.min(UDP_PAYLOAD_BYTES_MAX, Math.max(UDP_PAYLOAD_BYTES_MIN, req.edns.payload))
}

/**
 * The end offset of the first question (name, type, class), read by hand: its bytes are echoed as they
 * came. A compression pointer in the question, a bad label type or a name over 255 bytes: undefined.
 */
function questionExtent(buf: Buffer): number | undefined {
  let offset = HEADER_BYTES
  let nameBytes = 0
  for (;;) {
    if (offset >= buf.length) return undefined
    const len = buf[offset]!
    if (len === 0) {
      offset += 1
      nameBytes += 1
      break
    }
    if ((len & 0xc0) !== 0) return undefined
    nameBytes += len + 1
    if (nameBytes > NAME_WIRE_BYTES_MAX) return undefined
    offset += len + 1
  }
  if (nameBytes > NAME_WIRE_BYTES_MAX || offset + 4 > buf.length) return undefined
  return offset + 4
}

/** Whether a decoded name encodes back to the question's name bytes. */
function roundTrips(name: string, wire: Buffer): boolean {
  const labels = name === '.' ? [] : name.replace(/\.$/, '').split('.')
  let offset = 0
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8')
    if (bytes.length === 0 || wire[offset] !== bytes.length || !bytes.equals(wire.subarray(offset + 1, offset + 1 + bytes.length))) return false
    offset += bytes.length + 1
  }
  return offset === wire.length - 1 && wire[offset] === 0
}

function headerOnly(id: number, queryFlags: number, rcode: Rcode): Buffer {
  const b = Buffer.alloc(HEADER_BYTES)
  b.writeUInt16BE(id, 0)
  b.writeUInt16BE(FLAG_QR | (queryFlags & (OPCODE_MASK | FLAG_RD)) | RCODES[rcode], 2)
  return b
}

function optRecord(extendedRcode: number): Answer {
  const opt = { type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD_BYTES_ADVERTISED, extendedRcode, ednsVersion: 0, flags: 0, flag_do: false, options: [] }
  return opt as OptAnswer
}

/**
 * Encodes the answer within `limit` bytes: when it does not fit, the additional section goes first
 * (no TC needed, RFC 2181 §9), then the authority section and as many answers as fit, with TC set.
 */
function encode(req: Request, res: Resolution, limit: number, extendedRcode = 0): { bytes: Buffer; truncated: boolean } {
  const opt = req.edns ? [optRecord(extendedRcode)] : []
  let truncated = res.truncated
  const build = (answers: Answer[], authorities: Answer[], additionals: Answer[]) => {
    let f = FLAG_QR | (req.flags & (OPCODE_MASK | FLAG_RD | FLAG_CD)) | RCODES[res.rcode]
    if (res.authoritative) f |= FLAG_AA
    if (truncated) f |= FLAG_TC
    if (req.recursionAvailable) f |= FLAG_RA
    return join(req, dnsPacket.encode({ type: 'response', id: req.id, flags: f & 0x7fff, questions: [], answers, authorities, additionals: [...additionals, ...opt] }))
  }
  // Sizes are computed before anything is encoded: the message is encoded once.
  const fixed = HEADER_BYTES + req.question.length + sectionBytes(opt)
  const answers = sectionBytes(res.answers)
  const authorities = sectionBytes(res.authorities)
  if (fixed + answers + authorities + sectionBytes(res.additionals) <= limit) return { bytes: build(res.answers, res.authorities, res.additionals), truncated }
  if (fixed + answers + authorities <= limit) return { bytes: build(res.answers, res.authorities, []), truncated }
  truncated = true
  let used = fixed
  let fit = 0
  for (const rr of res.answers) {
    used += sectionBytes([rr])
    if (used > limit) break
    fit++
  }
  return { bytes: build(res.answers.slice(0, fit), [], []), truncated }
}

/** Bytes a list of records takes on the wire (dns-packet does not compress names). */
function sectionBytes(rrs: Answer[]): number {
  return rrs.length === 0 ? 0 : dnsPacket.encodingLength({ answers: rrs }) - HEADER_BYTES
}

/** Puts the echoed question into an encoded message that was built without one. */
function join(req: Request, encoded: Buffer): Buffer {
  const out = Buffer.concat([encoded.subarray(0, HEADER_BYTES), req.question, encoded.subarray(HEADER_BYTES)])
  out.writeUInt16BE(1, 4)
  return out
}
