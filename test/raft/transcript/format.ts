// Text forms of Raft values for transcripts. Every description is deterministic (ids sorted, no
// object identity, no clocks) so that a transcript is a pure function of its commands.
//
// Notation:
//   entry      5@2 "x"            index 5, term 2, normal entry with payload "x" ("" is the no-op)
//              6@2 conf(v4 r2)    conf change: v=add voter, l=add learner, r=remove; leave = conf(leave)
//   message    1->2 app term=2 prev=4@2 commit=4 entries=[5@2 "x"]

import { decodeConfChange } from '../../../core/raft/confchange-codec.ts'
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Snapshot } from '../../../core/raft/types.ts'

const textDecoder = new TextDecoder()

export function ids(list: Iterable<NodeId>): string {
  return `(${[...list].sort((a, b) => a - b).join(',')})`
}

export function describeConfChange(cc: ConfChange): string {
  if (cc.changes.length === 0) return 'conf(leave)'
  const letter = { 'add-voter': 'v', 'add-learner': 'l', remove: 'r' } as const
  const parts = cc.changes.map((c) => `${letter[c.type]}${c.nodeId}`)
  if (cc.transition !== 'auto') parts.push(cc.transition)
  return `conf(${parts.join(' ')})`
}

export function describeEntryData(e: Entry): string {
  if (e.type === 'conf-change') {
    try {
      return describeConfChange(decodeConfChange(e.data))
    } catch (err) {
      return `conf(undecodable: ${(err as Error).message})`
    }
  }
  return JSON.stringify(textDecoder.decode(e.data))
}

export function describeEntry(e: Entry): string {
  return `${e.index}@${e.term} ${describeEntryData(e)}`
}

export function describeEntries(entries: readonly Entry[]): string {
  return `[${entries.map(describeEntry).join(', ')}]`
}

export function describeConfState(cs: ConfState): string {
  let out = `voters=${ids(cs.voters)}`
  if (cs.votersOutgoing.length > 0) out += `&&${ids(cs.votersOutgoing)}`
  if (cs.learners.length > 0) out += ` learners=${ids(cs.learners)}`
  if (cs.learnersNext.length > 0) out += ` learners-next=${ids(cs.learnersNext)}`
  if (cs.autoLeave) out += ' auto-leave'
  return out
}

export function describeSnapshot(s: Snapshot): string {
  return `${s.metadata.index}@${s.metadata.term} ${describeConfState(s.metadata.confState)}`
}

export function describeHardState(hs: HardState): string {
  return `term=${hs.term} vote=${hs.vote} commit=${hs.commit}`
}

export function describeContext(ctx: Uint8Array): string {
  return textDecoder.decode(ctx)
}

/** One message on one line; only the fields that mean something for its type are shown. */
export function describeMessage(m: Message): string {
  const head = `${m.from}->${m.to} ${m.type} term=${m.term}`
  const ctx = m.context !== undefined && m.context.byteLength > 0 ? ` ctx=${describeContext(m.context)}` : ''
  switch (m.type) {
    case 'app':
      return `${head} prev=${m.index}@${m.logTerm} commit=${m.commit} entries=${describeEntries(m.entries)}`
    case 'app-resp':
      if (m.reject) return `${head} reject index=${m.index} hint=${m.rejectHint}@${m.logTerm}`
      return `${head} ack=${m.index}`
    case 'vote':
    case 'prevote':
      return `${head} last=${m.index}@${m.logTerm}${m.context !== undefined ? ' (transfer)' : ''}`
    case 'vote-resp':
    case 'prevote-resp':
      return `${head} ${m.reject ? 'reject' : 'grant'}`
    case 'heartbeat':
      return `${head} commit=${m.commit}${ctx}`
    case 'heartbeat-resp':
      return `${head}${ctx}`
    case 'snap':
      return `${head} snapshot=${m.snapshot ? describeSnapshot(m.snapshot) : 'missing'}`
    case 'read-index':
      return `${head}${ctx}`
    case 'read-index-resp':
      return `${head} index=${m.index}${ctx}`
    case 'prop':
      return `${head} entries=${describeEntries(m.entries)}`
    default:
      return head
  }
}
