// The safety checkers. The simulation reports what it observes (leaders, log entries handed out
// by Ready or carried by messages, durable hard states, commits, applies, acknowledged writes,
// served reads) the moment it observes it, so every property below is checked after every step:
//
//   election safety       at most one leader per term
//   log matching          an (index, term) pair names one entry, and fixes the term before it
//   leader completeness   a leader of term T holds every entry committed in a term before T
//   state machine safety  no two nodes commit or apply different entries at the same index
//   durability            an acknowledged write is never missing from a later leader's log
//   linearizable reads    a read sees no value older than the last write acknowledged before it began
//   commit rule           a leader advances its commit index only onto an entry of its own term
//   hard state            a node's durable term and commit never go back; its vote never changes in a term
//
// A broken property throws a Violation, which ends the seed.

import type { Entry, HardState, NodeId } from '../../core/raft/types.ts'
import type { Fingerprint, Register } from './state-machine.ts'
import { hashBytes, sameFingerprint } from './state-machine.ts'

export type ViolationKind =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'durability'
  | 'linearizability'
  | 'commit-rule'
  | 'hard-state'
  | 'liveness'
  | 'core-exception'
  | 'simulator'

export class Violation extends Error {
  constructor(
    readonly kind: ViolationKind,
    message: string,
  ) {
    super(`${kind}: ${message}`)
    this.name = 'Violation'
  }
}

/** A bug in the simulator itself (a broken internal assertion), never in the code under test. */
export class SimulatorError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SimulatorError'
  }
}

/** The read-only view of a node's log the checkers need (MemoryStorage satisfies it). */
export interface LogView {
  firstIndex(): number
  lastIndex(): number
  term(i: number): number
}

interface LogRecord {
  dataHash: number
  type: Entry['type']
  /** Term of the entry before; undefined until some observer knew it. */
  previousTerm: number | undefined
  firstSeenBy: NodeId
}

interface CommitRecord {
  term: number
  /** Lowest term in which any node was seen to hold this index committed: an upper bound of the term it was committed in. */
  commitTerm: number
  node: NodeId
}

interface ApplyRecord {
  term: number
  fingerprint: Fingerprint
  node: NodeId
}

export interface ReadCheck {
  node: NodeId
  key: number
  /** Highest log index of any write acknowledged before the read began. */
  ackedIndexAtStart: number
  /** Highest log index of a write to `key` acknowledged before the read began. */
  ackedKeyIndexAtStart: number
}

const dataHashes = new WeakMap<Uint8Array, number>()

function dataHash(data: Uint8Array): number {
  let h = dataHashes.get(data)
  if (h === undefined) {
    h = hashBytes(data, 0x811c9dc5)
    dataHashes.set(data, h)
  }
  return h
}

export class Checker {
  private leaderByTerm = new Map<number, NodeId>()
  private logRecords = new Map<number, Map<number, LogRecord>>()
  private committed = new Map<number, CommitRecord>()
  private committedIndexMax = 0
  private applied = new Map<number, ApplyRecord>()
  private durableHardStates = new Map<NodeId, HardState>()
  /** Acknowledged writes by log index: the term of the entry that carried them. */
  private ackedTerms = new Map<number, number>()
  checks = 0

  private fail(kind: ViolationKind, message: string): never {
    throw new Violation(kind, message)
  }

  observeLeader(node: NodeId, term: number): void {
    this.checks++
    const other = this.leaderByTerm.get(term)
    if (other !== undefined && other !== node) this.fail('election-safety', `nodes ${other} and ${node} both lead term ${term}`)
    this.leaderByTerm.set(term, node)
  }

  /** Entries observed contiguous after (previousIndex, previousTerm); previousTerm undefined if unknown. */
  observeLog(node: NodeId, entries: readonly Entry[], previousIndex: number, previousTerm: number | undefined): void {
    let index = previousIndex
    let term = previousTerm
    for (const entry of entries) {
      if (entry.index !== index + 1) this.fail('log-matching', `node ${node}: entry ${entry.index} follows ${index}`)
      if (term !== undefined && entry.term < term) {
        this.fail('log-matching', `node ${node}: entry ${entry.index} has term ${entry.term} below previous term ${term}`)
      }
      this.observeEntry(node, entry, term)
      index = entry.index
      term = entry.term
    }
  }

  private observeEntry(node: NodeId, entry: Entry, previousTerm: number | undefined): void {
    this.checks++
    let byTerm = this.logRecords.get(entry.index)
    if (byTerm === undefined) {
      byTerm = new Map()
      this.logRecords.set(entry.index, byTerm)
    }
    const hash = dataHash(entry.data)
    const record = byTerm.get(entry.term)
    if (record === undefined) {
      byTerm.set(entry.term, { dataHash: hash, type: entry.type, previousTerm, firstSeenBy: node })
      return
    }
    const where = `entry (index ${entry.index}, term ${entry.term}) seen at ${record.firstSeenBy} and ${node}`
    if (record.dataHash !== hash || record.type !== entry.type) this.fail('log-matching', `${where} with different contents`)
    if (previousTerm === undefined) return
    if (record.previousTerm === undefined) record.previousTerm = previousTerm
    else if (record.previousTerm !== previousTerm) {
      this.fail('log-matching', `${where} preceded by terms ${record.previousTerm} and ${previousTerm}`)
    }
  }

