// The Raft log store: the read-only RaftStorage the core needs, plus the durable writes its driver
// makes. Reads are synchronous (served from an in-memory tail); writes are asynchronous and change
// what reads return only once they are stored.

import type { RaftStorage } from '../raft/storage.ts'
import type { ConfState, Snapshot } from '../raft/types.ts'
import type { LogUpdate } from './log-planner.ts'
import type { WriteBatch } from './write-batch.ts'

export type { LogUpdate } from './log-planner.ts'

export interface LogStore extends RaftStorage {
  /**
   * Persists one Ready: the snapshot (if any; it replaces the whole log), the entries (replacing any
   * conflicting stored tail) and the hard state, in one atomic write, fsynced when `sync` (Ready's
   * mustSync). A snapshot is always fsynced. Calls are applied in call order.
   */
  save(update: LogUpdate, sync: boolean): Promise<void>
  /**
   * Records a snapshot the application took at `index` (applied, and still in the log). Not fsynced:
   * losing it in a crash loses nothing, since the entries it covers are still stored.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot>
  /**
   * Drops the entries up to and including `index`, which must be covered by the snapshot. The entry
   * at `index` keeps answering term(index). Not fsynced: a crash may bring the entries back, harmlessly.
   */
  compact(index: number): Promise<void>
  /**
   * Adds to `batch` the record of `confState` as the membership applied by the entry at `index`, so
   * it lands atomically with the applied index of the keyspace. initialState() reports it once the
   * batch is written (the newer of it and the snapshot's conf state).
   */
  stageConfState(batch: WriteBatch, confState: ConfState, index: number): void
  /** Waits for pending writes, then refuses further calls; idempotent. Does not close a Db it was given. */
  close(): Promise<void>
}
