// Plans the three durable changes to a Raft log store from its current tail, validating each request
// before anything is written. A request the Raft core should never make (a gap in the log, entries
// that would overwrite the snapshot, a commit beyond the log) is a bug in the caller: thrown as Error.
// Refusals the Raft core expects (an out-of-date snapshot, an index already compacted) are its own
// RaftErrors, as MemoryStorage throws them.

import { errCompacted, errSnapOutOfDate } from '../raft/errors.ts'
import { cloneConfState } from '../raft/memory-storage.ts'
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.ts'
import { emptyChange, removedSpans } from './log-change.ts'
import type { LogChange } from './log-change.ts'
import type { LogTail } from './log-tail.ts'

/** Snapshot data is kept in memory and written in one batch, so it has a ceiling. */
export const snapshotDataBytesMax = 256 * 1024 * 1024

/** What one Ready asks to persist. */
export interface LogUpdate {
  hardState?: HardState
  /** Unstable entries, contiguous; any stored entry from the first one's index on is replaced. */
  entries: Entry[]
  /** A snapshot received from the leader: replaces the whole log. */
  snapshot?: Snapshot
}

export function planSave(tail: LogTail, update: LogUpdate): LogChange {
  const change = emptyChange()
  const oldFirst = tail.firstIndex()
  const oldLast = tail.lastIndex()
  let snapshotIndex = tail.snapshot().metadata.index
  let first = oldFirst
  let last = oldLast
  let termBefore = (index: number) => tail.term(index)

  if (update.snapshot !== undefined) {
    const { index, term } = update.snapshot.metadata
    checkNumbers('snapshot', { index, term })
    if (index <= snapshotIndex) throw errSnapOutOfDate()
    checkSnapshotData(update.snapshot.data)
    change.snapshot = update.snapshot
    change.offset = { index, term }
    change.discardLog = true
    snapshotIndex = index
    first = index + 1
    last = index
    termBefore = () => term
  }

  if (update.entries.length > 0) {
    checkContiguous(update.entries)
    const start = update.entries[0]!
    if (start.index <= snapshotIndex) {
      throw new Error(`entries from ${start.index} would overwrite the snapshot at ${snapshotIndex}`)
    }
    if (start.index > last + 1) throw new Error(`missing log entry [last: ${last}, append at: ${start.index}]`)
    const previousTerm = termBefore(start.index - 1)
    if (start.term < previousTerm) {
      throw new Error(`entry ${start.index} has term ${start.term}, below the term ${previousTerm} of the entry before it`)
    }
    change.entries = update.entries
    last = update.entries[update.entries.length - 1]!.index
  }

  if (update.hardState !== undefined) {
    const { term, vote, commit } = update.hardState
    checkNumbers('hard state', { term, vote, commit })
    if (update.hardState.commit > last) throw new Error(`commit ${update.hardState.commit} is beyond the last entry ${last}`)
    change.hardState = { ...update.hardState }
  }
  change.removed = removedSpans(oldFirst, oldLast, first, last)
  return change
}

export function planCreateSnapshot(tail: LogTail, index: number, confState: ConfState, data: Uint8Array): LogChange {
  if (index <= tail.snapshot().metadata.index) throw errSnapOutOfDate()
  if (index > tail.lastIndex()) throw new Error(`snapshot ${index} is out of bound lastindex(${tail.lastIndex()})`)
  checkSnapshotData(data)
  const snapshot: Snapshot = { metadata: { index, term: tail.term(index), confState: cloneConfState(confState) }, data }
  return { ...emptyChange(), snapshot }
}

export function planCompact(tail: LogTail, index: number): LogChange {
  if (index < tail.firstIndex()) throw errCompacted()
  if (index > tail.lastIndex()) throw new Error(`compact ${index} is out of bound lastindex(${tail.lastIndex()})`)
  const snapshotIndex = tail.snapshot().metadata.index
  if (index > snapshotIndex) {
    throw new Error(`compact ${index} is beyond the snapshot at ${snapshotIndex}: entries no snapshot covers would be lost`)
  }
  return {
    ...emptyChange(),
    offset: { index, term: tail.term(index) },
    removed: removedSpans(tail.firstIndex(), tail.lastIndex(), index + 1, tail.lastIndex()),
  }
}

/** Indexes, terms and node IDs are stored as u64: both stores refuse what the durable one cannot hold. */
function checkNumbers(what: string, numbers: Record<string, number>): void {
  for (const [name, value] of Object.entries(numbers)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`${what} ${name} must be a non-negative safe integer, got ${value}`)
    }
  }
}

function checkContiguous(entries: Entry[]): void {
  for (const entry of entries) checkNumbers('entry', { index: entry.index, term: entry.term })
  for (let i = 1; i < entries.length; i++) {
    const previous = entries[i - 1]!
    const entry = entries[i]!
    if (entry.index !== previous.index + 1) {
      throw new Error(`entries not contiguous: ${entry.index} follows ${previous.index}`)
    }
    if (entry.term < previous.term) {
      throw new Error(`entry ${entry.index} has term ${entry.term}, below ${previous.term} before it`)
    }
  }
}

function checkSnapshotData(data: Uint8Array): void {
  if (data.length > snapshotDataBytesMax) {
    throw new RangeError(`snapshot data is ${data.length} bytes, the limit is ${snapshotDataBytesMax}`)
  }
}
