// The most recent revisions' events, kept in memory so that watchers that fell a little behind catch
// up without reading storage, and receive the very Event objects live watchers got (encoded once).
// Bounded by a total event count; it always holds a contiguous run of revisions ending at the newest.

import type { RevisionEvents } from './types.ts'

export class RevisionRing {
  private readonly revisions: RevisionEvents[] = []
  private head = 0
  private eventCount = 0

  constructor(private readonly eventsMax: number) {}

  push(batch: RevisionEvents): void {
    this.revisions.push(batch)
    this.eventCount += batch.events.length
    while (this.eventCount > this.eventsMax && this.revisions.length - this.head > 1) this.dropOldest()
    if (this.head > 1024 && this.head * 2 > this.revisions.length) {
      this.revisions.splice(0, this.head)
      this.head = 0
    }
  }

  private dropOldest(): void {
    this.eventCount -= this.revisions[this.head]!.events.length
    this.head++
  }

  /** Forgets revisions below `revision` (they were compacted). */
  dropBelow(revision: number): void {
    while (this.head < this.revisions.length && this.revisions[this.head]!.revision < revision) this.dropOldest()
  }

  clear(): void {
    this.revisions.length = 0
    this.head = 0
    this.eventCount = 0
  }

  /**
   * Revisions from `fromRevision` on, whole, stopping after the one in which `maxEvents` is reached.
   * Undefined if the ring no longer reaches back to fromRevision. `through` is the last revision covered.
   */
  read(fromRevision: number, maxEvents: number, headRevision: number): { revisions: RevisionEvents[]; through: number } | undefined {
    if (fromRevision > headRevision) return { revisions: [], through: headRevision }
    const oldest = this.revisions[this.head]
    if (oldest === undefined || oldest.revision > fromRevision) return undefined
    const out: RevisionEvents[] = []
    let count = 0
    for (let i = this.head; i < this.revisions.length; i++) {
      const batch = this.revisions[i]!
      if (batch.revision < fromRevision) continue
      if (count >= maxEvents) return { revisions: out, through: out[out.length - 1]!.revision }
      out.push(batch)
      count += batch.events.length
    }
    return { revisions: out, through: headRevision }
  }
}
