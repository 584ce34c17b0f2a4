// Helpers for tests that drive a bare Raft state machine with hand-made messages (as the paper
// tests do), or an Env with preset logs.

import type { PlantedBugs } from '../../core/raft/config.ts'
import { MemoryStorage, cloneConfState } from '../../core/raft/memory-storage.ts'
import { Raft } from '../../core/raft/raft.ts'
import type { InitialState } from '../../core/raft/storage.ts'
import { emptyConfState, message } from '../../core/raft/types.ts'
import type { ConfState, Entry, Message, NodeId } from '../../core/raft/types.ts'
import { seededRandom } from './cluster.ts'
import type { Env } from './transcript/env.ts'

/** MemoryStorage with a configuration but no snapshot, so that logs can start at index 1. */
export class ConfiguredStorage extends MemoryStorage {
  constructor(private readonly confState: ConfState) {
    super()
  }

  override initialState(): InitialState {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.confState) }
  }
}

export function entry(index: number, term: number, text = ''): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) }
}

/** Entries 1..n with the given terms. */
export function entriesWithTerms(terms: readonly number[]): Entry[] {
  return terms.map((t, i) => entry(i + 1, t))
}

export interface TestRaftOptions {
  peers: NodeId[]
  learners?: NodeId[]
  votersOutgoing?: NodeId[]
  /** Terms of the entries 1..n already in the log. */
  logTerms?: number[]
  term?: number
  vote?: NodeId
  commit?: number
  electionTick?: number
  heartbeatTick?: number
  preVote?: boolean
  checkQuorum?: boolean
  bugs?: PlantedBugs
  seed?: number
}

/** A Raft with pre-vote and check-quorum off unless asked for: the protocol as the paper states it. */
export function newTestRaft(id: NodeId, o: TestRaftOptions): Raft {
  const storage = new ConfiguredStorage({
    ...emptyConfState(),
    voters: o.peers,
    learners: o.learners ?? [],
    votersOutgoing: o.votersOutgoing ?? [],
  })
  storage.append(entriesWithTerms(o.logTerms ?? []))
  storage.setHardState({ term: o.term ?? 0, vote: o.vote ?? 0, commit: o.commit ?? 0 })
  return new Raft({
    id,
    storage,
    electionTick: o.electionTick ?? 10,
    heartbeatTick: o.heartbeatTick ?? 1,
    random: seededRandom(id * 7919 + (o.seed ?? 0)),
    preVote: o.preVote ?? false,
    checkQuorum: o.checkQuorum ?? false,
    ...(o.bugs ? { bugs: o.bugs } : {}),
  })
}

/** Takes the messages the node has queued. */
export function takeMessages(r: Raft): Message[] {
  const out = r.msgs
  r.msgs = []
  return out
}

/** Makes `r` leader of the next term without an election (it must be a voter). */
export function forceLeader(r: Raft): void {
  r.becomeCandidate()
  r.becomeLeader()
  takeMessages(r)
}

export function tickTimes(r: Raft, n: number): void {
  for (let i = 0; i < n; i++) r.tick()
}

export function hup(r: Raft): void {
  r.step(message({ type: 'hup' }))
}

/** Terms of the log as Raft sees it (stored and unstable), from the first index. */
export function logTerms(r: Raft): number[] {
  return r.raftLog.allEntries().map((e) => e.term)
}

/** Replaces the stored state of an Env node (appending `entries` after its bootstrap snapshot) and restarts it from there. */
export function presetNode(env: Env, id: NodeId, entries: Entry[], hard: { term: number; vote?: NodeId }): void {
  const n = env.get(id)
  n.storage.append(entries)
  n.storage.setHardState({ term: hard.term, vote: hard.vote ?? 0, commit: n.storage.hardState.commit })
  env.restart(id)
}
