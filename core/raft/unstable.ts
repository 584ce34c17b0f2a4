// The not-yet-persisted tail of the log (and possibly an incoming snapshot). Entries here have been
// accepted by this node but not yet handed to storage; they leave once the driver reports them saved.

import type { Entry, Snapshot } from './types.ts'

export class Unstable {
  snapshot: Snapshot | undefined = undefined
  entries: Entry[] = []
  /** Index of entries[0]. Invariant: offset = last stable index + 1. */
  offset: number

  constructor(offset: number) {
    this.offset = offset
  }

  /** The first index known here, only if a snapshot is pending. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1
    if (this.snapshot) return this.snapshot.metadata.index
    return undefined
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term
      return undefined
    }
    const last = this.maybeLastIndex()
    if (last === undefined || i > last) return undefined
    return this.entries[i - this.offset]!.term
  }

  /** Entries up to (index, term) have been persisted; drop them if they are still ours. */
  stableTo(index: number, term: number): void {
    const t = this.maybeTerm(index)
    if (t === undefined) return
    // Only drop if the entry is the one persisted (a newer leader may have replaced it meanwhile).
    if (t === term && index >= this.offset) {
      this.entries = this.entries.slice(index + 1 - this.offset)
      this.offset = index + 1
    }
  }

  stableSnapTo(index: number): void {
    if (this.snapshot && this.snapshot.metadata.index === index) this.snapshot = undefined
  }

  restore(snap: Snapshot): void {
    this.offset = snap.metadata.index + 1
    this.entries = []
    this.snapshot = snap
  }

  truncateAndAppend(ents: Entry[]): void {
    const first = ents[0]!.index
    if (first === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents)
    } else if (first <= this.offset) {
      // Replaces everything unstable; storage will truncate its own tail when these are saved.
      this.offset = first
      this.entries = ents.slice()
    } else {
      this.entries = this.entries.slice(0, first - this.offset).concat(ents)
    }
  }

  slice(lo: number, hi: number): Entry[] {
    if (lo > hi) throw new Error(`invalid unstable.slice ${lo} > ${hi}`)
    const upper = this.offset + this.entries.length
    if (lo < this.offset || hi > upper) throw new Error(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`)
    return this.entries.slice(lo - this.offset, hi - this.offset)
  }
}
