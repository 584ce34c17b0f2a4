// Encodings of the Raft log store's records (bodies inside the frame of record.ts). Hand-written and
// fixed-width where possible: small, fast, and every byte accounted for when a record is checked.

import type { ByteReader, ByteWriter } from './binary.ts'
import { DecodeError } from './binary.ts'
import { entryKey, formatKey, hardStateKey, confStateKey, logOffsetKey, snapshotDataKey, snapshotMetaKey } from './keys.ts'
import { openRecord, sealRecord } from './record.ts'
import type { ConfState, Entry, EntryType, HardState, NodeId } from '../raft/types.ts'

/** The layout of the Raft log store described in keys.ts and docs/storage.md. */
export const formatVersion = 1

/** An index and the term of the entry there; used for the log offset. */
export interface IndexTerm {
  index: number
  term: number
}

/** The conf state the application last applied, and the index of the entry that produced it. */
export interface AppliedConfState {
  index: number
  confState: ConfState
}

/** Snapshot metadata as stored: the snapshot's data follows in `chunkCount` data records. */
export interface StoredSnapshotMeta {
  index: number
  term: number
  confState: ConfState
  dataBytes: number
  chunkCount: number
}

const entryTypeCodes: Record<EntryType, number> = { normal: 0, 'conf-change': 1 }

function entryTypeOf(code: number): EntryType {
  if (code === 0) return 'normal'
  if (code === 1) return 'conf-change'
  throw new DecodeError(`unknown entry type code ${code}`)
}

export function encodeEntry(entry: Entry): Uint8Array {
  return sealRecord(entryKey(entry.index), 9 + entry.data.length, (w) => {
    w.u8(entryTypeCodes[entry.type]).u64(entry.term).raw(entry.data)
  })
}

export function decodeEntry(index: number, value: Uint8Array): Entry {
  return openRecord(entryKey(index), value, { family: 'entry', position: index }, (r) => {
    const type = entryTypeOf(r.u8())
    const term = r.u64()
    return { index, term, type, data: r.copy(r.remainingBytes()) }
  })
}

export function encodeHardState(hardState: HardState): Uint8Array {
  return sealRecord(hardStateKey, 24, (w) => {
    w.u64(hardState.term).u64(hardState.vote).u64(hardState.commit)
  })
}

export function decodeHardState(value: Uint8Array): HardState {
  return openRecord(hardStateKey, value, { family: 'hard-state' }, (r) => ({ term: r.u64(), vote: r.u64(), commit: r.u64() }))
}

function writeNodeIds(w: ByteWriter, ids: NodeId[]): void {
  w.u32(ids.length)
  for (const id of ids) w.u64(id)
}

function readNodeIds(r: ByteReader): NodeId[] {
  const count = r.u32()
  // A count the record cannot hold is caught before allocating for it.
  if (count * 8 > r.remainingBytes()) throw new DecodeError(`node list of ${count} ids does not fit the record`)
  const ids: NodeId[] = []
  for (let i = 0; i < count; i++) ids.push(r.u64())
  return ids
}

function writeConfState(w: ByteWriter, cs: ConfState): void {
  writeNodeIds(w, cs.voters)
  writeNodeIds(w, cs.learners)
  writeNodeIds(w, cs.votersOutgoing)
  writeNodeIds(w, cs.learnersNext)
  w.u8(cs.autoLeave ? 1 : 0)
}

function readConfState(r: ByteReader): ConfState {
  const voters = readNodeIds(r)
  const learners = readNodeIds(r)
  const votersOutgoing = readNodeIds(r)
  const learnersNext = readNodeIds(r)
  const autoLeaveCode = r.u8()
  if (autoLeaveCode > 1) throw new DecodeError(`autoLeave flag is ${autoLeaveCode}, expected 0 or 1`)
  return { voters, learners, votersOutgoing, learnersNext, autoLeave: autoLeaveCode === 1 }
}

function confStateBytes(cs: ConfState): number {
  return 17 + 8 * (cs.voters.length + cs.learners.length + cs.votersOutgoing.length + cs.learnersNext.length)
}

export function encodeAppliedConfState(applied: AppliedConfState): Uint8Array {
  return sealRecord(confStateKey, 8 + confStateBytes(applied.confState), (w) => {
    w.u64(applied.index)
    writeConfState(w, applied.confState)
  })
}

export function decodeAppliedConfState(value: Uint8Array): AppliedConfState {
  return openRecord(confStateKey, value, { family: 'conf-state' }, (r) => ({ index: r.u64(), confState: readConfState(r) }))
}

export function encodeSnapshotMeta(meta: StoredSnapshotMeta): Uint8Array {
  return sealRecord(snapshotMetaKey, 28 + confStateBytes(meta.confState), (w) => {
    w.u64(meta.index).u64(meta.term)
    writeConfState(w, meta.confState)
    w.u64(meta.dataBytes).u32(meta.chunkCount)
  })
}

export function decodeSnapshotMeta(value: Uint8Array): StoredSnapshotMeta {
  return openRecord(snapshotMetaKey, value, { family: 'snapshot-meta' }, (r) => ({
    index: r.u64(),
    term: r.u64(),
    confState: readConfState(r),
    dataBytes: r.u64(),
    chunkCount: r.u32(),
  }))
}

export function encodeSnapshotChunk(chunk: number, data: Uint8Array): Uint8Array {
  return sealRecord(snapshotDataKey(chunk), data.length, (w) => {
    w.raw(data)
  })
}

export function decodeSnapshotChunk(chunk: number, value: Uint8Array): Uint8Array {
  return openRecord(snapshotDataKey(chunk), value, { family: 'snapshot-data', position: chunk }, (r) =>
    r.copy(r.remainingBytes()),
  )
}

export function encodeLogOffset(offset: IndexTerm): Uint8Array {
  return sealRecord(logOffsetKey, 16, (w) => {
    w.u64(offset.index).u64(offset.term)
  })
}

export function decodeLogOffset(value: Uint8Array): IndexTerm {
  return openRecord(logOffsetKey, value, { family: 'log-offset' }, (r) => ({ index: r.u64(), term: r.u64() }))
}

export function encodeFormat(): Uint8Array {
  return sealRecord(formatKey, 4, (w) => {
    w.u32(formatVersion)
  })
}

export function decodeFormat(value: Uint8Array): number {
  return openRecord(formatKey, value, { family: 'format' }, (r) => r.u32())
}
