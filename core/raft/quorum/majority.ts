// Quorum maths for one simple majority configuration.

import type { NodeId } from '../types.ts'

export type VoteResult = 'pending' | 'lost' | 'won'

/**
 * The highest index acknowledged by a majority of `voters`. An empty configuration commits
 * everything (so that a joint configuration with an empty half behaves like its other half).
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, acked: (id: NodeId) => number | undefined): number {
  const n = voters.size
  if (n === 0) return Number.MAX_SAFE_INTEGER
  const indexes: number[] = []
  for (const id of voters) indexes.push(acked(id) ?? 0)
  indexes.sort((a, b) => b - a) // descending
  // Invariant: the (n/2+1)-th largest index is held by a majority.
  return indexes[Math.floor(n / 2)]!
}

/** Whether the votes cast so far win, lose, or leave the election open. An empty configuration wins. */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won'
  let granted = 0
  let missing = 0
  for (const id of voters) {
    const v = votes.get(id)
    if (v === undefined) missing++
    else if (v) granted++
  }
  const quorum = Math.floor(voters.size / 2) + 1
  if (granted >= quorum) return 'won'
  if (granted + missing >= quorum) return 'pending'
  return 'lost'
}
