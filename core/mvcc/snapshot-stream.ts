// The keyspace snapshot as a byte stream cut into chunks of at most snapshotChunkBytesMax bytes:
//
//   magic "CAIRNKV" 0x01 | header: varint appliedIndex, revision, compactRevision
//   record*: 0x01 varint keyLength key varint valueLength value      (raw backend entries)
//   trailer: 0x00 varint recordCount uint32be crc32(every byte before the crc)
//
// Records may span chunks, so chunk boundaries carry no meaning and a transport may re-cut them. The
// trailer lets the receiver tell a complete stream from a truncated or damaged one.

import { CorruptDataError } from '../errors.ts'
import type { BackendEntry, BackendIterator } from './backend.ts'
import { ClosingIterator, entriesOf } from './backend.ts'
import { concatBytes } from './bytes.ts'
import { Writer } from './codec.ts'
import { crc32 } from './crc32.ts'
import { keyBytesMax, snapshotChunkBytesMax, valueBytesMax } from './limits.ts'

export interface SnapshotHeader {
  appliedIndex: number
  revision: number
  compactRevision: number
}

const magic = new Uint8Array([0x43, 0x41, 0x49, 0x52, 0x4e, 0x4b, 0x56, 0x01]) // "CAIRNKV" 1
const tagRecord = 1
const tagTrailer = 0
/** No stored record is larger: a history event holds a key, a value and the previous value. */
const recordBytesMax = 2 * valueBytesMax + 2 * keyBytesMax + 1024

/** Collects bytes and hands out full chunks; copies, so callers may reuse their buffers. */
class ChunkBuffer {
  private chunk = new Uint8Array(snapshotChunkBytesMax)
  private length = 0
  crc = 0

  push(bytes: Uint8Array, out: Uint8Array[]): void {
    this.crc = crc32(bytes, this.crc)
    let offset = 0
    while (offset < bytes.length) {
      const n = Math.min(bytes.length - offset, this.chunk.length - this.length)
      this.chunk.set(bytes.subarray(offset, offset + n), this.length)
      this.length += n
      offset += n
      if (this.length === this.chunk.length) {
        out.push(this.chunk)
        this.chunk = new Uint8Array(snapshotChunkBytesMax)
        this.length = 0
      }
    }
  }

  /** The last, partial chunk (uncounted by the crc: the crc itself goes here). */
  finish(tail: Uint8Array, out: Uint8Array[]): void {
    const saved = this.crc
    this.push(tail, out)
    this.crc = saved
    if (this.length > 0) out.push(this.chunk.slice(0, this.length))
  }
}

async function* encode(header: SnapshotHeader, sources: BackendIterator[]): AsyncGenerator<Uint8Array, undefined> {
  const buffer = new ChunkBuffer()
  const ready: Uint8Array[] = []
  buffer.push(magic, ready)
  buffer.push(new Writer(32).varint(header.appliedIndex).varint(header.revision).varint(header.compactRevision).finish(), ready)
  let count = 0
  for (const source of sources) {
    for await (const entry of entriesOf(source)) {
      buffer.push(new Writer(16).byte(tagRecord).varint(entry.key.length).finish(), ready)
      buffer.push(entry.key, ready)
      buffer.push(new Writer(8).varint(entry.value.length).finish(), ready)
      buffer.push(entry.value, ready)
      count++
      yield* ready.splice(0)
    }
  }
  buffer.push(new Writer(16).byte(tagTrailer).varint(count).finish(), ready)
  buffer.finish(new Writer(4).uint32(buffer.crc).finish(), ready)
  yield* ready.splice(0)
}

/** Streams the header and every entry of `sources` (already opened views), closing them at the end. */
export function encodeSnapshot(header: SnapshotHeader, sources: BackendIterator[]): AsyncIterableIterator<Uint8Array> {
  return new ClosingIterator(encode(header, sources), sources.map((s) => () => s.close()))
}

export type SnapshotItem = { header: SnapshotHeader } | { entry: BackendEntry }

/** Reads a varint at `offset`; undefined if the bytes end first. */
function peekVarint(bytes: Uint8Array, offset: number): { value: number; next: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < 8; i++) {
    const b = bytes[offset + i]
    if (b === undefined) return undefined
    value += (b & 0x7f) * scale
    if ((b & 0x80) === 0) return { value, next: offset + i + 1 }
    scale *= 0x80
  }
  throw new CorruptDataError('snapshot', 'varint too long')
}

