import { describe, expect, it } from 'vitest'
import { restoreConfig } from '../confchange/restore.ts'
import type { ConfState } from '../types.ts'
import { emptyConfState } from '../types.ts'
import { ProgressTracker } from './tracker.ts'

function tracker(cs: Partial<ConfState>): ProgressTracker {
  const t = new ProgressTracker(8, 0)
  restoreConfig(t, 5, { ...emptyConfState(), ...cs })
  return t
}

describe('ProgressTracker', () => {
  it('ProgressTracker.committed() counts voters only, never learners', () => {
    const t = tracker({ voters: [1, 2, 3], learners: [4, 5] })
    for (const [id, m] of [
      [1, 9],
      [4, 9],
      [5, 9],
      [2, 3],
      [3, 2],
    ] as const)
      t.progress.get(id)!.match = m
    expect(t.committed()).toBe(3)
  })

  it('ProgressTracker.committed() in a joint configuration needs both halves', () => {
    const t = tracker({ voters: [1, 2, 3], votersOutgoing: [1, 4, 5] })
    for (const id of [1, 2, 3]) t.progress.get(id)!.match = 8
    expect(t.committed()).toBe(0)
    t.progress.get(4)!.match = 6
    expect(t.committed()).toBe(6)
  })

  it('ProgressTracker.recordVote() keeps the first vote of each member; tallyVotes() ignores learners', () => {
    const t = tracker({ voters: [1, 2, 3], learners: [4] })
    t.recordVote(1, true)
    t.recordVote(1, false)
    t.recordVote(4, true)
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: 'pending' })
    t.recordVote(2, false)
    t.recordVote(3, false)
    expect(t.tallyVotes().result).toBe('lost')
    t.resetVotes()
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 0, result: 'pending' })
  })

  it('ProgressTracker.quorumActive() holds when a quorum of voters (not learners) was recently active', () => {
    const t = tracker({ voters: [1, 2, 3], learners: [4] })
    for (const pr of t.progress.values()) pr.recentActive = false
    t.progress.get(1)!.recentActive = true
    t.progress.get(4)!.recentActive = true
    expect(t.quorumActive()).toBe(false)
    t.progress.get(2)!.recentActive = true
    expect(t.quorumActive()).toBe(true)
  })

  it('ProgressTracker.visit() goes through members in id order; voterIds() and learnerIds() are sorted', () => {
    const t = tracker({ voters: [3, 1], votersOutgoing: [2, 1], learners: [9], learnersNext: [2] })
    const seen: number[] = []
    t.visit((id) => seen.push(id))
    expect(seen).toEqual([1, 2, 3, 9])
    expect(t.voterIds()).toEqual([1, 2, 3])
    expect(t.learnerIds()).toEqual([2, 9])
    expect(t.isJoint()).toBe(true)
    expect(tracker({ voters: [1] }).isSingleton()).toBe(true)
  })
})
