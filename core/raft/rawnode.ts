// RawNode: the driver-facing handle on the Raft state machine. The driver calls tick(), step(),
// propose()… and then, while hasReady(), takes one Ready, carries it out (see ready.ts) and calls
// advance(). Nothing here does I/O.

import { encodeConfChange } from './confchange-codec.ts'
import type { RaftConfig } from './config.ts'
import { Raft } from './raft.ts'
import type { Ready } from './ready.ts'
import { confStateOf } from './tracker/tracker.ts'
import { isLocalMessage, isResponseMessage, message } from './types.ts'
import type { ConfChange, ConfState, HardState, Message, NodeId, SoftState } from './types.ts'

export interface ProgressStatus {
  match: number
  next: number
  state: string
  isLearner: boolean
  recentActive: boolean
}

export interface Status {
  id: NodeId
  hardState: HardState
  softState: SoftState
  applied: number
  config: ConfState
  /** Only on the leader. */
  progress: Map<NodeId, ProgressStatus> | undefined
  leadTransferee: NodeId
}

export class RawNode {
  readonly raft: Raft
  private prevSoftState: SoftState
  private prevHardState: HardState

  constructor(config: RaftConfig) {
    this.raft = new Raft(config)
    this.prevSoftState = this.raft.softState()
    this.prevHardState = this.raft.hardState()
  }

  tick(): void {
    this.raft.tick()
  }

  /** Starts an election now (pre-vote first, if enabled). */
  campaign(): void {
    this.raft.step(message({ type: 'hup' }))
  }

  /** Proposes data to be appended; throws RaftError 'ProposalDropped' when it cannot be accepted here. */
  propose(data: Uint8Array): void {
    this.proposeMany([data])
  }

  /**
   * Proposes several payloads as one proposal: appended together, replicated in one append per
   * follower. All are accepted or all dropped (RaftError 'ProposalDropped').
   */
  proposeMany(data: readonly Uint8Array[]): void {
    const entries = data.map((d) => ({ term: 0, index: 0, type: 'normal' as const, data: d }))
    this.raft.step(message({ type: 'prop', from: this.raft.id, entries }))
  }

  proposeConfChange(cc: ConfChange): void {
    const data = encodeConfChange(cc)
    this.raft.step(message({ type: 'prop', from: this.raft.id, entries: [{ term: 0, index: 0, type: 'conf-change', data }] }))
  }

  /** Applies a committed conf change to the configuration; the driver calls it when applying the entry. */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc)
  }

  /** Delivers a message from a peer. Local message types and answers from unknown peers are ignored. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) return
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) return
    this.raft.step(m)
  }

  /** Requests a linearizable read; a ReadState with the same context appears in a later Ready. */
  readIndex(context: Uint8Array): void {
    this.raft.step(message({ type: 'read-index', context }))
  }

  transferLeader(transferee: NodeId): void {
    this.raft.step(message({ type: 'transfer-leader', from: transferee }))
  }

  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: 'unreachable', from: id }))
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(message({ type: 'snap-status', from: id, reject: !ok }))
  }

  hasReady(): boolean {
    const r = this.raft
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true
    if (!hardStateEqual(r.hardState(), this.prevHardState)) return true
    if (r.raftLog.nextUnstableSnapshot()) return true
    if (r.msgs.length > 0 || r.raftLog.unstableEntries().length > 0 || r.raftLog.hasNextCommittedEnts()) return true
    return r.readStates.length > 0
  }

  ready(): Ready {
    const r = this.raft
    const entries = r.raftLog.unstableEntries().slice()
    const committedEntries = r.raftLog.nextCommittedEnts()
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries,
      messages: r.msgs,
      mustSync: false,
    }
    const soft = r.softState()
    if (!softStateEqual(soft, this.prevSoftState)) {
      rd.softState = soft
      this.prevSoftState = soft
    }
    const hard = r.hardState()
    if (!hardStateEqual(hard, this.prevHardState)) {
      rd.hardState = hard
      // A vote or term change must be durable before we answer anyone; a commit index need not be.
      rd.mustSync = hard.term !== this.prevHardState.term || hard.vote !== this.prevHardState.vote
      this.prevHardState = hard
    }
    const snap = r.raftLog.nextUnstableSnapshot()
    if (snap) rd.snapshot = snap
    if (entries.length > 0 || snap) rd.mustSync = true
    r.msgs = []
    r.readStates = []
    const last = committedEntries[committedEntries.length - 1]
    if (last) r.raftLog.acceptApplying(last.index)
    return rd
  }

  /** The driver carried out `rd`: its entries and snapshot are durable and its committed entries applied. */
  advance(rd: Ready): void {
    const r = this.raft
    const lastEntry = rd.entries[rd.entries.length - 1]
    if (lastEntry) r.raftLog.stableTo(lastEntry.index, lastEntry.term)
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index)
    let applied = rd.snapshot ? rd.snapshot.metadata.index : 0
    const lastCommitted = rd.committedEntries[rd.committedEntries.length - 1]
    if (lastCommitted) applied = Math.max(applied, lastCommitted.index)
    if (applied > 0) r.appliedTo(applied)
    if (rd.committedEntries.length > 0) r.reduceUncommittedSize(rd.committedEntries)
  }

  status(): Status {
    const r = this.raft
    let progress: Map<NodeId, ProgressStatus> | undefined
    if (r.state === 'leader') {
      progress = new Map()
      for (const [id, pr] of r.trk.progress) {
        progress.set(id, { match: pr.match, next: pr.next, state: pr.state, isLearner: pr.isLearner, recentActive: pr.recentActive })
      }
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      config: confStateOf(r.trk.config),
      progress,
      leadTransferee: r.leadTransferee,
    }
  }
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.state === b.state
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit
}
