// Leader behaviour: accept proposals, replicate, commit, confirm reads, hand over leadership.

import { confChangeAutoLeave, confChangeEntersJoint, confChangeLeavesJoint, decodeConfChange } from './confchange-codec.ts'
import { Changer } from './confchange/changer.ts'
import { errProposalDropped } from './errors.ts'
import type { Raft } from './raft.ts'
import { jointVoteResult } from './quorum/joint.ts'
import type { Progress } from './tracker/progress.ts'
import { NONE, message } from './types.ts'
import type { ConfChange, Message, NodeId } from './types.ts'

export function stepLeader(r: Raft, m: Message): void {
  switch (m.type) {
    case 'beat':
      r.bcastHeartbeat()
      return
    case 'check-quorum':
      stepCheckQuorum(r)
      return
    case 'prop':
      stepProposal(r, m)
      return
    case 'read-index':
      stepReadIndex(r, m)
      return
    default:
      break
  }
  const pr = r.trk.progress.get(m.from)
  if (!pr) {
    r.logger.debug(`${r.id} no progress available for ${m.from}`)
    return
  }
  switch (m.type) {
    case 'app-resp':
      handleAppendResponse(r, m, pr)
      return
    case 'heartbeat-resp':
      handleHeartbeatResponse(r, m, pr)
      return
    case 'snap-status':
      if (pr.state !== 'snapshot') return
      if (m.reject) pr.pendingSnapshot = 0 // the snapshot failed; probe again from the match
      pr.becomeProbe()
      // Wait for an answer or the next heartbeat before probing again.
      pr.probeSent = true
      return
    case 'unreachable':
      // The link dropped messages: stop streaming optimistically and probe instead.
      if (pr.state === 'replicate') pr.becomeProbe()
      return
    case 'transfer-leader':
      stepTransferLeader(r, m.from, pr)
      return
    default:
      return
  }
}

function stepCheckQuorum(r: Raft): void {
  if (!r.trk.quorumActive()) {
    r.logger.warn(`${r.id} stepped down to follower since quorum is not active`)
    r.becomeFollower(r.term, NONE)
  }
  // Start a fresh round: every follower must be heard from again before the next check.
  r.trk.visit((id, pr) => {
    if (id !== r.id) pr.recentActive = false
  })
}

function stepProposal(r: Raft, incoming: Message): void {
  if (incoming.entries.length === 0) throw new Error(`${r.id} stepped empty proposal`)
  // The log keeps (and numbers) its own copies: the caller's objects may be delivered again.
  const m: Message = { ...incoming, entries: incoming.entries.map((e) => ({ ...e })) }
  if (!r.trk.progress.has(r.id)) {
    // We were removed from the configuration while still leading: refuse new work.
    throw errProposalDropped()
  }
  if (r.leadTransferee !== NONE) {
    r.logger.debug(`${r.id} [term ${r.term}] transfer leadership to ${r.leadTransferee} is in progress; dropping proposal`)
    throw errProposalDropped()
  }
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i]!
    if (e.type !== 'conf-change') continue
    const refusal = confChangeRefusal(r, e.data)
    if (refusal) {
      // Keep the entry's slot so indexes stay as the proposer expects, but make it a no-op.
      r.logger.info(`${r.id} ignoring conf change at index ${r.raftLog.lastIndex() + i + 1}: ${refusal}`)
      m.entries[i] = { term: 0, index: 0, type: 'normal', data: new Uint8Array() }
    } else {
      r.pendingConfIndex = r.raftLog.lastIndex() + i + 1
    }
  }
  if (!r.appendEntry(m.entries)) throw errProposalDropped()
  r.bcastAppend()
}

function confChangeRefusal(r: Raft, data: Uint8Array): string | undefined {
  let cc: ConfChange
  try {
    cc = decodeConfChange(data)
  } catch (e) {
    return `undecodable conf change: ${(e as Error).message}`
  }
  const changes = cc.changes.length
  const alreadyPending = r.pendingConfIndex > r.raftLog.applied
  const alreadyJoint = r.trk.isJoint()
  const wantsLeaveJoint = changes === 0
  if (alreadyPending) return `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`
  if (alreadyJoint && !wantsLeaveJoint) return 'must transition out of joint config first'
  if (!alreadyJoint && wantsLeaveJoint) return 'not in joint state; refusing empty conf change'
  // Try it on a copy: a change that cannot be applied (say, one removing every voter) must never be
  // committed, or every replica would fail on it forever.
  try {
    const changer = new Changer(r.trk, r.raftLog.lastIndex())
    if (confChangeLeavesJoint(cc)) changer.leaveJoint()
    else if (confChangeEntersJoint(cc)) changer.enterJoint(confChangeAutoLeave(cc), cc.changes)
    else changer.simple(cc.changes)
  } catch (e) {
    return `invalid conf change: ${(e as Error).message}`
  }
  return undefined
}

