// Follower behaviour: accept the leader's log, forward proposals and reads to it.

import { errProposalDropped } from './errors.ts'
import type { Raft } from './raft.ts'
import { NONE } from './types.ts'
import type { Message } from './types.ts'

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'prop':
      if (r.lead === NONE) {
        r.logger.debug(`${r.id} no leader at term ${r.term}; dropping proposal`)
        throw errProposalDropped()
      }
      if (r.disableProposalForwarding) throw errProposalDropped()
      r.send({ ...m, to: r.lead })
      return
    case 'app':
      r.electionElapsed = 0
      r.lead = m.from
      r.handleAppendEntries(m)
      return
    case 'heartbeat':
      r.electionElapsed = 0
      r.lead = m.from
      r.handleHeartbeat(m)
      return
    case 'snap':
      r.electionElapsed = 0
      r.lead = m.from
      r.handleSnapshot(m)
      return
    case 'transfer-leader':
      if (r.lead === NONE) {
        r.logger.info(`${r.id} no leader at term ${r.term}; dropping leader transfer msg`)
        return
      }
      r.send({ ...m, to: r.lead })
      return
    case 'timeout-now':
      // The leader picked us: campaign at once, without pre-vote, forcing voters past their lease.
      r.logger.info(`${r.id} [term ${r.term}] received timeout-now from ${m.from}; starting election`)
      r.hup('transfer')
      return
    case 'read-index':
      if (r.lead === NONE) {
        r.logger.debug(`${r.id} no leader at term ${r.term}; dropping read index msg`)
        return
      }
      r.send({ ...m, to: r.lead })
      return
    case 'read-index-resp':
      r.readStates.push({ index: m.index, requestContext: m.context ?? new Uint8Array() })
      return
    default:
      return
  }
}
