// MessagePack frames between peers: the head of a snapshot stream (the 'snap' message and the member
// list); the Raft stream itself uses raft-wire.ts. Every decoded frame is validated field by field:
// a peer is outside input, and a malformed frame must be refused with a clear error, never stepped
// into the Raft core.

import { Packr } from 'msgpackr'
import type { ConfState, Entry, Message, MessageType, Snapshot } from '../raft/types.ts'
import type { MemberInfo } from './registry.ts'
import { checkAppendedEntries, ENTRIES_PER_MESSAGE_MAX, PEER_FRAME_BYTES_MAX, PeerFrameError, WIRE_MESSAGE_TYPES } from './raft-wire.ts'

export { ENTRIES_PER_MESSAGE_MAX, PEER_FRAME_BYTES_MAX, PeerFrameError }

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false })

// What may arrive from a peer: the messages of the Raft stream, and 'snap' at the head of a snapshot stream.
const NETWORK_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([...WIRE_MESSAGE_TYPES, 'snap'])

export function encodeFrame(value: unknown): Buffer {
  return packr.pack(value)
}

export function decodeFrame(bytes: Uint8Array): unknown {
  if (bytes.byteLength > PEER_FRAME_BYTES_MAX) throw new PeerFrameError(`frame of ${bytes.byteLength} bytes is too large`)
  try {
    return packr.unpack(bytes)
  } catch (e) {
    throw new PeerFrameError(`undecodable frame: ${(e as Error).message}`)
  }
}

function fail(what: string): never {
  throw new PeerFrameError(`malformed raft message: ${what}`)
}

function uint(v: unknown, name: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(`${name} must be a non-negative integer`)
  return v
}

function bytes(v: unknown, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${name} must be bytes`)
  return v
}

function ids(v: unknown, name: string): number[] {
  if (!Array.isArray(v) || v.length > 10_000) fail(`${name} must be a list of ids`)
  return v.map((x, i) => uint(x, `${name}[${i}]`))
}

function entry(v: unknown, i: number): Entry {
  if (typeof v !== 'object' || v === null) fail(`entries[${i}] must be an object`)
  const e = v as Record<string, unknown>
  if (e.type !== 'normal' && e.type !== 'conf-change') fail(`entries[${i}].type is unknown`)
  return { term: uint(e.term, 'entry.term'), index: uint(e.index, 'entry.index'), type: e.type, data: bytes(e.data, 'entry.data') }
}

function confState(v: unknown): ConfState {
  if (typeof v !== 'object' || v === null) fail('confState must be an object')
  const c = v as Record<string, unknown>
  return {
    voters: ids(c.voters, 'voters'),
    learners: ids(c.learners, 'learners'),
    votersOutgoing: ids(c.votersOutgoing, 'votersOutgoing'),
    learnersNext: ids(c.learnersNext, 'learnersNext'),
    autoLeave: c.autoLeave === true,
  }
}

function snapshot(v: unknown): Snapshot {
  if (typeof v !== 'object' || v === null) fail('snapshot must be an object')
  const s = v as Record<string, unknown>
  const md = s.metadata as Record<string, unknown> | undefined
  if (typeof md !== 'object' || md === null) fail('snapshot.metadata must be an object')
  return {
    metadata: { index: uint(md.index, 'snapshot.index'), term: uint(md.term, 'snapshot.term'), confState: confState(md.confState) },
    data: bytes(s.data, 'snapshot.data'),
  }
}

/** Validates a decoded value as a Raft message that may arrive from the network. */
export function toMessage(v: unknown): Message {
  if (typeof v !== 'object' || v === null) fail('not an object')
  const m = v as Record<string, unknown>
  if (typeof m.type !== 'string' || !NETWORK_TYPES.has(m.type as MessageType)) fail(`type ${String(m.type)} is not a network message`)
  const entries = m.entries ?? []
  if (!Array.isArray(entries) || entries.length > ENTRIES_PER_MESSAGE_MAX) fail('entries must be a bounded list')
  const out: Message = {
    type: m.type as MessageType,
    to: uint(m.to, 'to'),
    from: uint(m.from, 'from'),
    term: uint(m.term, 'term'),
    logTerm: uint(m.logTerm ?? 0, 'logTerm'),
    index: uint(m.index ?? 0, 'index'),
    entries: entries.map(entry),
    commit: uint(m.commit ?? 0, 'commit'),
    reject: m.reject === true,
    rejectHint: uint(m.rejectHint ?? 0, 'rejectHint'),
  }
  if (out.type === 'app') checkAppendedEntries(out)
  if (m.snapshot !== undefined) out.snapshot = snapshot(m.snapshot)
  if (out.type === 'snap' && !out.snapshot) fail('snap without snapshot')
  if (m.context !== undefined) out.context = bytes(m.context, 'context')
  return out
}

function strings(v: unknown, name: string): string[] {
  if (!Array.isArray(v) || v.length > 100 || v.some((s) => typeof s !== 'string')) fail(`${name} must be a list of strings`)
  return v as string[]
}

/** Validates the member list that travels with a snapshot: it replaces the receiver's registry. */
export function toMembers(v: unknown): MemberInfo[] {
  if (!Array.isArray(v) || v.length > 10_000) fail('members must be a bounded list')
  return v.map((x, i) => {
    if (typeof x !== 'object' || x === null) fail(`members[${i}] must be an object`)
    const o = x as Record<string, unknown>
    const id = uint(o.id, `members[${i}].id`)
    if (id === 0) fail(`members[${i}].id must not be 0`)
    if (typeof o.name !== 'string') fail(`members[${i}].name must be a string`)
    return { id, name: o.name, peerUrls: strings(o.peerUrls, 'peerUrls'), clientUrls: strings(o.clientUrls, 'clientUrls'), isLearner: o.isLearner === true }
  })
}

/** The first frame of a snapshot stream: the Raft 'snap' message and the member registry. */
export function decodeSnapshotHeader(bytes: Uint8Array): { message: Message; members: MemberInfo[] } {
  const v = decodeFrame(bytes)
  if (typeof v !== 'object' || v === null) fail('snapshot header must be an object')
  const o = v as Record<string, unknown>
  const message = toMessage(o.message)
  if (message.type !== 'snap') fail('snapshot header must carry a snap message')
  return { message, members: toMembers(o.members) }
}

/** A compact wire form: default-valued fields are left out. */
export function fromMessage(m: Message): Record<string, unknown> {
  const o: Record<string, unknown> = { type: m.type, to: m.to, from: m.from, term: m.term }
  if (m.logTerm) o.logTerm = m.logTerm
  if (m.index) o.index = m.index
  if (m.entries.length > 0) o.entries = m.entries
  if (m.commit) o.commit = m.commit
  if (m.reject) o.reject = true
  if (m.rejectHint) o.rejectHint = m.rejectHint
  if (m.snapshot) o.snapshot = m.snapshot
  if (m.context) o.context = m.context
  return o
}
