import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProgressTracker, confStateOf } from '../tracker/tracker.ts'
import type { ConfChangeSingle, ConfState } from '../types.ts'
import { emptyConfState } from '../types.ts'
import { Changer, ConfChangeError, checkInvariants } from './changer.ts'
import { restoreConfig } from './restore.ts'

const LAST_INDEX = 7

function restored(cs: ConfState): ConfState {
  const t = new ProgressTracker(16, 0)
  restoreConfig(t, LAST_INDEX, cs)
  checkInvariants(t.config, t.progress)
  return confStateOf(t.config)
}

type Op = { kind: 'simple'; changes: ConfChangeSingle[] } | { kind: 'enter'; auto: boolean; changes: ConfChangeSingle[] } | { kind: 'leave' }

const single: fc.Arbitrary<ConfChangeSingle> = fc.record({
  type: fc.constantFrom('add-voter' as const, 'add-learner' as const, 'remove' as const),
  nodeId: fc.integer({ min: 1, max: 6 }),
})
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('simple' as const), changes: fc.array(single, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('enter' as const), auto: fc.boolean(), changes: fc.array(single, { minLength: 1, maxLength: 4 }) }),
  fc.constant({ kind: 'leave' as const }),
)

describe('restoreConfig()', () => {
  it('restores a plain configuration with learners', () => {
    const cs: ConfState = { ...emptyConfState(), voters: [1, 2, 3], learners: [4, 5] }
    expect(restored(cs)).toEqual(cs)
  })

  it('restores a joint configuration with learners-next and auto-leave exactly', () => {
    const cs: ConfState = { voters: [1, 2, 3], votersOutgoing: [1, 2, 4, 6], learners: [5], learnersNext: [4], autoLeave: true }
    expect(restored(cs)).toEqual(cs)
  })

  it('restores an empty configuration (a node that is joining) to no members', () => {
    expect(restored(emptyConfState())).toEqual(emptyConfState())
  })

  it('gives every member progress, learners marked as such', () => {
    const t = new ProgressTracker(16, 0)
    restoreConfig(t, LAST_INDEX, { voters: [1, 2], votersOutgoing: [1, 3], learners: [4], learnersNext: [3], autoLeave: false })
    expect([...t.progress.keys()].sort()).toEqual([1, 2, 3, 4])
    expect([1, 2, 3, 4].map((id) => t.progress.get(id)!.isLearner)).toEqual([false, false, false, true])
  })

  it('round-trips every configuration reachable through valid changes (confStateOf ∘ restoreConfig = identity)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }), fc.array(op, { maxLength: 12 }), (initial, ops) => {
        const t = new ProgressTracker(16, 0)
        restoreConfig(t, LAST_INDEX, { ...emptyConfState(), voters: initial })
        for (const o of ops) {
          const changer = new Changer(t, LAST_INDEX)
          try {
            const result = o.kind === 'simple' ? changer.simple(o.changes) : o.kind === 'enter' ? changer.enterJoint(o.auto, o.changes) : changer.leaveJoint()
            t.config = result.config
            t.progress = result.progress
          } catch (e) {
            expect(e).toBeInstanceOf(ConfChangeError)
            continue
          }
          const cs = confStateOf(t.config)
          expect(restored(cs)).toEqual(cs)
          // Progress exists exactly for the members.
          const members = new Set([...cs.voters, ...cs.votersOutgoing, ...cs.learners, ...cs.learnersNext])
          expect(new Set(t.progress.keys())).toEqual(members)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('raises an error for a joint ConfState whose incoming half is empty', () => {
    const t = new ProgressTracker(16, 0)
    expect(() => restoreConfig(t, LAST_INDEX, { ...emptyConfState(), voters: [], votersOutgoing: [1, 2] })).toThrow(ConfChangeError)
  })

  // etcd-io/raft asserts that a restored configuration equals the ConfState it came from; so do we.
  it('restoreConfig() rejects a ConfState that lists a node as both voter and learner', () => {
    const t = new ProgressTracker(16, 0)
    expect(() => restoreConfig(t, LAST_INDEX, { ...emptyConfState(), voters: [1, 2, 3], learners: [3] })).toThrow()
  })

  it('restoreConfig() rejects learners-next members that are not outgoing voters', () => {
    const t = new ProgressTracker(16, 0)
    expect(() => restoreConfig(t, LAST_INDEX, { ...emptyConfState(), voters: [1, 2, 3], learnersNext: [4] })).toThrow()
  })

  it('restoreConfig() rejects auto-leave outside a joint configuration', () => {
    const t = new ProgressTracker(16, 0)
    expect(() => restoreConfig(t, LAST_INDEX, { ...emptyConfState(), voters: [1], autoLeave: true })).toThrow(ConfChangeError)
  })
})
