// Wire and storage types of the Raft core. Plain data only: the server encodes them for the
// network and for RocksDB, the simulator passes them around as objects.

/** A member ID. Kept below 2^53 so it survives JSON and number arithmetic exactly; 0 means "none". */
export type NodeId = number

export const NONE: NodeId = 0

export type EntryType = 'normal' | 'conf-change'

export interface Entry {
  term: number
  index: number
  type: EntryType
  /** Application payload; for 'conf-change' entries an encoded ConfChange (see confchange-codec.ts). */
  data: Uint8Array
}

/** What must be durable before a member answers any message of the term it describes. */
export interface HardState {
  term: number
  vote: NodeId
  commit: number
}

export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: NONE, commit: 0 })

/** The membership a log prefix describes; `votersOutgoing` is non-empty only in a joint configuration. */
export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
  votersOutgoing: NodeId[]
  /** Learners that become voters when the joint configuration is left (demoted voters). */
  learnersNext: NodeId[]
  /** Leave the joint configuration automatically once it is committed. */
  autoLeave: boolean
}

export interface SnapshotMetadata {
  index: number
  term: number
  confState: ConfState
}

export interface Snapshot {
  metadata: SnapshotMetadata
  data: Uint8Array
}

export type ConfChangeType = 'add-voter' | 'add-learner' | 'remove'

export interface ConfChangeSingle {
  type: ConfChangeType
  nodeId: NodeId
}

/**
 * A membership change. One single change of a voter may be applied directly ('auto' with one change);
 * anything else goes through a joint configuration. 'auto' leaves it automatically, 'explicit'
 * waits for an empty ConfChange proposed by the application.
 */
export interface ConfChange {
  transition: 'auto' | 'implicit' | 'explicit'
  changes: ConfChangeSingle[]
  /** Opaque to Raft: the server puts member metadata (names, URLs) here. */
  context: Uint8Array
}

export type MessageType =
  // local messages: never cross the network
  | 'hup' // start an election
  | 'beat' // leader: send heartbeats
  | 'prop' // proposal (also forwarded follower -> leader)
  | 'snap-status' // application reports a snapshot send result
  | 'unreachable' // application reports a peer unreachable
  | 'check-quorum'
  // network messages
  | 'app'
  | 'app-resp'
  | 'vote'
  | 'vote-resp'
  | 'prevote'
  | 'prevote-resp'
  | 'snap'
  | 'heartbeat'
  | 'heartbeat-resp'
  | 'transfer-leader'
  | 'timeout-now'
  | 'read-index'
  | 'read-index-resp'

export interface Message {
  type: MessageType
  to: NodeId
  from: NodeId
  term: number
  /** For 'app': term of the entry at `index`. For votes: term of the candidate's last entry. */
  logTerm: number
  /** For 'app': index of the entry before `entries`. For responses: the index acknowledged or rejected. */
  index: number
  entries: Entry[]
  commit: number
  snapshot?: Snapshot
  reject: boolean
  /** For a rejected 'app-resp': the follower's hint of where the logs may match. */
  rejectHint: number
  /** For 'heartbeat'/'read-index': the ReadIndex request context echoed back. */
  context?: Uint8Array
}

/** A linearizable-read answer: once `index` is applied locally, the read identified by `context` may be served. */
export interface ReadState {
  index: number
  requestContext: Uint8Array
}

export type StateType = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

export interface SoftState {
  lead: NodeId
  state: StateType
}

export function message(fields: Partial<Message> & Pick<Message, 'type'>): Message {
  return {
    to: NONE,
    from: NONE,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    ...fields,
  }
}

export function emptyConfState(): ConfState {
  return { voters: [], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
}

export function isLocalMessage(type: MessageType): boolean {
  return (
    type === 'hup' || type === 'beat' || type === 'snap-status' || type === 'unreachable' || type === 'check-quorum'
  )
}

export function isResponseMessage(type: MessageType): boolean {
  return (
    type === 'app-resp' ||
    type === 'vote-resp' ||
    type === 'prevote-resp' ||
    type === 'heartbeat-resp' ||
    type === 'read-index-resp' ||
    type === 'unreachable'
  )
}

export function voteResponseType(type: MessageType): MessageType {
  if (type === 'vote') return 'vote-resp'
  if (type === 'prevote') return 'prevote-resp'
  throw new Error(`not a vote message: ${type}`)
}
