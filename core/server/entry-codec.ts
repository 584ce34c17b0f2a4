// The payload of a normal Raft entry: who proposed it (so the proposing member can answer its
// client) and what to apply. Entries come from disk and peers, so decoding validates the envelope;
// the request itself is validated again by the keyspace when applied.

import { Packr } from 'msgpackr'
import type { ApplyRequest, PutRequest } from '../mvcc/requests.ts'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

/** Requests the member itself handles (not the keyspace). */
export type MemberRequest =
  | { publish: { id: number; name: string; clientUrls: string[] } }
  | { leaseCheckpoint: { id: number } }
  | { updateMember: { id: number; peerUrls: string[] } }

export interface EntryPayload {
  /** Proposer's member ID, a nonce of its current run, and a sequence number: unique per proposal. */
  proposer: number
  /** Distinguishes the proposer's runs: its sequence numbers start over when it restarts. */
  run: number
  seq: number
  request: ApplyRequest | MemberRequest
  /**
   * For a lease revoke decided by the leader's clock: the term of that leader. It takes effect only
   * in an entry of the same term; a deposed leader's decision, forwarded to its successor, does not.
   */
  decidedInTerm?: number
}

export function encodePayload(p: EntryPayload): Uint8Array {
  if (p.decidedInTerm !== undefined) return packr.pack([p.proposer, p.seq, p.request, p.run, p.decidedInTerm])
  return encodePutPayload(p) ?? packr.pack([p.proposer, p.seq, p.request, p.run])
}

export class PayloadError extends Error {
  override name = 'PayloadError'
}

export function decodePayload(data: Uint8Array): EntryPayload {
  if (data[0] === PUT_TAG) return decodePutPayload(data)
  let v: unknown
  try {
    v = packr.unpack(data)
  } catch (e) {
    throw new PayloadError(`undecodable entry payload: ${(e as Error).message}`)
  }
  if (!Array.isArray(v) || (v.length !== 4 && v.length !== 5)) throw new PayloadError('entry payload must be [proposer, seq, request, run, decidedInTerm?]')
  const [proposer, seq, request, run, decidedInTerm] = v as [unknown, unknown, unknown, unknown, unknown]
  if (typeof proposer !== 'number' || typeof seq !== 'number' || typeof run !== 'number' || typeof request !== 'object' || request === null) {
    throw new PayloadError('entry payload has the wrong shape')
  }
  if (v.length === 5 && (typeof decidedInTerm !== 'number' || !Number.isSafeInteger(decidedInTerm) || decidedInTerm < 0)) {
    throw new PayloadError('entry payload decidedInTerm must be a non-negative integer')
  }
  const payload: EntryPayload = { proposer, run, seq, request: request as ApplyRequest | MemberRequest }
  if (v.length === 5) payload.decidedInTerm = decidedInTerm as number
  return payload
}

export function isMemberRequest(r: ApplyRequest | MemberRequest): r is MemberRequest {
  return 'publish' in r || 'leaseCheckpoint' in r || 'updateMember' in r
}

// A plain put is most of what a cluster writes, and every member decodes every entry: it gets a fixed
// layout instead of MessagePack. 0xc1 is the one byte MessagePack never uses, so it cannot begin a
// packed payload, and entries written either way decode alike.
//
//   0xc1 flags:u8 proposer run seq:varint [lease:varint] keyLength:varint key [valueLength:varint value]
//   flags: 1 value, 2 lease, then two bits each for prevKv, ignoreValue, ignoreLease: (present, true)

const PUT_TAG = 0xc1
const HAS_VALUE = 1
const HAS_LEASE = 2
const BOOLEANS = ['prevKv', 'ignoreValue', 'ignoreLease'] as const
const PUT_FIELDS = new Set(['key', 'value', 'lease', ...BOOLEANS])

function encodePutPayload(p: EntryPayload): Uint8Array | undefined {
  const request = p.request as Record<string, unknown>
  const put = request.put as Record<string, unknown> | undefined
  if (put === undefined || Object.keys(request).length !== 1 || typeof put !== 'object' || put === null) return undefined
  for (const field of Object.keys(put)) if (!PUT_FIELDS.has(field) || put[field] === undefined) return undefined
  const { key, value, lease } = put
  if (!(key instanceof Uint8Array) || (value !== undefined && !(value instanceof Uint8Array))) return undefined
  if (lease !== undefined && !isVarint(lease)) return undefined
  if (!isVarint(p.proposer) || !isVarint(p.run) || !isVarint(p.seq)) return undefined
  let flags = (value !== undefined ? HAS_VALUE : 0) | (lease !== undefined ? HAS_LEASE : 0)
  for (const [i, name] of BOOLEANS.entries()) {
    const b = put[name]
    if (b === undefined) continue
    if (typeof b !== 'boolean') return undefined
    flags |= (b ? 3 : 1) << (2 + 2 * i)
  }
  const out = Buffer.allocUnsafe(2 + 6 * 8 + key.length + ((value as Uint8Array | undefined)?.length ?? 0))
  let at = 0
  const varint = (n: number) => {
    while (n >= 0x80) {
      out[at++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    out[at++] = n
  }
  const bytes = (b: Uint8Array) => {
    varint(b.length)
    out.set(b, at)
    at += b.length
  }
  out[at++] = PUT_TAG
  out[at++] = flags
  varint(p.proposer)
  varint(p.run)
  varint(p.seq)
  if (lease !== undefined) varint(lease as number)
  bytes(key)
  if (value !== undefined) bytes(value as Uint8Array)
  return out.subarray(0, at)
}

function decodePutPayload(data: Uint8Array): EntryPayload {
  let at = 1
  const byte = () => {
    if (at >= data.length) throw new PayloadError('put payload ends early')
    return data[at++]!
  }
  const varint = () => {
    let n = 0
    let scale = 1
    for (let i = 0; ; i++) {
      const b = byte()
      n += (b & 0x7f) * scale
      if (b < 0x80) break
      scale *= 0x80
      if (i >= 7) throw new PayloadError('put payload has an over-long number')
    }
    if (!Number.isSafeInteger(n)) throw new PayloadError('put payload has a number past 2^53')
    return n
  }
  const bytes = () => {
    const n = varint()
    if (n > data.length - at) throw new PayloadError('put payload ends early')
    at += n
    return data.subarray(at - n, at)
  }
  const flags = byte()
  const proposer = varint()
  const run = varint()
  const seq = varint()
  const put: PutRequest = { key: new Uint8Array(0) }
  if (flags & HAS_LEASE) put.lease = varint()
  put.key = bytes()
  if (flags & HAS_VALUE) put.value = bytes()
  for (const [i, name] of BOOLEANS.entries()) {
    const bits = (flags >> (2 + 2 * i)) & 3
    if (bits === 2) throw new PayloadError('put payload has a malformed flag')
    if (bits !== 0) put[name] = bits === 3
  }
  if (at !== data.length) throw new PayloadError(`put payload has ${data.length - at} trailing bytes`)
  return { proposer, run, seq, request: { put } }
}

function isVarint(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
}
