// Turns a planned LogChange into the puts and deletes of one write batch (layout: keys.ts).

import type { LogChange } from './log-change.ts'
import { entryKey, hardStateKey, logOffsetKey, snapshotDataKey, snapshotMetaKey } from './keys.ts'
import {
  encodeEntry,
  encodeHardState,
  encodeLogOffset,
  encodeSnapshotChunk,
  encodeSnapshotMeta,
} from './raft-records.ts'
import type { WriteBatch } from './write-batch.ts'
import type { Snapshot } from '../raft/types.ts'

/** Snapshot data is stored in chunks of this size, so no single value is huge. */
export const snapshotChunkBytes = 1024 * 1024

export function chunkCountOf(dataBytes: number): number {
  return Math.ceil(dataBytes / snapshotChunkBytes)
}

/**
 * Adds `change` to `batch`. `previousSnapshot` is the snapshot the store holds now: its chunks beyond
 * the new snapshot's count are deleted.
 */
export function addLogChange(batch: WriteBatch, change: LogChange, previousSnapshot: Snapshot): void {
  if (change.snapshot !== undefined) addSnapshot(batch, change.snapshot, chunkCountOf(previousSnapshot.data.length))
  if (change.offset !== undefined) batch.put(logOffsetKey, encodeLogOffset(change.offset))
  for (const span of change.removed) {
    for (let index = span.from; index <= span.to; index++) batch.del(entryKey(index))
  }
  for (const entry of change.entries) batch.put(entryKey(entry.index), encodeEntry(entry))
  if (change.hardState !== undefined) batch.put(hardStateKey, encodeHardState(change.hardState))
}

function addSnapshot(batch: WriteBatch, snapshot: Snapshot, previousChunkCount: number): void {
  const { index, term, confState } = snapshot.metadata
  const chunkCount = chunkCountOf(snapshot.data.length)
  batch.put(snapshotMetaKey, encodeSnapshotMeta({ index, term, confState, dataBytes: snapshot.data.length, chunkCount }))
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const bytes = snapshot.data.subarray(chunk * snapshotChunkBytes, (chunk + 1) * snapshotChunkBytes)
    batch.put(snapshotDataKey(chunk), encodeSnapshotChunk(chunk, bytes))
  }
  for (let chunk = chunkCount; chunk < previousChunkCount; chunk++) batch.del(snapshotDataKey(chunk))
}
