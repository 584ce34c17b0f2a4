// The binary form of the Raft messages one member sends another in one peer frame. Appends carry
// every write to every follower, so this sits on the hottest path of the cluster: a fixed layout
// written and read field by field costs a fraction of a generic encoder (msgpack spent ~6 % of each
// member's CPU on it under write load). Entry payloads are opaque bytes and are not copied on read.
//
//   frame   = version:u8 count:varint message*
//   message = type:u8 flags:u8 to from term logTerm index commit rejectHint:varint
//             entryCount:varint entry* [contextLength:varint context]
//   entry   = term index:varint type:u8 dataLength:varint data
//   flags   = 1: reject, 2: has context
//
// Varints are unsigned LEB128 of safe integers (up to 2^53 - 1). Snapshots never travel in these
// frames: they go on their own stream (snapshot-transfer.ts), so a 'snap' has no code here.
// Decoding validates everything a peer could get wrong (see peer-codec.ts for the rules it shares).

import type { Entry, EntryType, Message, MessageType } from '../raft/types.ts'

export const RAFT_WIRE_VERSION = 2
export const PEER_FRAME_BYTES_MAX = 64 * 1024 * 1024
export const ENTRIES_PER_MESSAGE_MAX = 100_000

/** A frame from a peer that is not a valid list of Raft messages. */
export class PeerFrameError extends Error {
  override name = 'PeerFrameError'
}

/** The message types of the Raft stream, in the order of their codes (1, 2, …): append only. */
export const WIRE_MESSAGE_TYPES: readonly MessageType[] = [
  'app',
  'app-resp',
  'vote',
  'vote-resp',
  'prevote',
  'prevote-resp',
  'heartbeat',
  'heartbeat-resp',
  'transfer-leader',
  'timeout-now',
  'read-index',
  'read-index-resp',
  'prop',
]
const TYPE_CODE = new Map<MessageType, number>(WIRE_MESSAGE_TYPES.map((t, i) => [t, i + 1]))
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change']
const FLAG_REJECT = 1
const FLAG_CONTEXT = 2
const MESSAGES_PER_FRAME_MAX = 100_000

/** Encodes the messages for one peer as one frame. Throws for a message type that never travels. */
export function encodeMessages(messages: readonly Message[]): Buffer {
  let size = 1 + 10
  for (const m of messages) {
    size += 2 + 7 * 8 + 8 + (m.context ? 8 + m.context.length : 0)
    for (const e of m.entries) size += 8 + 8 + 1 + 8 + e.data.length
  }
  const w = new Writer(size)
  w.u8(RAFT_WIRE_VERSION)
  w.varint(messages.length)
  for (const m of messages) {
    const code = TYPE_CODE.get(m.type)
    if (code === undefined) throw new Error(`raft message type ${m.type} is not sent in peer frames`)
    w.u8(code)
    w.u8((m.reject ? FLAG_REJECT : 0) | (m.context ? FLAG_CONTEXT : 0))
    w.varint(m.to)
    w.varint(m.from)
    w.varint(m.term)
    w.varint(m.logTerm)
    w.varint(m.index)
    w.varint(m.commit)
    w.varint(m.rejectHint)
    w.varint(m.entries.length)
    for (const e of m.entries) {
      w.varint(e.term)
      w.varint(e.index)
      w.u8(e.type === 'normal' ? 0 : 1)
      w.varint(e.data.length)
      w.bytes(e.data)
    }
    if (m.context) {
      w.varint(m.context.length)
      w.bytes(m.context)
    }
  }
  return w.finish()
}

