import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { naiveCommittedIndex, naiveVoteResult } from '../../../test/raft/reference/quorum.ts'
import type { NodeId } from '../types.ts'
import { jointCommittedIndex, jointIds, jointVoteResult } from './joint.ts'
import type { JointConfig } from './joint.ts'

// Two halves drawn from an overlapping id space, as real joint configurations are.
const half = fc.uniqueArray(fc.integer({ min: 1, max: 8 }), { maxLength: 5 })
const acks = fc.dictionary(fc.integer({ min: 1, max: 8 }).map(String), fc.integer({ min: 0, max: 12 }))
const votes = fc.dictionary(fc.integer({ min: 1, max: 8 }).map(String), fc.boolean())

function numericMap<V>(d: Record<string, V>): Map<NodeId, V> {
  return new Map(Object.entries(d).map(([k, v]) => [Number(k), v]))
}

function joint(incoming: NodeId[], outgoing: NodeId[]): JointConfig {
  return { incoming: new Set(incoming), outgoing: new Set(outgoing) }
}

describe('jointCommittedIndex()', () => {
  it('equals the largest index held by a majority of both halves, by brute force', () => {
    fc.assert(
      fc.property(half, half, acks, (incoming, outgoing, ackDict) => {
        const acked = numericMap(ackDict)
        const got = jointCommittedIndex(joint(incoming, outgoing), (id) => acked.get(id))
        expect(got).toBe(naiveCommittedIndex([incoming, outgoing], acked))
      }),
      { numRuns: 500 },
    )
  })

  it('with an empty outgoing half, behaves as the incoming majority alone', () => {
    const acked = new Map([
      [1, 5],
      [2, 7],
      [3, 1],
    ])
    expect(jointCommittedIndex(joint([1, 2, 3], []), (id) => acked.get(id))).toBe(5)
  })

  it('is held back by the half that lags (a majority of the new voters is not enough)', () => {
    // (1,4,5)&&(1,2,3): 1,4,5 acked 9 but of the old half only 1 did.
    const acked = new Map([
      [1, 9],
      [4, 9],
      [5, 9],
      [2, 2],
      [3, 3],
    ])
    expect(jointCommittedIndex(joint([1, 4, 5], [1, 2, 3]), (id) => acked.get(id))).toBe(3)
  })
})

describe('jointVoteResult()', () => {
  it('matches the brute-force result over every way the missing voters could vote', () => {
    fc.assert(
      fc.property(half, half, votes, (incoming, outgoing, voteDict) => {
        const v = numericMap(voteDict)
        expect(jointVoteResult(joint(incoming, outgoing), v)).toBe(naiveVoteResult([incoming, outgoing], v))
      }),
      { numRuns: 500 },
    )
  })

  it('is lost when either half is lost, even if the other has won', () => {
    const v = new Map([
      [1, true],
      [2, true],
      [4, false],
      [5, false],
    ])
    expect(jointVoteResult(joint([1, 2, 3], [3, 4, 5]), v)).toBe('lost')
  })

  it('stays pending while one half has won and the other is open', () => {
    expect(jointVoteResult(joint([1, 2, 3], [3, 4, 5]), new Map([[1, true], [2, true]]))).toBe('pending')
  })
})

describe('jointIds()', () => {
  it('is the union of both halves', () => {
    expect([...jointIds(joint([1, 2], [2, 3]))].sort()).toEqual([1, 2, 3])
  })
})
