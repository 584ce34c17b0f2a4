import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { naiveCommittedIndex, naiveVoteResult } from '../../../test/raft/reference/quorum.ts'
import type { NodeId } from '../types.ts'
import { majorityCommittedIndex, majorityVoteResult } from './majority.ts'

/** Up to 7 distinct voter ids (brute force is 2^n) drawn from 1..9, so some acks/votes come from non-voters. */
const voterIds = fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { maxLength: 7 })
const acks = fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.integer({ min: 0, max: 20 }))
const votes = fc.dictionary(fc.integer({ min: 1, max: 9 }).map(String), fc.boolean())

function numericMap<V>(d: Record<string, V>): Map<NodeId, V> {
  return new Map(Object.entries(d).map(([k, v]) => [Number(k), v]))
}

describe('majorityCommittedIndex()', () => {
  it('equals the largest index acknowledged by some majority, found by brute force over subsets', () => {
    fc.assert(
      fc.property(voterIds, acks, (ids, ackDict) => {
        const acked = numericMap(ackDict)
        const got = majorityCommittedIndex(new Set(ids), (id) => acked.get(id))
        expect(got).toBe(naiveCommittedIndex([ids], acked))
      }),
      { numRuns: 500 },
    )
  })

  it('never decreases when one voter acknowledges more', () => {
    fc.assert(
      fc.property(voterIds.filter((ids) => ids.length > 0), acks, fc.nat(), fc.integer({ min: 1, max: 10 }), (ids, ackDict, pick, more) => {
        const acked = numericMap(ackDict)
        const before = majorityCommittedIndex(new Set(ids), (id) => acked.get(id))
        const id = ids[pick % ids.length]!
        acked.set(id, (acked.get(id) ?? 0) + more)
        expect(majorityCommittedIndex(new Set(ids), (x) => acked.get(x))).toBeGreaterThanOrEqual(before)
      }),
    )
  })

  it('treats a voter that never acknowledged as having index 0', () => {
    expect(majorityCommittedIndex(new Set([1, 2, 3]), (id) => (id === 1 ? 5 : undefined))).toBe(0)
    expect(majorityCommittedIndex(new Set([1, 2, 3]), (id) => (id === 3 ? undefined : 5))).toBe(5)
  })

  it('needs three of four voters (an even split is not a majority)', () => {
    const acked = new Map([
      [1, 9],
      [2, 9],
      [3, 4],
      [4, 1],
    ])
    expect(majorityCommittedIndex(new Set([1, 2, 3, 4]), (id) => acked.get(id))).toBe(4)
  })

  it('commits everything for an empty configuration (so an empty joint half is neutral)', () => {
    expect(majorityCommittedIndex(new Set(), () => 0)).toBe(Number.MAX_SAFE_INTEGER)
  })
})

describe('majorityVoteResult()', () => {
  it('matches the brute-force result over every way the missing voters could vote', () => {
    fc.assert(
      fc.property(voterIds, votes, (ids, voteDict) => {
        const v = numericMap(voteDict)
        expect(majorityVoteResult(new Set(ids), v)).toBe(naiveVoteResult([ids], v))
      }),
      { numRuns: 500 },
    )
  })

  it('ignores votes of non-voters', () => {
    const v = new Map([
      [7, true],
      [8, true],
      [1, true],
    ])
    expect(majorityVoteResult(new Set([1, 2, 3]), v)).toBe('pending')
  })

  it('decides as soon as the outcome is certain', () => {
    expect(majorityVoteResult(new Set([1, 2, 3]), new Map([[1, true], [2, true]]))).toBe('won')
    expect(majorityVoteResult(new Set([1, 2, 3]), new Map([[1, false], [2, false]]))).toBe('lost')
    expect(majorityVoteResult(new Set([1, 2, 3, 4]), new Map([[1, true], [2, true], [3, false]]))).toBe('pending')
    expect(majorityVoteResult(new Set([1, 2, 3, 4]), new Map([[1, true], [2, false], [3, false]]))).toBe('lost')
  })

  it('wins an empty configuration', () => {
    expect(majorityVoteResult(new Set(), new Map())).toBe('won')
  })
})
