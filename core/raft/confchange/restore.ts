// Rebuilds a tracker configuration from a ConfState (after a restart or a snapshot) by replaying
// it as a sequence of changes through the Changer, so the same validation applies.

import type { ProgressTracker } from '../tracker/tracker.ts'
import type { ConfChangeSingle, ConfState } from '../types.ts'
import { Changer } from './changer.ts'
import type { ChangeResult } from './changer.ts'

export function restoreConfig(tracker: ProgressTracker, lastIndex: number, cs: ConfState): ChangeResult {
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
