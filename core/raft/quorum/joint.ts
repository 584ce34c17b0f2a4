// Quorum maths for a joint configuration: both halves must agree.

import type { NodeId } from '../types.ts'
import { majorityCommittedIndex, majorityVoteResult } from './majority.ts'
import type { VoteResult } from './majority.ts'

export interface JointConfig {
  incoming: Set<NodeId>
  /** Empty unless in a joint configuration. */
  outgoing: Set<NodeId>
}

export function jointCommittedIndex(config: JointConfig, acked: (id: NodeId) => number | undefined): number {
  const a = majorityCommittedIndex(config.incoming, acked)
  const b = majorityCommittedIndex(config.outgoing, acked)
  return Math.min(a, b)
}

export function jointVoteResult(config: JointConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVoteResult(config.incoming, votes)
  const b = majorityVoteResult(config.outgoing, votes)
  if (a === b) return a
  if (a === 'lost' || b === 'lost') return 'lost'
  return 'pending'
}

export function jointIds(config: JointConfig): Set<NodeId> {
  return new Set([...config.incoming, ...config.outgoing])
}
