// The pure step of waiting in line for a lock (or an election): given what one read showed, hold,
// wait on the predecessor, or give up. Keys are ordered by create revision; each waiter waits only
// for the deletion of the key just before its own, so a release wakes one waiter, not all of them.

export interface QueueState {
  /** Our key's create revision: our place in line (and the fencing token once we hold). */
  myRevision: number
  /** Our own key as the read found it (undefined: deleted — the lease ran out or someone removed it). */
  own: { createRevision: number; lease: number } | undefined
  /** Our lease, to check the key is still bound to it. */
  leaseId: number
  /** The session is known to be lost. */
  sessionLost: boolean
  /** The key with the highest create revision below ours, if any. */
  predecessor: { key: Uint8Array; createRevision: number } | undefined
  /** This read follows a wait, and the skip-lease-recheck failpoint is on (test only). */
  skipRecheck: boolean
}

export type QueueAction =
  | { kind: 'hold' }
  | { kind: 'wait'; key: Uint8Array }
  | { kind: 'lost'; reason: string }

export function decideQueue(s: QueueState): QueueAction {
  if (!s.skipRecheck) {
    // The re-check etcd#11456 showed to be needed: a waiter whose lease expired must not go on.
    if (s.sessionLost) return { kind: 'lost', reason: 'the session lease was lost while waiting' }
    if (s.own === undefined) return { kind: 'lost', reason: 'our key was deleted while waiting' }
    if (s.own.createRevision !== s.myRevision || s.own.lease !== s.leaseId) {
      return { kind: 'lost', reason: 'our key was replaced while waiting' }
    }
  }
  if (s.predecessor !== undefined) return { kind: 'wait', key: s.predecessor.key }
  return { kind: 'hold' }
}
