// The in-memory tail of the Raft log: every entry after the last compaction, the snapshot, the hard
// state and the applied conf state. It answers the Raft core's synchronous reads with exactly the
// semantics (and errors) of core/raft's MemoryStorage; durable stores change it only after their write
// succeeded, so it never shows what is not stored.

import { errCompacted, errUnavailable } from '../raft/errors.ts'
import { cloneConfState } from '../raft/memory-storage.ts'
import type { InitialState } from '../raft/storage.ts'
import { limitSize } from '../raft/storage.ts'
import { EMPTY_HARD_STATE, emptyConfState } from '../raft/types.ts'
import type { Entry, HardState, Snapshot } from '../raft/types.ts'
import type { LogChange } from './log-change.ts'
import { findViolation } from './log-invariants.ts'
import type { AppliedConfState, IndexTerm } from './raft-records.ts'

export interface LogTailState {
  hardState: HardState
  snapshot: Snapshot
  offset: IndexTerm
  /** Contiguous, starting at offset.index + 1. */
  entries: Entry[]
  appliedConfState: AppliedConfState | undefined
}

export function emptySnapshot(): Snapshot {
  return { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array() }
}

export function emptyLogTailState(): LogTailState {
  return {
    hardState: { ...EMPTY_HARD_STATE },
    snapshot: emptySnapshot(),
    offset: { index: 0, term: 0 },
    entries: [],
    appliedConfState: undefined,
  }
}

export class LogTail {
  private hardStateValue: HardState
  private snapshotValue: Snapshot
  private offsetValue: IndexTerm
  // Invariant: entriesList[i].index === offsetValue.index + 1 + i.
  private entriesList: Entry[]
  private appliedConf: AppliedConfState | undefined

  constructor(state: LogTailState) {
    this.hardStateValue = { ...state.hardState }
    this.snapshotValue = state.snapshot
    this.offsetValue = { ...state.offset }
    this.entriesList = state.entries.slice()
    this.appliedConf = state.appliedConfState
    this.assertInvariants()
  }

  get hardState(): HardState {
    return { ...this.hardStateValue }
  }

  get offset(): IndexTerm {
    return { ...this.offsetValue }
  }

  get appliedConfState(): AppliedConfState | undefined {
    return this.appliedConf
  }

  initialState(): InitialState {
    const snapshotMeta = this.snapshotValue.metadata
    // The conf state applied from the log is newer than the snapshot's unless a newer snapshot arrived.
    const confState =
      this.appliedConf !== undefined && this.appliedConf.index >= snapshotMeta.index
        ? this.appliedConf.confState
        : snapshotMeta.confState
    return { hardState: { ...this.hardStateValue }, confState: cloneConfState(confState) }
  }

  firstIndex(): number {
    return this.offsetValue.index + 1
  }

  lastIndex(): number {
    return this.offsetValue.index + this.entriesList.length
  }

  term(i: number): number {
    const offset = this.offsetValue.index
    if (i < offset) throw errCompacted()
    if (i === offset) return this.offsetValue.term
    if (i > this.lastIndex()) throw errUnavailable()
    return this.entriesList[i - offset - 1]!.term
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offsetValue.index
    if (lo <= offset) throw errCompacted()
    if (hi > this.lastIndex() + 1) throw new Error(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`)
    if (lo > hi) throw new Error(`entries' lo(${lo}) is greater than hi(${hi})`)
    if (this.entriesList.length === 0) throw errUnavailable()
    return limitSize(this.entriesList.slice(lo - offset - 1, hi - offset - 1), maxBytes)
  }

  snapshot(): Snapshot {
    return this.snapshotValue
  }

  /** Applies a planned change (see log-planner.ts); call only once it is stored. */
  apply(change: LogChange): void {
    if (change.snapshot !== undefined) this.snapshotValue = change.snapshot
    if (change.discardLog) this.entriesList = []
    if (change.offset !== undefined) {
      const dropCount = Math.min(this.entriesList.length, change.offset.index - this.offsetValue.index)
      if (dropCount > 0) this.entriesList.splice(0, dropCount)
      this.offsetValue = { ...change.offset }
    }
    if (change.entries.length > 0) {
      this.entriesList.length = change.entries[0]!.index - this.firstIndex()
      for (const entry of change.entries) this.entriesList.push(entry)
    }
    if (change.hardState !== undefined) this.hardStateValue = { ...change.hardState }
    this.assertInvariants()
  }

  setAppliedConfState(applied: AppliedConfState): void {
    this.appliedConf = { index: applied.index, confState: cloneConfState(applied.confState) }
  }

  private assertInvariants(): void {
    const violation = findViolation({
      hardState: this.hardStateValue,
      snapshot: this.snapshotValue.metadata,
      offset: this.offsetValue,
      lastIndex: this.lastIndex(),
      termOf: (index) => this.entriesList[index - this.offsetValue.index - 1]!.term,
    })
    if (violation !== undefined) throw new Error(`log tail invariant broken (${violation.family}): ${violation.reason}`)
  }
}
