// Configuration of one Raft node. Everything the core would otherwise take from its environment
// (time, randomness, storage) is passed in here, so a run is fully determined by its inputs.

import type { RaftStorage } from './storage.ts'
import type { NodeId } from './types.ts'

export interface RaftLogger {
  debug(msg: string): void
  info(msg: string): void
  warn(msg: string): void
}

/** Deliberately planted bugs, for proving that the simulator catches them. Never set in production. */
export interface PlantedBugs {
  /** Count replicas for entries of older terms when advancing the commit index. */
  commitOldTerm?: boolean
  /** Grant a vote to a second candidate in the same term. */
  voteTwice?: boolean
  /** Serve ReadIndex requests without confirming leadership. */
  staleReads?: boolean
}

export interface RaftConfig {
  id: NodeId
  storage: RaftStorage
  /** Ticks without hearing a leader before a follower campaigns; the timeout is randomized in [T, 2T). */
  electionTick: number
  /** Ticks between leader heartbeats. Must be < electionTick. */
  heartbeatTick: number
  /** Uniform random source in [0, 1), e.g. a seeded PRNG. */
  random: () => number
  /** Last applied index when restarting; entries at or below it are not handed out again. */
  applied?: number
  /** Bytes of entries per append message (at least one entry is always sent). */
  maxSizePerMsg?: number
  /** Bytes of committed entries handed to the application in one Ready. */
  maxCommittedSizePerReady?: number
  /** Append messages in flight per follower in replicate state. */
  maxInflightMsgs?: number
  /** Bytes in flight per follower (0 = unbounded by bytes). */
  maxInflightBytes?: number
  /** Bytes of uncommitted entries a leader accepts before dropping proposals (0 = unbounded). */
  maxUncommittedEntriesSize?: number
  preVote?: boolean
  checkQuorum?: boolean
  /** Drop proposals while there is no leader instead of... (they are always dropped without a leader). */
  disableProposalForwarding?: boolean
  logger?: RaftLogger
  bugs?: PlantedBugs
}

export const silentLogger: RaftLogger = { debug() {}, info() {}, warn() {} }

export function validateConfig(c: RaftConfig): void {
  if (!Number.isSafeInteger(c.id) || c.id <= 0) throw new RangeError(`raft id must be a positive integer, got ${c.id}`)
  if (c.heartbeatTick <= 0) throw new RangeError('heartbeatTick must be greater than 0')
  if (c.electionTick <= c.heartbeatTick) throw new RangeError('electionTick must be greater than heartbeatTick')
  if ((c.maxInflightMsgs ?? 256) <= 0) throw new RangeError('maxInflightMsgs must be greater than 0')
}
