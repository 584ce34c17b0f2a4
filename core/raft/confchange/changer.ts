// Computes a new configuration and progress map from the current one and a membership change.
// Works on copies: the tracker is only replaced once the whole change is known to be valid.

import type { Progress } from '../tracker/progress.ts'
import { cloneTrackerConfig } from '../tracker/tracker.ts'
import type { ProgressMap, ProgressTracker, TrackerConfig } from '../tracker/tracker.ts'
import type { ConfChangeSingle, NodeId } from '../types.ts'

export interface ChangeResult {
  config: TrackerConfig
  progress: ProgressMap
}

export class ConfChangeError extends Error {
  override name = 'ConfChangeError'
}

export class Changer {
  constructor(
    private readonly tracker: ProgressTracker,
    private readonly lastIndex: number,
  ) {}

  /** Enters a joint configuration: the old voters become the outgoing half, the changes shape the incoming. */
  enterJoint(autoLeave: boolean, changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy()
    if (config.voters.outgoing.size > 0) throw new ConfChangeError('config is already joint')
    if (config.voters.incoming.size === 0) throw new ConfChangeError("can't make a zero-voter config joint")
    config.voters.outgoing = new Set(config.voters.incoming)
    this.apply(config, progress, changes)
    config.autoLeave = autoLeave
    return checkAndReturn(config, progress)
  }

  /** Leaves the joint configuration: the outgoing half is dropped, demoted voters become learners. */
  leaveJoint(): ChangeResult {
    const { config, progress } = this.checkAndCopy()
    if (config.voters.outgoing.size === 0) throw new ConfChangeError(`can't leave a non-joint config`)
    for (const id of config.learnersNext) {
      config.learners.add(id)
      progress.set(id, withLearner(progress.get(id)!, true))
    }
    config.learnersNext = new Set()
    for (const id of config.voters.outgoing) {
      const stillMember = config.voters.incoming.has(id) || config.learners.has(id)
      if (!stillMember) progress.delete(id)
    }
    config.voters.outgoing = new Set()
    config.autoLeave = false
    return checkAndReturn(config, progress)
  }

  /** Applies changes that alter at most one voter, without a joint configuration. */
  simple(changes: ConfChangeSingle[]): ChangeResult {
    const { config, progress } = this.checkAndCopy()
    if (config.voters.outgoing.size > 0) throw new ConfChangeError("can't apply simple config change in joint config")
    const before = new Set(config.voters.incoming)
    this.apply(config, progress, changes)
    const after = config.voters.incoming
    let changed = 0
    for (const id of before) if (!after.has(id)) changed++
    for (const id of after) if (!before.has(id)) changed++
    if (changed > 1) throw new ConfChangeError('more than one voter changed without entering joint config')
    return checkAndReturn(config, progress)
  }

  private apply(config: TrackerConfig, progress: ProgressMap, changes: ConfChangeSingle[]): void {
    for (const cc of changes) {
      if (cc.nodeId === 0) continue // etcd treats a change of node 0 as a no-op
      if (cc.type === 'add-voter') this.makeVoter(config, progress, cc.nodeId)
      else if (cc.type === 'add-learner') this.makeLearner(config, progress, cc.nodeId)
      else if (cc.type === 'remove') this.remove(config, progress, cc.nodeId)
      else throw new ConfChangeError(`unknown conf change type ${String((cc as ConfChangeSingle).type)}`)
    }
    if (config.voters.incoming.size === 0) throw new ConfChangeError('removed all voters')
  }

  private makeVoter(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id)
    if (!pr) {
      this.initProgress(config, progress, id, false)
      return
    }
    progress.set(id, withLearner(pr, false))
    config.learners.delete(id)
    config.learnersNext.delete(id)
    config.voters.incoming.add(id)
  }

  private makeLearner(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    const pr = progress.get(id)
    if (!pr) {
      this.initProgress(config, progress, id, true)
      return
    }
    if (pr.isLearner) return
    // Demote: drop the voter from the incoming half; if it still votes in the outgoing half it becomes
    // a learner only when the joint configuration is left.
    this.remove(config, progress, id)
    progress.set(id, pr)
    if (config.voters.outgoing.has(id)) {
      config.learnersNext.add(id)
    } else {
      progress.set(id, withLearner(pr, true))
      config.learners.add(id)
    }
  }

  private remove(config: TrackerConfig, progress: ProgressMap, id: NodeId): void {
    if (!progress.has(id)) return
    config.voters.incoming.delete(id)
    config.learners.delete(id)
    config.learnersNext.delete(id)
    // A member of the outgoing half keeps its progress: it still votes until the joint config is left.
    if (!config.voters.outgoing.has(id)) progress.delete(id)
  }

  private initProgress(config: TrackerConfig, progress: ProgressMap, id: NodeId, isLearner: boolean): void {
    if (isLearner) config.learners.add(id)
    else config.voters.incoming.add(id)
    const pr = this.tracker.newProgress(Math.max(this.lastIndex, 1), isLearner)
    // A new member counts as active so check-quorum does not step the leader down before it is heard from.
    pr.recentActive = true
    progress.set(id, pr)
  }

  private checkAndCopy(): ChangeResult {
    const config = cloneTrackerConfig(this.tracker.config)
    const progress: ProgressMap = new Map(this.tracker.progress)
    checkInvariants(config, progress)
    return { config, progress }
  }
}

function withLearner(pr: Progress, isLearner: boolean): Progress {
  if (pr.isLearner === isLearner) return pr
  const copy = Object.assign(Object.create(Object.getPrototypeOf(pr) as object) as Progress, pr)
  copy.inflights = pr.inflights.clone()
  copy.isLearner = isLearner
  return copy
}

function checkAndReturn(config: TrackerConfig, progress: ProgressMap): ChangeResult {
  checkInvariants(config, progress)
  return { config, progress }
}

/** The shape every configuration must have; violations are programmer errors or corrupt input. */
export function checkInvariants(config: TrackerConfig, progress: ProgressMap): void {
  const all = [...config.voters.incoming, ...config.voters.outgoing, ...config.learners, ...config.learnersNext]
  for (const id of all) {
    if (!progress.has(id)) throw new ConfChangeError(`no progress for ${id}`)
  }
  for (const id of config.learnersNext) {
    if (!config.voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in learnersNext, but not outgoing`)
    if (progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in learnersNext, but is already marked as learner`)
  }
  for (const id of config.learners) {
    if (config.voters.outgoing.has(id)) throw new ConfChangeError(`${id} is in learners and outgoing voters`)
    if (config.voters.incoming.has(id)) throw new ConfChangeError(`${id} is in learners and incoming voters`)
    if (!progress.get(id)!.isLearner) throw new ConfChangeError(`${id} is in learners, but is not marked as learner`)
  }
  if (config.voters.outgoing.size === 0) {
    if (config.learnersNext.size > 0) throw new ConfChangeError('learnersNext must be empty when not joint')
    if (config.autoLeave) throw new ConfChangeError('autoLeave must be false when not joint')
  }
}
