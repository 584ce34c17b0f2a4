import { describe, expect, it } from 'vitest'
import { ProgressTracker, confStateOf } from '../tracker/tracker.ts'
import type { ConfChangeSingle, ConfState, NodeId } from '../types.ts'
import { emptyConfState } from '../types.ts'
import { Changer, ConfChangeError, checkInvariants } from './changer.ts'
import type { ChangeResult } from './changer.ts'
import { restoreConfig } from './restore.ts'

const LAST_INDEX = 10

function tracker(cs: Partial<ConfState>): ProgressTracker {
  const t = new ProgressTracker(16, 0)
  restoreConfig(t, LAST_INDEX, { ...emptyConfState(), ...cs })
  return t
}

function commit(t: ProgressTracker, r: ChangeResult): ConfState {
  t.config = r.config
  t.progress = r.progress
  return confStateOf(t.config)
}

const v = (nodeId: NodeId): ConfChangeSingle => ({ type: 'add-voter', nodeId })
const l = (nodeId: NodeId): ConfChangeSingle => ({ type: 'add-learner', nodeId })
const r = (nodeId: NodeId): ConfChangeSingle => ({ type: 'remove', nodeId })

function short(cs: ConfState): string {
  let s = `voters=${cs.voters.join(',')}`
  if (cs.votersOutgoing.length > 0) s += ` outgoing=${cs.votersOutgoing.join(',')}`
  if (cs.learners.length > 0) s += ` learners=${cs.learners.join(',')}`
  if (cs.learnersNext.length > 0) s += ` next=${cs.learnersNext.join(',')}`
  if (cs.autoLeave) s += ' auto'
  return s
}

describe('Changer.simple()', () => {
  it('adds a voter with fresh progress at the last index, counted as recently active', () => {
    const t = tracker({ voters: [1, 2, 3] })
    const cs = commit(t, new Changer(t, LAST_INDEX).simple([v(4)]))
    expect(short(cs)).toBe('voters=1,2,3,4')
    const pr = t.progress.get(4)!
    expect([pr.next, pr.match, pr.recentActive, pr.isLearner]).toEqual([LAST_INDEX, 0, true, false])
  })

  it('adds a learner, promotes it, and removes a voter', () => {
    const t = tracker({ voters: [1, 2, 3] })
    expect(short(commit(t, new Changer(t, LAST_INDEX).simple([l(4)])))).toBe('voters=1,2,3 learners=4')
    expect(t.progress.get(4)!.isLearner).toBe(true)
    expect(short(commit(t, new Changer(t, LAST_INDEX).simple([v(4)])))).toBe('voters=1,2,3,4')
    expect(t.progress.get(4)!.isLearner).toBe(false)
    expect(short(commit(t, new Changer(t, LAST_INDEX).simple([r(2)])))).toBe('voters=1,3,4')
    expect(t.progress.has(2)).toBe(false)
  })

  it('demotes a voter to learner directly outside a joint configuration', () => {
    const t = tracker({ voters: [1, 2, 3] })
    expect(short(commit(t, new Changer(t, LAST_INDEX).simple([l(3)])))).toBe('voters=1,2 learners=3')
    expect(t.progress.get(3)!.isLearner).toBe(true)
  })

  it('accepts several changes that touch at most one voter', () => {
    const t = tracker({ voters: [1, 2, 3] })
    expect(short(commit(t, new Changer(t, LAST_INDEX).simple([v(4), l(5), l(6)])))).toBe('voters=1,2,3,4 learners=5,6')
  })

  it('treats a change of node 0 as a no-op and removing an unknown node as a no-op', () => {
    const t = tracker({ voters: [1, 2] })
    expect(short(commit(t, new Changer(t, LAST_INDEX).simple([v(0), r(9)])))).toBe('voters=1,2')
  })

  const refusals: Array<[string, ConfChangeSingle[], RegExp]> = [
    ['two voters added', [v(4), v(5)], /more than one voter/],
    ['a voter added and one removed', [r(1), v(4)], /more than one voter/],
    ['a voter demoted and one added', [l(3), v(4)], /more than one voter/],
  ]
  for (const [what, changes, err] of refusals) {
    it(`refuses ${what} without a joint configuration, leaving the tracker untouched`, () => {
      const t = tracker({ voters: [1, 2, 3] })
      const before = JSON.stringify(confStateOf(t.config))
      const progressBefore = new Map(t.progress)
      expect(() => new Changer(t, LAST_INDEX).simple(changes)).toThrow(err)
      expect(JSON.stringify(confStateOf(t.config))).toBe(before)
      expect(t.progress).toEqual(progressBefore)
    })
  }

  it('refuses to remove the last voter', () => {
    const t = tracker({ voters: [1] })
    expect(() => new Changer(t, LAST_INDEX).simple([r(1)])).toThrow(ConfChangeError)
    expect(() => new Changer(t, LAST_INDEX).simple([l(1)])).toThrow(/removed all voters/)
  })

  it('refuses a simple change in a joint configuration', () => {
    const t = tracker({ voters: [1, 2, 4], votersOutgoing: [1, 2, 3] })
    expect(() => new Changer(t, LAST_INDEX).simple([v(5)])).toThrow(/joint/)
  })

  it('does not mutate the progress objects of the current tracker when demoting', () => {
    const t = tracker({ voters: [1, 2, 3] })
    const old = t.progress.get(3)!
    const result = new Changer(t, LAST_INDEX).simple([l(3)])
    expect(old.isLearner).toBe(false)
    expect(result.progress.get(3)!.isLearner).toBe(true)
    expect(result.progress.get(1)).toBe(t.progress.get(1)) // untouched members keep their progress
  })
})

