// The properties that must hold between the records of a Raft log store, checked on both sides of
// the disk: after every change to the in-memory tail (a violation is a bug: thrown as Error) and when
// a store is loaded (a violation is corruption: thrown as CorruptionError).

import type { RecordFamily } from './errors.ts'
import type { IndexTerm } from './raft-records.ts'
import type { HardState, SnapshotMetadata } from '../raft/types.ts'

export interface LogShape {
  hardState: HardState
  snapshot: SnapshotMetadata
  offset: IndexTerm
  lastIndex: number
  /** Term of a retained entry (offset.index < index <= lastIndex). */
  termOf(index: number): number
}

export interface Violation {
  family: RecordFamily
  reason: string
}

export function findViolation(log: LogShape): Violation | undefined {
  const { hardState, snapshot, offset, lastIndex } = log
  // Entries are only dropped once a snapshot covers them; else a lagging follower could never catch up.
  if (offset.index > snapshot.index) {
    return { family: 'log-offset', reason: `log offset ${offset.index} is beyond the snapshot at ${snapshot.index}` }
  }
  // Committed entries (and so the snapshot) are never truncated.
  if (snapshot.index > lastIndex) {
    return { family: 'log', reason: `snapshot at ${snapshot.index} is beyond the last entry ${lastIndex}` }
  }
  const snapshotEntryTerm = snapshot.index === offset.index ? offset.term : log.termOf(snapshot.index)
  if (snapshotEntryTerm !== snapshot.term) {
    return {
      family: 'log',
      reason: `snapshot at ${snapshot.index} has term ${snapshot.term} but the log has term ${snapshotEntryTerm} there`,
    }
  }
  if (hardState.commit > lastIndex) {
    return { family: 'hard-state', reason: `commit ${hardState.commit} is beyond the last entry ${lastIndex}` }
  }
  return undefined
}
