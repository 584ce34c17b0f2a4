// The narrow, read-only view of the log that the Raft core needs. All writes reach storage through
// Ready (see rawnode.ts); the core itself never writes. Implementations keep the retained log tail in
// memory so these reads are synchronous (the RocksDB store mirrors its tail, as etcd's MemoryStorage does).

import type { ConfState, Entry, HardState, Snapshot } from './types.ts'

export interface InitialState {
  hardState: HardState
  confState: ConfState
}

export interface RaftStorage {
  initialState(): InitialState
  /** Entries in [lo, hi), at least one if any exist, total size capped by maxBytes. Throws Compacted/Unavailable. */
  entries(lo: number, hi: number, maxBytes: number): Entry[]
  /** Term of entry i; valid for i in [firstIndex()-1, lastIndex()]. Throws Compacted/Unavailable. */
  term(i: number): number
  lastIndex(): number
  /** Index of the first entry still available (the snapshot index + 1). */
  firstIndex(): number
  /** The most recent snapshot. May throw SnapshotTemporarilyUnavailable. */
  snapshot(): Snapshot
}

export function entrySize(e: Entry): number {
  return e.data.byteLength + 24
}

/** Largest prefix of `entries` within maxBytes, but never fewer than one entry. */
export function limitSize(entries: Entry[], maxBytes: number): Entry[] {
  if (entries.length === 0) return entries
  let size = entrySize(entries[0]!)
  let limit = 1
  for (; limit < entries.length; limit++) {
    size += entrySize(entries[limit]!)
    if (size > maxBytes) break
  }
  return limit === entries.length ? entries : entries.slice(0, limit)
}
