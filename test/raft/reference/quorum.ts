// Naive reference implementations of the quorum maths, written from the definitions by brute
// force over subsets, for comparing the real (sorting) implementations against.

import type { NodeId } from '../../../core/raft/types.ts'

export type Vote = 'won' | 'lost' | 'pending'

/** Every subset of `ids`, as arrays. 2^n of them: keep n small. */
export function subsets<T>(ids: readonly T[]): T[][] {
  const out: T[][] = []
  for (let mask = 0; mask < 1 << ids.length; mask++) out.push(ids.filter((_, i) => (mask & (1 << i)) !== 0))
  return out
}

function isMajorityOf(part: readonly NodeId[], voters: readonly NodeId[]): boolean {
  return part.length * 2 > voters.length
}

/** Whether some majority of `voters` has every member at or above `index`. An empty config always agrees. */
function majorityHolds(voters: readonly NodeId[], acked: ReadonlyMap<NodeId, number>, index: number): boolean {
  if (voters.length === 0) return true
  return subsets(voters).some((s) => isMajorityOf(s, voters) && s.every((id) => (acked.get(id) ?? 0) >= index))
}

/** The largest index held by a majority of each given configuration (0 if none; "infinity" if all empty). */
export function naiveCommittedIndex(configs: ReadonlyArray<readonly NodeId[]>, acked: ReadonlyMap<NodeId, number>): number {
  if (configs.every((c) => c.length === 0)) return Number.MAX_SAFE_INTEGER
  const candidates = [0, ...acked.values()].sort((a, b) => b - a)
  for (const index of candidates) {
    if (configs.every((c) => majorityHolds(c, acked, index))) return index
  }
  return 0
}

/**
 * The election result from the definition: won if every way the missing voters could still vote
 * wins in every configuration, lost if no way does, pending otherwise.
 */
export function naiveVoteResult(configs: ReadonlyArray<readonly NodeId[]>, votes: ReadonlyMap<NodeId, boolean>): Vote {
  const all = [...new Set(configs.flat())]
  const missing = all.filter((id) => !votes.has(id))
  let wins = 0
  const completions = subsets(missing)
  for (const grantedMissing of completions) {
    const granted = new Set([...all.filter((id) => votes.get(id) === true), ...grantedMissing])
    const winsAll = configs.every((c) => c.length === 0 || isMajorityOf(c.filter((id) => granted.has(id)), c))
    if (winsAll) wins++
  }
  if (wins === completions.length) return 'won'
  if (wins === 0) return 'lost'
  return 'pending'
}
