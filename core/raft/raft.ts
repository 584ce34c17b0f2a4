// The Raft state machine of one member. Pure: it changes only in response to tick(), step() and
// the calls of RawNode, and it speaks only through `msgs` and `readStates`, which RawNode hands to
// the driver in a Ready. Behaviour by role lives in step-*.ts, chosen in become*().

import { confChangeAutoLeave, confChangeEntersJoint, confChangeLeavesJoint, encodeConfChange } from './confchange-codec.ts'
import { Changer } from './confchange/changer.ts'
import type { ChangeResult } from './confchange/changer.ts'
import { restoreConfig } from './confchange/restore.ts'
import { silentLogger, validateConfig } from './config.ts'
import type { PlantedBugs, RaftConfig, RaftLogger } from './config.ts'
import { errProposalDropped } from './errors.ts'
import { RaftLog } from './log.ts'
import { ReadOnly } from './read-only.ts'
import { stepCandidate } from './step-candidate.ts'
import { stepFollower } from './step-follower.ts'
import { stepLeader } from './step-leader.ts'
import { confStateOf, ProgressTracker } from './tracker/tracker.ts'
import { NONE, message, voteResponseType } from './types.ts'
import type { ConfChange, ConfState, Entry, HardState, Message, ReadState, SoftState, StateType } from './types.ts'
import type { NodeId, Snapshot } from './types.ts'
import type { VoteResult } from './quorum/majority.ts'

export type CampaignType = 'pre-election' | 'election' | 'transfer'

/** Vote context marking a leader transfer: voters grant it even while they hear from a leader. */
export const CAMPAIGN_TRANSFER = new Uint8Array([0x74, 0x72, 0x61, 0x6e, 0x73, 0x66, 0x65, 0x72]) // "transfer"

export const DEFAULT_MAX_SIZE_PER_MSG = 1024 * 1024
export const DEFAULT_MAX_INFLIGHT_MSGS = 256
export const DEFAULT_MAX_COMMITTED_SIZE_PER_READY = 16 * 1024 * 1024

type StepFn = (r: Raft, m: Message) => void

export class Raft {
  readonly id: NodeId
  term = 0
  vote: NodeId = NONE
  lead: NodeId = NONE
  state: StateType = 'follower'
  readonly raftLog: RaftLog
  trk: ProgressTracker
  msgs: Message[] = []
  readStates: ReadState[] = []
  /** Leader: the node leadership is being handed to, if any. */
  leadTransferee: NodeId = NONE
  /** Leader: index of the newest conf change proposed; no other may be proposed until it is applied. */
  pendingConfIndex = 0
  /** Leader: the applied configuration no longer has us as a voter; we are handing over. */
  removedFromConfig = false
  /** Leader: bytes of entries appended but not yet committed (bounded by maxUncommittedSize). */
  uncommittedSize = 0
  readOnly = new ReadOnly()
  /** Leader: reads that arrived before an entry of this term was committed. */
  pendingReadIndexMessages: Message[] = []
  electionElapsed = 0
  heartbeatElapsed = 0
  randomizedElectionTimeout = 0
  readonly electionTimeout: number
  readonly heartbeatTimeout: number
  readonly checkQuorum: boolean
  readonly preVote: boolean
  readonly maxMsgSize: number
  readonly maxUncommittedSize: number
  readonly disableProposalForwarding: boolean
  readonly random: () => number
  readonly logger: RaftLogger
  readonly bugs: PlantedBugs
  private stepFn: StepFn = stepFollower
  private tickFn: () => void = () => this.tickElection()

