// Candidate and pre-candidate behaviour: count votes; yield to a leader of our term.

import { errProposalDropped } from './errors.ts'
import type { Raft } from './raft.ts'
import type { Message } from './types.ts'

export function stepCandidate(r: Raft, m: Message): void {
  // Only the responses to the kind of vote we asked for count.
  const myVoteResp = r.state === 'pre-candidate' ? 'prevote-resp' : 'vote-resp'
  switch (m.type) {
    case 'prop':
      r.logger.debug(`${r.id} no leader at term ${r.term}; dropping proposal`)
      throw errProposalDropped()
    case 'app':
      r.becomeFollower(m.term, m.from) // always m.term === r.term here
      r.handleAppendEntries(m)
      return
    case 'heartbeat':
      r.becomeFollower(m.term, m.from)
      r.handleHeartbeat(m)
      return
    case 'snap':
      r.becomeFollower(m.term, m.from)
      r.handleSnapshot(m)
      return
    case 'timeout-now':
      r.logger.debug(`${r.id} [term ${r.term} state ${r.state}] ignored timeout-now from ${m.from}`)
      return
    default:
      break
  }
  if (m.type !== myVoteResp) return
  const result = r.poll(m.from, m.type, !m.reject)
  if (result === 'won') {
    if (r.state === 'pre-candidate') {
      r.campaign('election')
    } else {
      r.becomeLeader()
      r.bcastAppend()
    }
  } else if (result === 'lost') {
    // A lost pre-vote or vote: back to follower in our (unchanged or current) term.
    r.becomeFollower(r.term, 0)
  }
}
