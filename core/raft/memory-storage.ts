// In-memory RaftStorage: the test twin, and the model the durable store's tail mirror follows.

import { errCompacted, errSnapOutOfDate, errUnavailable } from './errors.ts'
import type { InitialState, RaftStorage } from './storage.ts'
import { limitSize } from './storage.ts'
import { EMPTY_HARD_STATE, emptyConfState } from './types.ts'
import type { ConfState, Entry, HardState, Snapshot } from './types.ts'

export class MemoryStorage implements RaftStorage {
  hardState: HardState = { ...EMPTY_HARD_STATE }
  private snap: Snapshot = { metadata: { index: 0, term: 0, confState: emptyConfState() }, data: new Uint8Array() }
  // Invariant: ents[0] is a dummy entry at the snapshot's index and term.
  private ents: Entry[] = [{ index: 0, term: 0, type: 'normal', data: new Uint8Array() }]

  initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) }
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs }
  }

  private offset(): number {
    return this.ents[0]!.index
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset()
    if (lo <= offset) throw errCompacted()
    if (hi > this.lastIndex() + 1) throw new Error(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`)
    if (this.ents.length === 1) throw errUnavailable()
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes)
  }

  term(i: number): number {
    const offset = this.offset()
    if (i < offset) throw errCompacted()
    if (i - offset >= this.ents.length) throw errUnavailable()
    return this.ents[i - offset]!.term
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1
  }

  firstIndex(): number {
    return this.offset() + 1
  }

  snapshot(): Snapshot {
    return this.snap
  }

  /** Replaces the whole state with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw errSnapOutOfDate()
    this.snap = snap
    this.ents = [{ index: snap.metadata.index, term: snap.metadata.term, type: 'normal', data: new Uint8Array() }]
  }

  /** Records a snapshot the application took at index i (which must be applied and retained). */
  createSnapshot(i: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw errSnapOutOfDate()
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`)
    this.snap = { metadata: { index: i, term: this.term(i), confState: cloneConfState(confState) }, data }
    return this.snap
  }

  /** Discards entries before compactIndex; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.offset()
    if (compactIndex <= offset) throw errCompacted()
    if (compactIndex > this.lastIndex()) throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`)
    const i = compactIndex - offset
    const dummy = { ...this.ents[i]!, data: new Uint8Array(), type: 'normal' as const }
    this.ents = [dummy, ...this.ents.slice(i + 1)]
  }

  /** Appends entries, truncating any conflicting tail. Entries must be contiguous. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return
    const first = this.firstIndex()
    const last = entries[0]!.index + entries.length - 1
    if (last < first) return // all already compacted
    if (first > entries[0]!.index) entries = entries.slice(first - entries[0]!.index)
    const offset = entries[0]!.index - this.offset()
    if (offset > this.ents.length) {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${entries[0]!.index}]`)
    }
    this.ents = [...this.ents.slice(0, offset), ...entries]
  }
}

export function cloneConfState(cs: ConfState): ConfState {
  return {
    voters: [...cs.voters],
    learners: [...cs.learners],
    votersOutgoing: [...cs.votersOutgoing],
    learnersNext: [...cs.learnersNext],
    autoLeave: cs.autoLeave,
  }
}
