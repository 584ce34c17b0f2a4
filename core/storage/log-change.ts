// One durable change to the Raft log store, as planned before anything is written. Both stores apply
// the same LogChange: RocksLogStore turns it into one write batch, then both apply it to their
// in-memory tail. Planning validates everything first, so a refused call writes nothing.

import type { IndexTerm } from './raft-records.ts'
import type { Entry, HardState, Snapshot } from '../raft/types.ts'

/** Stored entry indexes [from, to], inclusive; empty when from > to. */
export interface IndexSpan {
  from: number
  to: number
}

export interface LogChange {
  /** A new snapshot record (metadata and data). */
  snapshot?: Snapshot
  /** The new log offset: the index and term just before the first retained entry. */
  offset?: IndexTerm
  /** Drop every retained entry before moving the offset (a snapshot from the leader replaces the log). */
  discardLog: boolean
  /** Entries to store, contiguous; each replaces a stored entry at the same index. */
  entries: Entry[]
  /** Stored entries this change removes (a compacted prefix, a truncated tail, a discarded log). */
  removed: IndexSpan[]
  hardState?: HardState
}

export function emptyChange(): LogChange {
  return { discardLog: false, entries: [], removed: [] }
}

export function isEmptyChange(change: LogChange): boolean {
  return (
    change.snapshot === undefined &&
    change.offset === undefined &&
    change.hardState === undefined &&
    change.entries.length === 0 &&
    change.removed.every((span) => span.from > span.to)
  )
}

/**
 * The stored indexes in [oldFirst, oldLast] that fall outside [newFirst, newLast]: what a change that
 * moves the retained range must delete. Indexes inside the new range are either kept or overwritten.
 */
export function removedSpans(oldFirst: number, oldLast: number, newFirst: number, newLast: number): IndexSpan[] {
  const spans: IndexSpan[] = []
  const below = { from: oldFirst, to: Math.min(oldLast, newFirst - 1) }
  const above = { from: Math.max(oldFirst, newLast + 1, below.to + 1), to: oldLast }
  if (below.from <= below.to) spans.push(below)
  if (above.from <= above.to) spans.push(above)
  return spans
}