  constructor(c: RaftConfig) {
    validateConfig(c)
    this.id = c.id
    this.random = c.random
    this.logger = c.logger ?? silentLogger
    this.bugs = c.bugs ?? {}
    this.electionTimeout = c.electionTick
    this.heartbeatTimeout = c.heartbeatTick
    this.checkQuorum = c.checkQuorum ?? true
    this.preVote = c.preVote ?? true
    this.maxMsgSize = c.maxSizePerMsg ?? DEFAULT_MAX_SIZE_PER_MSG
    this.maxUncommittedSize = c.maxUncommittedEntriesSize ?? 0
    this.disableProposalForwarding = c.disableProposalForwarding ?? false
    this.raftLog = new RaftLog(c.storage, c.maxCommittedSizePerReady ?? DEFAULT_MAX_COMMITTED_SIZE_PER_READY)
    this.trk = new ProgressTracker(c.maxInflightMsgs ?? DEFAULT_MAX_INFLIGHT_MSGS, c.maxInflightBytes ?? 0)
    const { hardState, confState } = c.storage.initialState()
    restoreConfig(this.trk, this.raftLog.lastIndex(), confState)
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState)
    if (c.applied !== undefined && c.applied > 0) this.raftLog.appliedTo(c.applied)
    this.becomeFollower(this.term, NONE)
    this.logger.info(
      `newRaft ${this.id} [peers: [${this.trk.voterIds().join(',')}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    )
  }

  hasLeader(): boolean {
    return this.lead !== NONE
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state }
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed }
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new Error(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`)
    }
    this.raftLog.committed = hs.commit
    this.term = hs.term
    this.vote = hs.vote
  }

  // ---- sending ----

  /** Queues a message for the driver. Terms are filled in here, except where the protocol needs otherwise. */
  send(m: Message): void {
    // Forwarded messages (proposals, leader transfers) keep their original sender.
    if (m.from === NONE) m.from = this.id
    if (m.type === 'vote' || m.type === 'vote-resp' || m.type === 'prevote' || m.type === 'prevote-resp') {
      // Vote messages carry the term they are about (a pre-vote asks for term+1 without taking it).
      if (m.term === 0) throw new Error(`term should be set when sending ${m.type}`)
    } else {
      if (m.term !== 0) throw new Error(`term should not be set when sending ${m.type} (was ${m.term})`)
      // Forwarded proposals and reads are not bound to a term: the leader may have changed.
      if (m.type !== 'prop' && m.type !== 'read-index') m.term = this.term
    }
    this.msgs.push(m)
  }

  /** Sends an append (or a snapshot) to `to` if its progress allows; returns whether anything was sent. */
  maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.trk.progress.get(to)
    if (!pr || pr.isPaused()) return false
    const prevIndex = pr.next - 1
    const prevTerm = this.raftLog.termOrUndefined(prevIndex)
    let ents: Entry[] | undefined
    try {
      ents = this.raftLog.entries(pr.next, this.maxMsgSize)
    } catch {
      ents = undefined // compacted: the follower needs a snapshot
    }
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false
    if (prevTerm === undefined || ents === undefined) return this.maybeSendSnapshot(to)
    let bytes = 0
    for (const e of ents) bytes += e.data.byteLength
    this.send(message({ type: 'app', to, index: prevIndex, logTerm: prevTerm, entries: ents, commit: this.raftLog.committed }))
    pr.sentEntries(ents.length, bytes)
    return true
  }

  sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true)
  }

  private maybeSendSnapshot(to: NodeId): boolean {
    const pr = this.trk.progress.get(to)!
    if (!pr.recentActive) {
      this.logger.debug(`${this.id} ignores sending snapshot to ${to}: not recently active`)
      return false
    }
    let snapshot: Snapshot
    try {
      snapshot = this.raftLog.snapshot()
    } catch (e) {
      this.logger.debug(`${this.id} failed to send snapshot to ${to}: ${(e as Error).message}`)
      return false
    }
    if (snapshot.metadata.index === 0) throw new Error('need non-empty snapshot')
    this.logger.info(`${this.id} sends snapshot [index: ${snapshot.metadata.index}, term: ${snapshot.metadata.term}] to ${to} [${pr}]`)
    pr.becomeSnapshot(snapshot.metadata.index)
    this.send(message({ type: 'snap', to, snapshot }))
    return true
  }

  sendHeartbeat(to: NodeId, context: Uint8Array | undefined): void {
    const pr = this.trk.progress.get(to)!
    // A follower may not have the leader's whole log yet: never let it commit past what it matches.
    const commit = Math.min(pr.match, this.raftLog.committed)
    const m = message({ type: 'heartbeat', to, commit })
    if (context) m.context = context
    this.send(m)
  }

  bcastAppend(): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendAppend(id)
    })
  }

  bcastHeartbeat(): void {
    this.bcastHeartbeatWithContext(this.readOnly.lastPendingRequestContext())
  }

  bcastHeartbeatWithContext(context: Uint8Array | undefined): void {
    this.trk.visit((id) => {
      if (id !== this.id) this.sendHeartbeat(id, context)
    })
  }

  sendTimeoutNow(to: NodeId): void {
    this.send(message({ type: 'timeout-now', to }))
  }

  // ---- the log ----

  /** Commits whatever a quorum now holds; true if the commit index moved. */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term, this.bugs.commitOldTerm === true)
  }

  /** Leader: appends entries of its term; false (nothing appended) when over the uncommitted bound. */
  appendEntry(entries: Entry[]): boolean {
    let li = this.raftLog.lastIndex()
    for (let i = 0; i < entries.length; i++) {
      entries[i]!.term = this.term
      entries[i]!.index = li + 1 + i
    }
    if (!this.increaseUncommittedSize(entries)) {
      this.logger.debug(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`)
      return false
    }
    li = this.raftLog.append(entries)
    // The leader counts its own (soon durable) copy: the driver persists it before any answer can commit it.
    this.trk.progress.get(this.id)?.maybeUpdate(li)
    this.maybeCommit()
    return true
  }

  private increaseUncommittedSize(entries: Entry[]): boolean {
    let size = 0
    for (const e of entries) size += e.data.byteLength
    if (this.maxUncommittedSize > 0 && this.uncommittedSize > 0 && size > 0 && this.uncommittedSize + size > this.maxUncommittedSize) {
      return false
    }
    this.uncommittedSize += size
    return true
  }

  reduceUncommittedSize(entries: Entry[]): void {
    if (this.uncommittedSize === 0) return // fast path for followers, which do not track it
    let size = 0
    for (const e of entries) size += e.data.byteLength
    this.uncommittedSize = Math.max(0, this.uncommittedSize - size)
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrUndefined(this.raftLog.committed) === this.term
  }

  // ---- roles ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term
      this.vote = NONE
    }
    this.lead = NONE
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetRandomizedElectionTimeout()
    this.abortLeaderTransfer()
    this.trk.resetVotes()
    const last = this.raftLog.lastIndex()
    for (const [id, pr] of this.trk.progress) {
      const fresh = this.trk.newProgress(last + 1, pr.isLearner)
      if (id === this.id) fresh.match = last
      this.trk.progress.set(id, fresh)
    }
    this.pendingConfIndex = 0
    this.removedFromConfig = false
    this.uncommittedSize = 0
    this.readOnly = new ReadOnly()
    this.pendingReadIndexMessages = []
  }

  private resetRandomizedElectionTimeout(): void {
    // Invariant: electionTimeout <= randomized < 2 * electionTimeout
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.random() * this.electionTimeout)
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.stepFn = stepFollower
    this.reset(term)
    this.tickFn = () => this.tickElection()
    this.lead = lead
    this.state = 'follower'
    this.logger.info(`${this.id} became follower at term ${this.term}`)
  }

  becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> pre-candidate]')
    // A pre-candidate changes neither term nor vote: a failed pre-vote disturbs no one.
    this.stepFn = stepCandidate
    this.trk.resetVotes()
    this.tickFn = () => this.tickElection()
    this.lead = NONE
    this.state = 'pre-candidate'
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`)
  }

  becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> candidate]')
    this.stepFn = stepCandidate
    this.reset(this.term + 1)
    this.tickFn = () => this.tickElection()
    this.vote = this.id
    this.state = 'candidate'
    this.logger.info(`${this.id} became candidate at term ${this.term}`)
  }

  becomeLeader(): void {
    if (this.state === 'follower') throw new Error('invalid transition [follower -> leader]')
    this.stepFn = stepLeader
    this.reset(this.term)
    this.tickFn = () => this.tickHeartbeat()
    this.lead = this.id
    this.state = 'leader'
    const self = this.trk.progress.get(this.id)!
    self.becomeReplicate()
    self.recentActive = true
    // Conf changes in the uncommitted tail may be pending; be conservative and treat them as such.
    this.pendingConfIndex = this.raftLog.lastIndex()
    // An entry of the new term: committing it commits everything before it (§5.4.2).
    if (!this.appendEntry([{ term: 0, index: 0, type: 'normal', data: new Uint8Array() }])) {
      throw new Error('empty entry was dropped')
    }
    this.logger.info(`${this.id} became leader at term ${this.term}`)
  }

  /** Whether this node may campaign: a voter, not in the middle of restoring a snapshot. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id)
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot()
  }

  // ---- elections ----

  hup(t: CampaignType): void {
    if (this.state === 'leader') {
      this.logger.debug(`${this.id} ignoring hup: already leader`)
      return
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`)
      return
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(`${this.id} cannot campaign at term ${this.term}: pending configuration changes to apply`)
      return
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`)
    this.campaign(t)
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.raftLog.applied >= this.raftLog.committed) return false
    const ents = this.raftLog.slice(this.raftLog.applied + 1, this.raftLog.committed + 1, Number.MAX_SAFE_INTEGER)
    return ents.some((e) => e.type === 'conf-change')
  }

  campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable; campaign() should have been called`)
      return
    }
    let term: number
    let voteType: 'vote' | 'prevote'
    if (t === 'pre-election') {
      this.becomePreCandidate()
      voteType = 'prevote'
      term = this.term + 1 // the term we would take; not taken yet
    } else {
      this.becomeCandidate()
      voteType = 'vote'
      term = this.term
    }
    if (this.poll(this.id, voteResponseType(voteType), true) === 'won') {
      // A single-voter configuration wins at once.
      if (t === 'pre-election') this.campaign('election')
      else this.becomeLeader()
      return
    }
    for (const id of this.trk.voterIds()) {
      if (id === this.id) continue
      this.logger.info(`${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}] sent ${voteType} request to ${id} at term ${this.term}`)
      const m = message({ type: voteType, to: id, term, index: this.raftLog.lastIndex(), logTerm: this.raftLog.lastTerm() })
      if (t === 'transfer') m.context = CAMPAIGN_TRANSFER
      this.send(m)
    }
  }

  poll(id: NodeId, type: string, granted: boolean): VoteResult {
    this.logger.info(`${this.id} received ${type} ${granted ? 'from' : 'rejection from'} ${id} at term ${this.term}`)
    this.trk.recordVote(id, granted)
    return this.trk.tallyVotes().result
  }

  // ---- driving ----

  tick(): void {
    this.tickFn()
  }

  private tickElection(): void {
    this.electionElapsed++
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0
      this.step(message({ type: 'hup', from: this.id }))
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++
    this.electionElapsed++
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0
      if (this.state === 'leader' && this.removedFromConfig) {
        // A removed leader never steps down by itself (a higher term ends it): if it did before the
        // others learned that its removal committed, they could need its vote forever. It keeps
        // replicating and keeps asking the most up-to-date voter to take over.
        this.handOverAfterRemoval()
      } else {
        if (this.checkQuorum) this.step(message({ type: 'check-quorum', from: this.id }))
        // A transfer that did not finish within an election timeout is abandoned.
        if (this.state === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer()
      }
    }
    if (this.state !== 'leader') return
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0
      this.step(message({ type: 'beat', from: this.id }))
    }
  }

  /** The entry point for every message, local or remote. Throws RaftError for a dropped proposal. */
  step(m: Message): void {
    if (m.term === 0) {
      // local message (or a forwarded proposal / read)
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'prevote') {
        const force = m.context !== undefined && bytesEqual(m.context, CAMPAIGN_TRANSFER)
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout
        if (!force && inLease) {
          // We heard from a live leader within the minimum election timeout: a disruptive candidate
          // (for example one rejoining after a partition) must not depose it.
          this.logger.info(`${this.id} [term: ${this.term}] ignored ${m.type} from ${m.from} at term ${m.term}: lease not expired`)
          return
        }
      }
      if (m.type === 'prevote') {
        // Never change our term in response to a pre-vote.
      } else if (m.type === 'prevote-resp' && !m.reject) {
        // We take the term when we win the pre-vote, not before.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${m.type} message with higher term from ${m.from} [term: ${m.term}]`)
        const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap'
        this.becomeFollower(m.term, fromLeader ? m.from : NONE)
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader (e.g. after a partition heals) learns our term from this answer and steps down;
        // otherwise, with check-quorum or pre-vote, it could keep a follower from ever electing.
        this.send(message({ type: 'app-resp', to: m.from }))
      } else if (m.type === 'prevote') {
        this.send(message({ type: 'prevote-resp', to: m.from, term: this.term, reject: true }))
      } else {
        this.logger.debug(`${this.id} [term: ${this.term}] ignored a ${m.type} message with lower term from ${m.from} [term: ${m.term}]`)
      }
      return
    }

    switch (m.type) {
      case 'hup':
        this.hup(this.preVote ? 'pre-election' : 'election')
        return
      case 'vote':
      case 'prevote':
        this.handleVoteRequest(m)
        return
      default:
        this.stepFn(this, m)
    }
  }

  private handleVoteRequest(m: Message): void {
    // We may vote again for the one we voted for (a retransmission), vote if we have not voted and know
    // no leader, and grant any pre-vote for a future term.
    let canVote =
      this.vote === m.from || (this.vote === NONE && this.lead === NONE) || (m.type === 'prevote' && m.term > this.term)
    if (this.bugs.voteTwice && m.type === 'vote' && this.lead === NONE) canVote = true
    if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
      this.logger.info(`${this.id} cast ${m.type} for ${m.from} at term ${this.term}`)
      // Grants carry the term asked for, so a pre-candidate can count them.
      this.send(message({ type: voteResponseType(m.type), to: m.from, term: m.term }))
      if (m.type === 'vote') {
        this.electionElapsed = 0
        this.vote = m.from
      }
    } else {
      this.logger.info(`${this.id} rejected ${m.type} from ${m.from} at term ${this.term}`)
      this.send(message({ type: voteResponseType(m.type), to: m.from, term: this.term, reject: true }))
    }
  }

  // ---- follower-side handling shared by roles ----

  handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      this.send(message({ type: 'app-resp', to: m.from, index: this.raftLog.committed }))
      return
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries)
    if (lastNew !== undefined) {
      this.send(message({ type: 'app-resp', to: m.from, index: lastNew }))
      return
    }
    // Reject with a hint: the last index whose term is <= the leader's term at m.index, so the
    // leader can skip a whole conflicting term in one round trip.
    const hintIndex = Math.min(m.index, this.raftLog.lastIndex())
    const hint = this.raftLog.findConflictByTerm(hintIndex, m.logTerm)
    this.logger.debug(`${this.id} rejected app [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`)
    this.send(message({ type: 'app-resp', to: m.from, index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term }))
  }

  handleHeartbeat(m: Message): void {
    this.raftLog.commitTo(m.commit)
    const resp = message({ type: 'heartbeat-resp', to: m.from })
    if (m.context) resp.context = m.context
    this.send(resp)
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot
    if (!s) throw new Error('snap message without snapshot')
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`)
      this.send(message({ type: 'app-resp', to: m.from, index: this.raftLog.lastIndex() }))
    } else {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`)
      this.send(message({ type: 'app-resp', to: m.from, index: this.raftLog.committed }))
    }
  }

  /** Replaces the log with a snapshot from the leader; false when it is stale or does not concern us. */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.raftLog.committed) return false
    if (this.raftLog.applying > this.raftLog.applied) {
      // Committed entries were handed to the application and are not applied yet; installing a
      // snapshot now would switch configurations under them (their conf changes would then fail to
      // apply). Refuse; the leader sends the snapshot again.
      this.logger.info(`${this.id} ignores snapshot at ${s.metadata.index} while entries up to ${this.raftLog.applying} are being applied`)
      return false
    }
    if (this.state !== 'follower') {
      // Only a leader's follower receives snapshots; anything else is a bug elsewhere. Be safe.
      this.logger.warn(`${this.id} attempted to restore snapshot as ${this.state}; stepping down`)
      this.becomeFollower(this.term + 1, NONE)
      return false
    }
    const cs = s.metadata.confState
    const member = [...cs.voters, ...cs.learners, ...cs.votersOutgoing].includes(this.id)
    if (!member) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState ${JSON.stringify(cs)}`)
      return false
    }
    if (this.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the entry: just fast-forward the commit index.
      this.raftLog.commitTo(s.metadata.index)
      return false
    }
    this.raftLog.restore(s)
    this.trk = new ProgressTracker(this.trk.inflightsMax, this.trk.inflightsBytesMax)
    restoreConfig(this.trk, this.raftLog.lastIndex(), cs)
    const self = this.trk.progress.get(this.id)!
    self.maybeUpdate(self.next - 1)
    return true
  }

  // ---- membership ----

  applyConfChange(cc: ConfChange): ConfState {
    const changer = new Changer(this.trk, this.raftLog.lastIndex())
    let result: ChangeResult
    if (confChangeLeavesJoint(cc)) result = changer.leaveJoint()
    else if (confChangeEntersJoint(cc)) result = changer.enterJoint(confChangeAutoLeave(cc), cc.changes)
    else result = changer.simple(cc.changes)
    return this.switchToConfig(result)
  }

  private switchToConfig(result: ChangeResult): ConfState {
    this.trk.config = result.config
    this.trk.progress = result.progress
    this.logger.info(`${this.id} switched to configuration ${JSON.stringify(confStateOf(this.trk.config))}`)
    const cs = confStateOf(this.trk.config)
    const pr = this.trk.progress.get(this.id)
    if ((!pr || pr.isLearner) && this.state === 'leader') {
      this.handOverAfterRemoval()
      return cs
    }
    if (this.state !== 'leader' || cs.voters.length === 0) return cs
    // The quorum may have changed (e.g. a voter removed): the commit index may move.
    if (this.maybeCommit()) this.bcastAppend()
    else {
      this.trk.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false)
      })
    }
    const transferee = this.leadTransferee
    if (transferee !== NONE && !this.trk.config.voters.incoming.has(transferee)) this.abortLeaderTransfer()
    return cs
  }

  /**
   * A leader removed (or demoted) by the configuration it just applied. Stepping down at once is not
   * safe: if its last broadcast is lost, the remaining voters never learn that the change committed and
   * may keep needing its vote. So it keeps leading (refusing proposals) and hands leadership to the most
   * up-to-date remaining voter, as in a leader transfer, retrying every election timeout until a
   * higher term ends its leadership (tickHeartbeat).
   */
  private handOverAfterRemoval(): void {
    this.removedFromConfig = true
    this.bcastAppend()
    let successor = NONE
    let best = -1
    for (const id of this.trk.config.voters.incoming) {
      const p = this.trk.progress.get(id)
      if (id !== this.id && p && p.match > best) {
        best = p.match
        successor = id
      }
    }
    if (successor === NONE) {
      this.becomeFollower(this.term, NONE)
      return
    }
    this.logger.info(`${this.id} was removed from the configuration; handing leadership to ${successor}`)
    this.electionElapsed = 0
    this.leadTransferee = successor
    const p = this.trk.progress.get(successor)!
    if (p.match === this.raftLog.lastIndex()) this.sendTimeoutNow(successor)
    else this.sendAppend(successor)
  }

  /** After applying: a leader in an auto-leave joint configuration proposes leaving it. */
  appliedTo(applied: number): void {
    const old = this.raftLog.applied
    this.raftLog.appliedTo(Math.max(old, applied))
    if (this.trk.config.autoLeave && applied >= this.pendingConfIndex && this.state === 'leader') {
      try {
        this.stepLeaveJoint()
      } catch (e) {
        this.logger.debug(`${this.id} not leaving joint configuration yet: ${(e as Error).message}`)
      }
    }
  }

  private stepLeaveJoint(): void {
    const leave: ConfChange = { transition: 'auto', changes: [], context: new Uint8Array() }
    this.logger.info(`${this.id} initiating automatic transition out of joint configuration`)
    const data = encodeConfChange(leave)
    this.step(message({ type: 'prop', from: this.id, entries: [{ term: 0, index: 0, type: 'conf-change', data }] }))
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE
  }

  dropped(): never {
    throw errProposalDropped()
  }
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