  observeDurableHardState(node: NodeId, next: HardState): void {
    this.checks++
    const previous = this.durableHardStates.get(node)
    this.durableHardStates.set(node, { ...next })
    if (previous === undefined) return
    const what = `node ${node}: durable hard state ${JSON.stringify(previous)} -> ${JSON.stringify(next)}`
    if (next.term < previous.term) this.fail('hard-state', `${what}: term went back`)
    if (next.commit < previous.commit) this.fail('hard-state', `${what}: commit went back`)
    if (next.term === previous.term && previous.vote !== 0 && next.vote !== previous.vote) {
      this.fail('hard-state', `${what}: vote changed within a term`)
    }
  }

  /** A node holds `index` (of entry term `term`) committed while at term `nodeTerm`. */
  observeCommitted(node: NodeId, index: number, term: number, nodeTerm: number): void {
    this.checks++
    const record = this.committed.get(index)
    if (record === undefined) {
      this.committed.set(index, { term, commitTerm: nodeTerm, node })
      if (index > this.committedIndexMax) this.committedIndexMax = index
      return
    }
    if (record.term !== term) {
      this.fail(
        'state-machine-safety',
        `index ${index} committed with term ${record.term} at node ${record.node} and term ${term} at node ${node}`,
      )
    }
    if (nodeTerm < record.commitTerm) record.commitTerm = nodeTerm
  }

  observeApply(node: NodeId, entry: Entry, fingerprint: Fingerprint): void {
    this.checks++
    const record = this.applied.get(entry.index)
    if (record === undefined) {
      this.applied.set(entry.index, { term: entry.term, fingerprint, node })
      return
    }
    if (record.term !== entry.term || !sameFingerprint(record.fingerprint, fingerprint)) {
      this.fail(
        'state-machine-safety',
        `index ${entry.index}: node ${record.node} applied term ${record.term}, node ${node} applied term ${entry.term}` +
          (record.term === entry.term ? ' with a different history' : ''),
      )
    }
  }

  /** A state machine restored from a snapshot must match what was applied at that index. */
  observeRestore(node: NodeId, index: number, fingerprint: Fingerprint): void {
    this.checks++
    const record = this.applied.get(index)
    if (record === undefined) return
    if (!sameFingerprint(record.fingerprint, fingerprint)) {
      this.fail('state-machine-safety', `node ${node} restored a snapshot at ${index} that differs from node ${record.node}'s history`)
    }
  }

  observeAck(index: number, term: number): void {
    this.ackedTerms.set(index, term)
  }

  /**
   * Leader completeness and durability, for a node leading term `leaderTerm` whose durable log is
   * `log` (called once its Ready is persisted, so the log holds everything it leads with).
   */
  checkLeaderLog(node: NodeId, leaderTerm: number, log: LogView): void {
    const first = log.firstIndex()
    const last = log.lastIndex()
    for (let index = this.committedIndexMax; index >= first; index--) {
      const record = this.committed.get(index)
      if (record === undefined || record.commitTerm >= leaderTerm) continue
      this.checks++
      const term = index <= last ? log.term(index) : undefined
      if (term === record.term) continue
      const acked = this.ackedTerms.get(index) === record.term
      const kind = acked ? 'durability' : 'leader-completeness'
      this.fail(
        kind,
        `leader ${node} of term ${leaderTerm} has ${term === undefined ? 'no entry' : `term ${term}`} at index ${index}, ` +
          `committed (term ${record.term}) by node ${record.node} in term ${record.commitTerm}` +
          (acked ? ', an acknowledged write' : ''),
      )
    }
  }

  checkLeaderCommit(node: NodeId, leaderTerm: number, commit: number, commitTerm: number): void {
    this.checks++
    if (commitTerm !== leaderTerm) {
      this.fail('commit-rule', `leader ${node} of term ${leaderTerm} advanced its commit index to ${commit}, an entry of term ${commitTerm}`)
    }
  }

  checkRead(read: ReadCheck, readIndex: number, register: Register | undefined): void {
    this.checks++
    const where = `read of key ${read.key} on node ${read.node}`
    if (readIndex < read.ackedIndexAtStart) {
      this.fail('linearizability', `${where}: read index ${readIndex} is below index ${read.ackedIndexAtStart} acknowledged before the read began`)
    }
    const seen = register?.index ?? 0
    if (seen < read.ackedKeyIndexAtStart) {
      this.fail(
        'linearizability',
        `${where}: saw the value written at index ${seen}, older than the write at index ${read.ackedKeyIndexAtStart} acknowledged before the read began`,
      )
    }
  }

  get committedIndex(): number {
    return this.committedIndexMax
  }

  get leaderTerms(): number {
    return this.leaderByTerm.size
  }
}