describe('Changer.enterJoint() and leaveJoint()', () => {
  it('makes the old voters the outgoing half and applies the changes to the incoming one', () => {
    const t = tracker({ voters: [1, 2, 3] })
    const cs = commit(t, new Changer(t, LAST_INDEX).enterJoint(true, [v(4), r(3)]))
    expect(short(cs)).toBe('voters=1,2,4 outgoing=1,2,3 auto')
    expect(t.progress.has(3)).toBe(true) // still votes in the outgoing half
  })

  it('leaving drops the outgoing half and the progress of members that are no longer in either', () => {
    const t = tracker({ voters: [1, 2, 3] })
    commit(t, new Changer(t, LAST_INDEX).enterJoint(false, [v(4), r(3)]))
    const cs = commit(t, new Changer(t, LAST_INDEX).leaveJoint())
    expect(short(cs)).toBe('voters=1,2,4')
    expect(t.progress.has(3)).toBe(false)
  })

  it('a voter demoted while joint waits in learners-next and becomes a learner on leaving', () => {
    const t = tracker({ voters: [1, 2, 3] })
    const joint = commit(t, new Changer(t, LAST_INDEX).enterJoint(false, [l(3), v(4)]))
    expect(short(joint)).toBe('voters=1,2,4 outgoing=1,2,3 next=3')
    expect(t.progress.get(3)!.isLearner).toBe(false) // still a voter of the outgoing half
    const after = commit(t, new Changer(t, LAST_INDEX).leaveJoint())
    expect(short(after)).toBe('voters=1,2,4 learners=3')
    expect(t.progress.get(3)!.isLearner).toBe(true)
  })

  it('re-adding a learners-next member as a voter cancels its demotion', () => {
    const t = tracker({ voters: [1, 2, 3] })
    const cs = commit(t, new Changer(t, LAST_INDEX).enterJoint(false, [l(3), v(3)]))
    expect(short(cs)).toBe('voters=1,2,3 outgoing=1,2,3')
  })

  it('refuses to enter a joint configuration twice, or from no voters', () => {
    const t = tracker({ voters: [1, 2, 3] })
    commit(t, new Changer(t, LAST_INDEX).enterJoint(false, [v(4)]))
    expect(() => new Changer(t, LAST_INDEX).enterJoint(false, [v(5)])).toThrow(/already joint/)
    const empty = new ProgressTracker(16, 0)
    expect(() => new Changer(empty, LAST_INDEX).enterJoint(false, [v(1)])).toThrow(/zero-voter/)
  })

  it('refuses to leave a configuration that is not joint', () => {
    const t = tracker({ voters: [1, 2, 3] })
    expect(() => new Changer(t, LAST_INDEX).leaveJoint()).toThrow(/non-joint/)
  })

  it('refuses a joint change that removes every incoming voter', () => {
    const t = tracker({ voters: [1, 2] })
    expect(() => new Changer(t, LAST_INDEX).enterJoint(false, [r(1), r(2)])).toThrow(/removed all voters/)
  })
})

describe('checkInvariants()', () => {
  it('rejects a learner that is also a voter, a learners-next member outside the outgoing half, missing progress, and auto-leave outside joint', () => {
    const base = tracker({ voters: [1, 2, 3], learners: [4] })
    const bad: Array<[string, (t: ProgressTracker) => void]> = [
      ['learner and voter', (t) => t.config.voters.incoming.add(4)],
      ['learners-next not outgoing', (t) => t.config.learnersNext.add(1)],
      ['no progress', (t) => t.config.voters.incoming.add(9)],
      ['auto-leave when not joint', (t) => (t.config.autoLeave = true)],
      ['learner not marked', (t) => (t.progress.get(4)!.isLearner = false)],
    ]
    for (const [what, corrupt] of bad) {
      const t = tracker(confStateOf(base.config))
      corrupt(t)
      expect(() => checkInvariants(t.config, t.progress), what).toThrow(ConfChangeError)
    }
  })
})