function stepReadIndex(r: Raft, m: Message): void {
  if (r.bugs.staleReads || r.trk.isSingleton()) {
    // A single voter is always the leader it thinks it is; the planted bug pretends the same.
    respondToReadIndex(r, m, r.raftLog.committed)
    return
  }
  if (!r.committedEntryInCurrentTerm()) {
    // Our commit index may lag the previous leader's until we commit in our own term (§6.4 of the thesis).
    r.pendingReadIndexMessages.push(m)
    return
  }
  sendReadIndexConfirmation(r, m)
}

/** Queues the read at the current commit index and starts a heartbeat round to confirm leadership. */
export function sendReadIndexConfirmation(r: Raft, m: Message): void {
  if (!r.readOnly.addRequest(r.raftLog.committed, m)) {
    r.logger.warn(`${r.id} too many pending reads; dropping read index request`)
    return
  }
  r.readOnly.recvAck(r.id, m.context)
  r.bcastHeartbeatWithContext(m.context)
}

export function respondToReadIndex(r: Raft, req: Message, index: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestContext: req.context ?? new Uint8Array() })
    return
  }
  const resp = message({ type: 'read-index-resp', to: req.from, index })
  if (req.context) resp.context = req.context
  r.send(resp)
}

export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0 || !r.committedEntryInCurrentTerm()) return
  const pending = r.pendingReadIndexMessages
  r.pendingReadIndexMessages = []
  for (const m of pending) sendReadIndexConfirmation(r, m)
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true
  if (m.reject) {
    let nextProbe = m.rejectHint
    if (m.logTerm > 0) {
      // Skip every entry of ours whose term is above the follower's term at the hint.
      nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index
    }
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      if (pr.state === 'replicate') pr.becomeProbe()
      r.sendAppend(m.from)
    }
    return
  }
  const oldPaused = pr.isPaused()
  if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === 'probe')) return
  if (pr.state === 'probe') {
    pr.becomeReplicate()
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The follower caught up past our log's start: it can be fed entries again.
    pr.becomeProbe()
    pr.becomeReplicate()
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(m.index)
  }
  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r)
    r.bcastAppend()
  } else if (oldPaused) {
    r.sendAppend(m.from)
  }
  while (r.maybeSendAppend(m.from, false)) {
    // stream as much as the inflights window allows
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${r.id} sent timeout-now to ${m.from} after it caught up`)
    r.sendTimeoutNow(m.from)
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true
  pr.probeSent = false
  // The follower is alive: let one more append through a full window.
  if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne()
  if (pr.match < r.raftLog.lastIndex()) r.sendAppend(m.from)
  else if (r.removedFromConfig && m.from === r.leadTransferee) {
    // A removed leader keeps asking its successor to campaign: the first request may have arrived
    // before the successor applied the configuration change (it then refuses to campaign).
    r.sendTimeoutNow(m.from)
  }
  if (!m.context || m.context.byteLength === 0) return
  const acks = r.readOnly.recvAck(m.from, m.context)
  if (!acks) return
  const votes = new Map<NodeId, boolean>()
  for (const id of acks) votes.set(id, true)
  if (jointVoteResult(r.trk.config.voters, votes) !== 'won') return
  for (const status of r.readOnly.advance(m.context)) respondToReadIndex(r, status.req, status.index)
}

function stepTransferLeader(r: Raft, transferee: NodeId, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug(`${r.id} is learner; ignoring transfer leadership to ${transferee}`)
    return
  }
  const last = r.leadTransferee
  if (last !== NONE) {
    if (last === transferee) return // already in progress
    r.abortLeaderTransfer()
  }
  if (transferee === r.id) return // already leader
  r.electionElapsed = 0 // the transfer must finish within one election timeout
  r.leadTransferee = transferee
  r.logger.info(`${r.id} [term ${r.term}] starts to transfer leadership to ${transferee}`)
  if (pr.match === r.raftLog.lastIndex()) r.sendTimeoutNow(transferee)
  else r.sendAppend(transferee)
}
