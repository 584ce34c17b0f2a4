// The leader's (and candidate's) bookkeeping: the current configuration, a Progress per member,
// and votes received in the current election.

import { jointCommittedIndex, jointIds, jointVoteResult } from '../quorum/joint.ts'
import type { JointConfig } from '../quorum/joint.ts'
import type { VoteResult } from '../quorum/majority.ts'
import type { ConfState, NodeId } from '../types.ts'
import { Progress } from './progress.ts'

export interface TrackerConfig {
  voters: JointConfig
  /** Learners never vote and never count for commit. Invariant: disjoint from both voter halves. */
  learners: Set<NodeId>
  /** Voters of the outgoing half that become learners when the joint configuration is left. */
  learnersNext: Set<NodeId>
  autoLeave: boolean
}

export function emptyTrackerConfig(): TrackerConfig {
  return { voters: { incoming: new Set(), outgoing: new Set() }, learners: new Set(), learnersNext: new Set(), autoLeave: false }
}

export function cloneTrackerConfig(c: TrackerConfig): TrackerConfig {
  return {
    voters: { incoming: new Set(c.voters.incoming), outgoing: new Set(c.voters.outgoing) },
    learners: new Set(c.learners),
    learnersNext: new Set(c.learnersNext),
    autoLeave: c.autoLeave,
  }
}

export function confStateOf(c: TrackerConfig): ConfState {
  const sorted = (s: Set<NodeId>) => [...s].sort((a, b) => a - b)
  return {
    voters: sorted(c.voters.incoming),
    votersOutgoing: sorted(c.voters.outgoing),
    learners: sorted(c.learners),
    learnersNext: sorted(c.learnersNext),
    autoLeave: c.autoLeave,
  }
}

export type ProgressMap = Map<NodeId, Progress>

export class ProgressTracker {
  config: TrackerConfig = emptyTrackerConfig()
  progress: ProgressMap = new Map()
  votes = new Map<NodeId, boolean>()

  constructor(
    readonly inflightsMax: number,
    readonly inflightsBytesMax: number,
  ) {}

  isJoint(): boolean {
    return this.config.voters.outgoing.size > 0
  }

  /** Every voter (either half), sorted. */
  voterIds(): NodeId[] {
    return [...jointIds(this.config.voters)].sort((a, b) => a - b)
  }

  learnerIds(): NodeId[] {
    return [...this.config.learners, ...this.config.learnersNext].sort((a, b) => a - b)
  }

  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0
  }

  /** The highest index replicated on a quorum of voters. */
  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match)
  }

  resetVotes(): void {
    this.votes = new Map()
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted)
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0
    let rejected = 0
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue
      const v = this.votes.get(id)
      if (v === undefined) continue
      if (v) granted++
      else rejected++
    }
    return { granted, rejected, result: jointVoteResult(this.config.voters, this.votes) }
  }

  /** Whether the voters heard from recently form a quorum. */
  quorumActive(): boolean {
    const votes = new Map<NodeId, boolean>()
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, pr.recentActive)
    }
    return jointVoteResult(this.config.voters, votes) === 'won'
  }

  visit(fn: (id: NodeId, pr: Progress) => void): void {
    const ids = [...this.progress.keys()].sort((a, b) => a - b)
    for (const id of ids) fn(id, this.progress.get(id)!)
  }

  newProgress(next: number, isLearner: boolean): Progress {
    return new Progress(next, this.inflightsMax, this.inflightsBytesMax, isLearner)
  }
}
