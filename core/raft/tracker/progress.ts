// The leader's view of one follower's log: how far it matches, what to send next, and in which mode.
//
//   probe:     send one append per heartbeat interval until the follower's position is found
//   replicate: stream appends optimistically, bounded by the inflights window
//   snapshot:  a snapshot is on its way; send nothing until it is reported

import { Inflights } from './inflights.ts'

export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  match = 0
  next: number
  state: ProgressState = 'probe'
  /** Index of the snapshot in flight, while in 'snapshot' state. */
  pendingSnapshot = 0
  /** Heard from since the last check-quorum round. */
  recentActive = false
  /** In probe state: an append was sent and we wait for its answer or the next heartbeat. */
  probeSent = false
  inflights: Inflights
  isLearner = false

  constructor(next: number, inflightsMax: number, inflightsBytesMax: number, isLearner = false) {
    this.next = next
    this.inflights = new Inflights(inflightsMax, inflightsBytesMax)
    this.isLearner = isLearner
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false
    this.pendingSnapshot = 0
    this.state = state
    this.inflights.reset()
  }

  becomeProbe(): void {
    // After a snapshot, resume just past it (or past the match, whichever is further).
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot
      this.resetState('probe')
      this.next = Math.max(this.match + 1, pending + 1)
    } else {
      this.resetState('probe')
      this.next = this.match + 1
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate')
    this.next = this.match + 1
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot')
    this.pendingSnapshot = snapshotIndex
  }

  /** Updates the progress after a message with entries up to `lastIndex` was sent. */
  sentEntries(entryCount: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (entryCount > 0) {
        const last = this.next + entryCount - 1
        this.inflights.add(last, bytes)
        this.next = last + 1
      }
    } else if (this.state === 'probe') {
      this.probeSent = true
    } else {
      throw new Error(`sending entries in unexpected state ${this.state}`)
    }
  }

  /** A successful append response acknowledging index n. Returns false if it is stale. */
  maybeUpdate(n: number): boolean {
    let updated = false
    if (this.match < n) {
      this.match = n
      updated = true
      this.probeSent = false
    }
    this.next = Math.max(this.next, n + 1)
    return updated
  }

  /**
   * A rejected append for index `rejected`, with the follower's hint `matchHint` of where the logs
   * may match. Returns false if the rejection is stale (out of order).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // Stale if we already know the follower matched beyond it.
      if (rejected <= this.match) return false
      this.next = this.match + 1
      return true
    }
    // Probe: only the rejection of the last probe counts.
    if (this.next - 1 !== rejected) return false
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1, 1)
    this.probeSent = false
    return true
  }

  /** Whether the leader should hold back appends to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent
      case 'replicate':
        return this.inflights.full()
      case 'snapshot':
        return true
    }
  }

  toString(): string {
    return `${this.state} match=${this.match} next=${this.next}${this.isLearner ? ' learner' : ''}${
      this.state === 'snapshot' ? ` pendingSnap=${this.pendingSnapshot}` : ''
    }${this.probeSent ? ' paused' : ''}${this.inflights.count() > 0 ? ` inflight=${this.inflights.count()}` : ''}${
      this.inflights.full() ? '[full]' : ''
    }`
  }
}
