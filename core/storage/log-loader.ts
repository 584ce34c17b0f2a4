// Loads the Raft log store's records from a Db, in one pass over one consistent view, and checks
// everything before the member may use it: every checksum, every key, contiguous entries after the log
// offset with non-decreasing terms, a complete snapshot, and the invariants of log-invariants.ts.
// Anything wrong is a CorruptionError that says where; nothing is repaired. The one thing skipped is
// entries at or below the log offset: compaction deletes them after moving the offset.

import { EMPTY_HARD_STATE } from '../raft/types.ts'
import type { Entry, HardState, Snapshot } from '../raft/types.ts'
import type { Db } from './db.ts'
import { CorruptionError } from './errors.ts'
import { findViolation } from './log-invariants.ts'
import { emptySnapshot } from './log-tail.ts'
import type { LogTailState } from './log-tail.ts'
import {
  confStateKey,
  entryIndexOf,
  entryPrefix,
  formatKey,
  hardStateKey,
  hasPrefix,
  logOffsetKey,
  ownerPrefix,
  prefixRange,
  snapshotChunkOf,
  snapshotDataPrefix,
  snapshotMetaKey,
} from './keys.ts'
import {
  decodeAppliedConfState,
  decodeEntry,
  decodeHardState,
  decodeLogOffset,
  decodeSnapshotChunk,
  decodeSnapshotMeta,
} from './raft-records.ts'
import type { AppliedConfState, IndexTerm, StoredSnapshotMeta } from './raft-records.ts'

/** The records as read, before they are checked against each other. */
interface RawLog {
  hardState?: HardState
  snapshotMeta?: StoredSnapshotMeta
  chunks: Map<number, Uint8Array>
  offset?: IndexTerm
  appliedConfState?: AppliedConfState
  entries: Entry[]
}

export async function loadLogTail(db: Db): Promise<LogTailState> {
  const raw = await readRaftRecords(db)
  const offset = raw.offset ?? { index: 0, term: 0 }
  // Entries at or below the offset are a compacted prefix whose range deletion a crash undid
  // (rocks-log-store.ts deletes it after moving the offset): not part of the log, deleted again by
  // the next compaction.
  const stale = raw.entries.findIndex((entry) => entry.index > offset.index)
  raw.entries.splice(0, stale === -1 ? raw.entries.length : stale)
  checkEntries(raw.entries, offset)
  const state: LogTailState = {
    hardState: raw.hardState ?? { ...EMPTY_HARD_STATE },
    snapshot: assembleSnapshot(raw.snapshotMeta, raw.chunks),
    offset,
    entries: raw.entries,
    appliedConfState: raw.appliedConfState,
  }
  const violation = findViolation({
    hardState: state.hardState,
    snapshot: state.snapshot.metadata,
    offset,
    lastIndex: offset.index + raw.entries.length,
    termOf: (index) => raw.entries[index - offset.index - 1]!.term,
  })
  if (violation !== undefined) throw new CorruptionError(violation.family, undefined, violation.reason)
  return state
}

async function readRaftRecords(db: Db): Promise<RawLog> {
  const raw: RawLog = { chunks: new Map(), entries: [] }
  for await (const { key, value } of db.iterate(prefixRange(Uint8Array.of(ownerPrefix.raft)))) {
    if (hasPrefix(key, entryPrefix)) {
      const index = entryIndexOf(key)
      if (index === undefined) throw new CorruptionError('entry', undefined, `malformed entry key ${hex(key)}`)
      raw.entries.push(decodeEntry(index, value))
    } else if (hasPrefix(key, snapshotDataPrefix)) {
      const chunk = snapshotChunkOf(key)
      if (chunk === undefined) throw new CorruptionError('snapshot-data', undefined, `malformed chunk key ${hex(key)}`)
      raw.chunks.set(chunk, decodeSnapshotChunk(chunk, value))
    } else if (sameBytes(key, hardStateKey)) {
      raw.hardState = decodeHardState(value)
    } else if (sameBytes(key, snapshotMetaKey)) {
      raw.snapshotMeta = decodeSnapshotMeta(value)
    } else if (sameBytes(key, logOffsetKey)) {
      raw.offset = decodeLogOffset(value)
    } else if (sameBytes(key, confStateKey)) {
      raw.appliedConfState = decodeAppliedConfState(value)
    } else if (!sameBytes(key, formatKey)) {
      // The format record was checked before loading; anything else here was not written by this layout.
      throw new CorruptionError('log', undefined, `unknown key ${hex(key)} among the log store's records`)
    }
  }
  return raw
}

/** Entries arrive in key order; they must follow the offset without a gap, terms never falling. */
function checkEntries(entries: Entry[], offset: IndexTerm): void {
  let previousTerm = offset.term
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!
    const expected = offset.index + 1 + i
    if (entry.index < expected) {
      throw new CorruptionError('entry', entry.index, `entry at or below the log offset ${offset.index}`)
    }
    if (entry.index > expected) {
      throw new CorruptionError('entry', expected, `entry missing: the next stored entry is ${entry.index}`)
    }
    if (entry.term < previousTerm) {
      throw new CorruptionError('entry', entry.index, `term ${entry.term} is below the term ${previousTerm} before it`)
    }
    previousTerm = entry.term
  }
}

function assembleSnapshot(meta: StoredSnapshotMeta | undefined, chunks: Map<number, Uint8Array>): Snapshot {
  const chunkCount = meta?.chunkCount ?? 0
  for (const chunk of chunks.keys()) {
    if (chunk >= chunkCount) throw new CorruptionError('snapshot-data', chunk, `stray chunk: the snapshot has ${chunkCount}`)
  }
  if (meta === undefined) return emptySnapshot()
  const data = new Uint8Array(meta.dataBytes)
  let filledBytes = 0
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const bytes = chunks.get(chunk)
    if (bytes === undefined) throw new CorruptionError('snapshot-data', chunk, `chunk missing of ${chunkCount}`)
    if (filledBytes + bytes.length > data.length) {
      throw new CorruptionError('snapshot-data', chunk, `chunks exceed the ${meta.dataBytes} bytes the metadata records`)
    }
    data.set(bytes, filledBytes)
    filledBytes += bytes.length
  }
  if (filledBytes !== meta.dataBytes) {
    throw new CorruptionError('snapshot-meta', undefined, `data is ${filledBytes} bytes, the metadata records ${meta.dataBytes}`)
  }
  return { metadata: { index: meta.index, term: meta.term, confState: meta.confState }, data }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && hasPrefix(a, b)
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
}
