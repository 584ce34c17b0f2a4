// The Raft log as the core sees it: durable storage followed by the unstable tail, plus the commit
// and apply cursors.
//
// Invariant: applied <= committed <= lastIndex()
// Invariant: firstIndex() - 1 <= applied (nothing below the snapshot is re-applied)

import { RaftError } from './errors.ts'
import type { RaftStorage } from './storage.ts'
import { limitSize } from './storage.ts'
import type { Entry, Snapshot } from './types.ts'
import { Unstable } from './unstable.ts'

export class RaftLog {
  readonly unstable: Unstable
  committed: number
  /** Highest index handed to the application (in a Ready) but perhaps not yet applied. */
  applying: number
  /** Highest index the application reported applied. */
  applied: number

  constructor(
    readonly storage: RaftStorage,
    readonly maxCommittedSizePerReady: number,
  ) {
    const first = storage.firstIndex()
    const last = storage.lastIndex()
    this.unstable = new Unstable(last + 1)
    // The snapshot index is applied (and committed) by definition.
    this.committed = first - 1
    this.applying = first - 1
    this.applied = first - 1
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, unstable.offset=${this.unstable.offset}, unstable.entries=${this.unstable.entries.length}`
  }

  /**
   * Appends entries sent by a leader after (index, logTerm) if the logs match there.
   * Returns the new last index, or undefined when the logs do not match.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined
    const lastNew = index + ents.length
    const conflict = this.findConflict(ents)
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw new Error(`entry ${conflict} conflicts with committed entry [committed(${this.committed})]`)
      }
      this.append(ents.slice(conflict - (index + 1)))
    }
    this.commitTo(Math.min(committed, lastNew))
    return lastNew
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex()
    const after = ents[0]!.index - 1
    if (after < this.committed) throw new Error(`after(${after}) is out of range [committed(${this.committed})]`)
    this.unstable.truncateAndAppend(ents)
    return this.lastIndex()
  }

  /**
   * The index of the first entry that conflicts with the log (same index, different term), or
   * the first new entry if all overlap matches, or 0 if the log already has everything.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index
    }
    return 0
  }

  /**
   * For a rejected append at (index, term): the largest index <= index whose term is <= term.
   * The leader can skip straight there instead of probing one entry at a time.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.termOrUndefined(index)
      if (t === undefined) return { index, term: 0 }
      if (t <= term) return { index, term: t }
    }
    return { index: 0, term: 0 }
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries
  }

  /** Committed entries not yet handed to the application, bounded by maxCommittedSizePerReady. */
  nextCommittedEnts(): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return []
    const lo = this.applying + 1
    const hi = this.committed + 1
    if (lo >= hi) return []
    return this.slice(lo, hi, this.maxCommittedSizePerReady)
  }

  hasNextCommittedEnts(): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false
    return this.committed > this.applying
  }

  nextUnstableSnapshot(): Snapshot | undefined {
    return this.unstable.snapshot
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined
  }

  snapshot(): Snapshot {
    if (this.unstable.snapshot) return this.unstable.snapshot
    return this.storage.snapshot()
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex()
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex()
  }

  commitTo(tocommit: number): void {
    // Never decrease the commit index.
    if (this.committed < tocommit) {
      if (this.lastIndex() < tocommit) {
        throw new Error(`tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]`)
      }
      this.committed = tocommit
    }
  }

  appliedTo(i: number): void {
    if (i === 0) return
    if (this.committed < i || i < this.applied) {
      throw new Error(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`)
    }
    this.applied = i
    if (this.applying < i) this.applying = i
  }

  acceptApplying(i: number): void {
    if (this.committed < i) throw new Error(`applying(${i}) is out of range [committed(${this.committed})]`)
    this.applying = i
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term)
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index)
  }

  lastTerm(): number {
    const t = this.termOrUndefined(this.lastIndex())
    if (t === undefined) throw new Error(`unexpected error when getting the last term`)
    return t
  }

  /** The term of entry i, or undefined if it is compacted away or beyond the log. */
  termOrUndefined(i: number): number | undefined {
    // The valid range starts at the dummy entry before the first index.
    const dummy = this.firstIndex() - 1
    if (i < dummy || i > this.lastIndex()) return undefined
    const t = this.unstable.maybeTerm(i)
    if (t !== undefined) return t
    try {
      return this.storage.term(i)
    } catch (e) {
      if (e instanceof RaftError && (e.code === 'Compacted' || e.code === 'Unavailable')) return undefined
      throw e
    }
  }

  /** Entries from i on, bounded by maxBytes; throws Compacted when i is behind the snapshot. */
  entries(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return []
    return this.slice(i, this.lastIndex() + 1, maxBytes)
  }

  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), Number.MAX_SAFE_INTEGER)
  }

  /** Whether a candidate's log ending at (lasti, term) is at least as up-to-date as ours (§5.4.1). */
  isUpToDate(lasti: number, term: number): boolean {
    const ourTerm = this.lastTerm()
    return term > ourTerm || (term === ourTerm && lasti >= this.lastIndex())
  }

  matchTerm(i: number, term: number): boolean {
    const t = this.termOrUndefined(i)
    return t !== undefined && t === term
  }

  /** Commits up to maxIndex if that entry is from `term` (only current-term entries commit by counting, §5.4.2). */
  maybeCommit(maxIndex: number, term: number, allowOldTerm = false): boolean {
    if (maxIndex > this.committed && (allowOldTerm || this.termOrUndefined(maxIndex) === term)) {
      this.commitTo(maxIndex)
      return true
    }
    return false
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index
    this.unstable.restore(s)
  }

  /** Entries in [lo, hi), from storage and/or the unstable tail, within maxBytes (at least one). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi)
    if (lo === hi) return []
    let ents: Entry[] = []
    if (lo < this.unstable.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxBytes)
      // Storage gave fewer entries than asked (size-limited): stop there.
      if (stored.length < Math.min(hi, this.unstable.offset) - lo) return stored
      ents = stored
    }
    if (hi > this.unstable.offset) {
      const tail = this.unstable.slice(Math.max(lo, this.unstable.offset), hi)
      ents = ents.length > 0 ? ents.concat(tail) : tail
    }
    return limitSize(ents, maxBytes)
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`)
    const first = this.firstIndex()
    if (lo < first) throw new RaftError('Compacted', 'requested index is unavailable due to compaction')
    const length = this.lastIndex() + 1 - first
    if (hi > first + length) throw new Error(`slice[${lo},${hi}) out of bound [${first},${this.lastIndex()}]`)
  }
}
