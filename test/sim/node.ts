// One simulated member: its durable storage (what survives a crash), and its volatile parts (the
// Raft core, the state machine, the Ready being persisted) which a crash throws away.

import { MemoryStorage } from '../../core/raft/memory-storage.ts'
import type { Ready } from '../../core/raft/ready.ts'
import type { ConfState, NodeId } from '../../core/raft/types.ts'
import type { Prng } from './prng.ts'
import type { SimRaft } from './raft-binding.ts'
import { KvStateMachine } from './state-machine.ts'

/** A Ready taken from the core whose persist step has not happened yet. */
export interface PendingReady {
  ready: Ready
  /** Set when the driver already sent the messages (only under the ack-before-fsync bug). */
  sent: boolean
  /** The term this node was leading when the Ready was taken, or 0. */
  leaderTerm: number
  /** Index of the first snapshot message delivered to the core while this Ready was in flight (diagnostics). */
  snapshotDelivered?: number | undefined
}

export class SimNode {
  readonly durable = new MemoryStorage()
  raft: SimRaft | undefined
  machine: KvStateMachine | undefined
  pending: PendingReady | undefined
  /** Bumped on every crash: events addressed to an older incarnation are ignored. */
  generation = 0
  /** Highest index this node was observed to hold committed (checker bookkeeping). */
  commitObserved = 0
  /** Units between this node's ticks: clocks run at slightly different rates. */
  readonly tickUnits: number
  /** Last role and term seen in a Ready (volatile). */
  role = 'follower'
  roleTerm = 0
  crashes = 0
  /** The commit index when this node was first seen leading its current term. */
  leaderCommitAtStart = 0
  /** Take a snapshot at the next opportunity (after a membership change), whatever the interval. */
  snapshotDue = false

  constructor(
    readonly id: NodeId,
    readonly prng: Prng,
    tickUnits: number,
  ) {
    this.tickUnits = tickUnits
  }

  get isUp(): boolean {
    return this.raft !== undefined
  }

  /** Gives a node of the initial cluster its bootstrap snapshot: index 1, term 1, the initial voters. */
  bootstrap(confState: ConfState): void {
    const machine = new KvStateMachine()
    machine.applied = 1
    machine.confState = confState
    this.durable.applySnapshot({ metadata: { index: 1, term: 1, confState }, data: machine.encode() })
    this.durable.setHardState({ term: 1, vote: 0, commit: 1 })
  }

  crash(): void {
    this.raft = undefined
    this.machine = undefined
    this.pending = undefined
    this.role = 'follower'
    this.roleTerm = 0
    this.snapshotDue = false
    this.generation++
    this.crashes++
  }
}
