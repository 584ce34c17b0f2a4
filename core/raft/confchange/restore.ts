// Rebuilds a tracker configuration from a ConfState (after a restart or a snapshot) by replaying
// it as a sequence of changes through the Changer, so the same validation applies.

import { confStateOf } from '../tracker/tracker.ts'
import type { ProgressTracker } from '../tracker/tracker.ts'
import type { ConfChangeSingle, ConfState } from '../types.ts'
import { Changer, ConfChangeError } from './changer.ts'
import type { ChangeResult } from './changer.ts'

/** Restores `cs`; throws if the result is not exactly `cs` (an inconsistent ConfState, e.g. from a corrupt disk). */
export function restoreConfig(tracker: ProgressTracker, lastIndex: number, cs: ConfState): ChangeResult {
  const result = replay(tracker, lastIndex, cs)
  const got = confStateOf(result.config)
  if (!confStatesEquivalent(got, cs)) {
    throw new ConfChangeError(`restored configuration ${JSON.stringify(got)} differs from the ConfState ${JSON.stringify(cs)}`)
  }
  return result
}

function confStatesEquivalent(a: ConfState, b: ConfState): boolean {
  const same = (x: number[], y: number[]) => {
    const xs = [...new Set(x)].sort((p, q) => p - q)
    const ys = [...new Set(y)].sort((p, q) => p - q)
    return xs.length === ys.length && xs.every((v, i) => v === ys[i])
  }
  return (
    same(a.voters, b.voters) &&
    same(a.learners, b.learners) &&
    same(a.votersOutgoing, b.votersOutgoing) &&
    same(a.learnersNext, b.learnersNext) &&
    a.autoLeave === b.autoLeave
  )
}

function replay(tracker: ProgressTracker, lastIndex: number, cs: ConfState): ChangeResult {
  const outgoing: ConfChangeSingle[] = cs.votersOutgoing.map((nodeId) => ({ type: 'add-voter', nodeId }))
  const incoming: ConfChangeSingle[] = [
    // The outgoing voters were added first; take them out again before shaping the incoming half.
    ...cs.votersOutgoing.map((nodeId) => ({ type: 'remove' as const, nodeId })),
    ...cs.voters.map((nodeId) => ({ type: 'add-voter' as const, nodeId })),
    ...cs.learners.map((nodeId) => ({ type: 'add-learner' as const, nodeId })),
    ...cs.learnersNext.map((nodeId) => ({ type: 'add-learner' as const, nodeId })),
  ]
  const applyOne = (cc: ConfChangeSingle) => {
    const result = new Changer(tracker, lastIndex).simple([cc])
    tracker.config = result.config
    tracker.progress = result.progress
  }
  if (outgoing.length === 0) {
    for (const cc of incoming) {
      // A lone learner or removal on an empty config is fine; simple() rejects only an empty voter set.
      applyIgnoringEmpty(applyOne, cc, tracker)
    }
    return { config: tracker.config, progress: tracker.progress }
  }
  for (const cc of outgoing) applyOne(cc)
  const result = new Changer(tracker, lastIndex).enterJoint(cs.autoLeave, incoming)
  tracker.config = result.config
  tracker.progress = result.progress
  return result
}

function applyIgnoringEmpty(applyOne: (cc: ConfChangeSingle) => void, cc: ConfChangeSingle, tracker: ProgressTracker) {
  // Learners may be listed before any voter exists in the replay order; add them directly then.
  if (cc.type === 'add-learner' && tracker.config.voters.incoming.size === 0) {
    const pr = tracker.newProgress(1, true)
    tracker.progress.set(cc.nodeId, pr)
    tracker.config.learners.add(cc.nodeId)
    return
  }
  applyOne(cc)
}
