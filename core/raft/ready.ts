// Ready: everything one round of the Raft core asks its driver to do.
//
// Contract, in order:
//   1. Persist `snapshot` (if any), `entries` and `hardState` in one write; fsync it when `mustSync`.
//   2. Only then send `messages` (a follower must not acknowledge what is not durable).
//   3. Apply `committedEntries` (and `snapshot`) to the state machine.
//   4. Call advance().

import type { Entry, HardState, Message, ReadState, Snapshot, SoftState } from './types.ts'

export interface Ready {
  /** Set when leader or role changed since the last Ready. Volatile, never persisted. */
  softState?: SoftState
  /** Set when term, vote or commit changed. */
  hardState?: HardState
  readStates: ReadState[]
  /** Unstable entries to append to storage (truncating any conflicting tail). */
  entries: Entry[]
  /** A snapshot received from the leader, to persist and restore. */
  snapshot?: Snapshot
  /** Entries committed and ready to apply, in index order. */
  committedEntries: Entry[]
  messages: Message[]
  mustSync: boolean
}