function corrupt(reason: string): CorruptDataError {
  return new CorruptDataError('snapshot', reason)
}

/** Incremental parser state: bytes not yet consumed, and what was consumed so far. */
class SnapshotParser {
  private pending: Uint8Array = new Uint8Array(0)
  private offset = 0
  private crc = 0
  private count = 0
  stage: 'magic' | 'header' | 'records' | 'done' = 'magic'

  feed(chunk: Uint8Array): void {
    const rest = this.pending.subarray(this.offset)
    this.pending = rest.length === 0 ? chunk : concatBytes(rest, chunk)
    this.offset = 0
  }

  private consume(end: number): void {
    this.crc = crc32(this.pending.subarray(this.offset, end), this.crc)
    this.offset = end
  }

  /** The next item, or undefined if more bytes are needed. */
  next(): SnapshotItem | undefined {
    for (;;) {
      if (this.stage === 'magic') {
        if (this.pending.length - this.offset < magic.length) return undefined
        for (let i = 0; i < magic.length; i++) if (this.pending[this.offset + i] !== magic[i]) throw corrupt('bad magic')
        this.consume(this.offset + magic.length)
        this.stage = 'header'
      } else if (this.stage === 'header') {
        return this.nextHeader()
      } else if (this.stage === 'records') {
        if (this.pending[this.offset] !== tagTrailer) return this.nextRecord()
        if (!this.readTrailer()) return undefined
      } else {
        if (this.offset < this.pending.length) throw corrupt('bytes after the trailer')
        return undefined
      }
    }
  }

  private nextHeader(): SnapshotItem | undefined {
    const appliedIndex = peekVarint(this.pending, this.offset)
    const revision = appliedIndex && peekVarint(this.pending, appliedIndex.next)
    const compactRevision = revision && peekVarint(this.pending, revision.next)
    if (appliedIndex === undefined || revision === undefined || compactRevision === undefined) return undefined
    this.consume(compactRevision.next)
    this.stage = 'records'
    return { header: { appliedIndex: appliedIndex.value, revision: revision.value, compactRevision: compactRevision.value } }
  }

  private nextRecord(): SnapshotItem | undefined {
    const bytes = this.pending
    const tag = bytes[this.offset]
    if (tag === undefined) return undefined
    if (tag !== tagRecord) throw corrupt(`unknown record tag ${tag}`)
    const keyLength = peekVarint(bytes, this.offset + 1)
    if (keyLength === undefined) return undefined
    if (keyLength.value > recordBytesMax) throw corrupt('oversized key')
    const valueLength = peekVarint(bytes, keyLength.next + keyLength.value)
    if (valueLength === undefined) return undefined
    if (valueLength.value > recordBytesMax) throw corrupt('oversized value')
    const end = valueLength.next + valueLength.value
    if (bytes.length < end) return undefined
    const key = bytes.slice(keyLength.next, keyLength.next + keyLength.value)
    const value = bytes.slice(valueLength.next, end)
    this.consume(end)
    this.count++
    return { entry: { key, value } }
  }

  /** Checks the trailer; false if it is not complete yet. */
  private readTrailer(): boolean {
    const bytes = this.pending
    const total = peekVarint(bytes, this.offset + 1)
    if (total === undefined || bytes.length < total.next + 4) return false
    if (total.value !== this.count) throw corrupt(`trailer counts ${total.value} records, the stream has ${this.count}`)
    this.consume(total.next)
    const o = this.offset
    const stored = ((bytes[o]! << 24) | (bytes[o + 1]! << 16) | (bytes[o + 2]! << 8) | bytes[o + 3]!) >>> 0
    if (stored !== this.crc) throw corrupt('crc mismatch')
    this.offset += 4
    this.stage = 'done'
    return true
  }
}

/**
 * Parses a snapshot stream, yielding the header first and then each entry. Throws CorruptDataError
 * on bad magic, an oversized record, a wrong count or crc, a missing trailer or bytes after it.
 */
export async function* decodeSnapshot(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<SnapshotItem> {
  const parser = new SnapshotParser()
  for await (const chunk of chunks) {
    parser.feed(chunk)
    for (let item = parser.next(); item !== undefined; item = parser.next()) yield item
  }
  if (parser.stage !== 'done') throw corrupt('stream ended before the trailer')
}