/** Decodes and validates a frame from a peer. Throws PeerFrameError, and nothing else, on bad input. */
export function decodeMessages(bytes: Uint8Array): Message[] {
  if (bytes.byteLength > PEER_FRAME_BYTES_MAX) throw new PeerFrameError(`frame of ${bytes.byteLength} bytes is too large`)
  const r = new Reader(bytes)
  const version = r.u8()
  if (version !== RAFT_WIRE_VERSION) throw new PeerFrameError(`frame version ${version}, this member reads ${RAFT_WIRE_VERSION}`)
  const count = r.varint('message count')
  if (count > MESSAGES_PER_FRAME_MAX) throw new PeerFrameError(`frame of ${count} messages is too large`)
  const out: Message[] = []
  for (let i = 0; i < count; i++) {
    const type = WIRE_MESSAGE_TYPES[r.u8() - 1]
    if (type === undefined) throw new PeerFrameError('malformed raft message: unknown type')
    const flags = r.u8()
    if (flags & ~(FLAG_REJECT | FLAG_CONTEXT)) throw new PeerFrameError('malformed raft message: unknown flags')
    const m: Message = {
      type,
      to: r.varint('to'),
      from: r.varint('from'),
      term: r.varint('term'),
      logTerm: r.varint('logTerm'),
      index: r.varint('index'),
      commit: r.varint('commit'),
      rejectHint: r.varint('rejectHint'),
      reject: (flags & FLAG_REJECT) !== 0,
      entries: [],
    }
    const entries = r.varint('entry count')
    if (entries > ENTRIES_PER_MESSAGE_MAX) throw new PeerFrameError('malformed raft message: entries must be a bounded list')
    for (let k = 0; k < entries; k++) {
      const term = r.varint('entry.term')
      const index = r.varint('entry.index')
      const entryType = ENTRY_TYPES[r.u8()]
      if (entryType === undefined) throw new PeerFrameError(`malformed raft message: entries[${k}].type is unknown`)
      const entry: Entry = { term, index, type: entryType, data: r.bytes(r.varint('entry.data length')) }
      m.entries.push(entry)
    }
    if (flags & FLAG_CONTEXT) m.context = r.bytes(r.varint('context length'))
    if (m.type === 'app') checkAppendedEntries(m)
    out.push(m)
  }
  if (r.remaining() !== 0) throw new PeerFrameError(`${r.remaining()} trailing bytes after the last message`)
  return out
}

/**
 * Entries of an append follow its index one by one, with terms that never go down (from the term at
 * that index) and never pass the leader's term, as every Raft log does. The log store trusts this: a
 * gap or a term going back would be written as is and break the log.
 */
export function checkAppendedEntries(m: Message): void {
  let term = m.logTerm
  m.entries.forEach((e, k) => {
    if (e.index !== m.index + 1 + k) throw new PeerFrameError(`malformed raft message: entries[${k}].index ${e.index} does not follow ${m.index + k}`)
    if (e.term < term || e.term > m.term) throw new PeerFrameError(`malformed raft message: entries[${k}].term ${e.term} is outside [${term}, ${m.term}]`)
    term = e.term
  })
}

class Writer {
  private readonly buf: Buffer
  private at = 0

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity)
  }

  u8(v: number): void {
    this.buf[this.at++] = v
  }

  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`expected a non-negative safe integer, got ${v}`)
    while (v >= 0x80) {
      this.buf[this.at++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.at++] = v
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.at)
    this.at += b.length
  }

  finish(): Buffer {
    return this.buf.subarray(0, this.at)
  }
}

class Reader {
  private at = 0

  constructor(private readonly buf: Uint8Array) {}

  remaining(): number {
    return this.buf.length - this.at
  }

  u8(): number {
    if (this.at >= this.buf.length) throw new PeerFrameError('frame ends early')
    return this.buf[this.at++]!
  }

  varint(name: string): number {
    let value = 0
    let scale = 1
    for (let i = 0; ; i++) {
      const b = this.u8()
      value += (b & 0x7f) * scale
      if (b < 0x80) break
      scale *= 0x80
      if (i >= 7) throw new PeerFrameError(`malformed raft message: ${name} is too long`)
    }
    if (!Number.isSafeInteger(value)) throw new PeerFrameError(`malformed raft message: ${name} exceeds 2^53`)
    return value
  }

  /** A view of the next n bytes (entry payloads are kept as they arrived, not copied). */
  bytes(n: number): Uint8Array {
    if (n > this.remaining()) throw new PeerFrameError('frame ends early')
    const out = this.buf.subarray(this.at, this.at + n)
    this.at += n
    return out
  }
}
