// Swarm testing: every seed draws its own cluster shape, fault mix and workload. Some seeds have
// no loss, some no partitions, some no crashes, so that one kind of fault cannot mask the bugs
// only another kind (or its absence) reveals.

import type { Prng } from './prng.ts'

/** Virtual time units per Raft tick. Network and disk delays are expressed in these units. */
export const TIME_UNITS_PER_TICK = 10

export interface NetworkOptions {
  delayUnitsMin: number
  delayUnitsMax: number
  /** Probability that a message is lost. */
  lossProbability: number
  /** Probability that a delivered message is delivered twice (with independent delays). */
  duplicateProbability: number
  /** Probability that a message to a live peer is instead delayed by a long "clog" stall. */
  stallProbability: number
  /** Per fault event: probability of cutting a partition of each kind. */
  partitionSymmetricProbability: number
  partitionAsymmetricProbability: number
  clogProbability: number
  /** Duration of a partition or clog, in units. */
  faultUnitsMin: number
  faultUnitsMax: number
  /** Probability that a message dropped by a partition is reported to its sender as unreachable. */
  reportUnreachableProbability: number
  /** Share of partitions cut around the leader rather than at random. */
  leaderTargetShare: number
}

export interface NodeOptions {
  /** Disk write (persist + fsync) latency, in units. */
  persistUnitsMin: number
  persistUnitsMax: number
  /** Per fault event: probability of crashing a node. */
  crashProbability: number
  /** Share of crashes that hit the leader rather than a node at random. */
  leaderCrashShare: number
  /** Nodes that may be down at once during the safety phase (may exceed a minority). */
  crashedMax: number
  restartUnitsMin: number
  restartUnitsMax: number
  /** Apply a snapshot after this many applied entries; compaction keeps `compactRetain` entries. */
  snapshotEntries: number
  compactRetain: number
}

export interface RaftOptions {
  electionTick: number
  heartbeatTick: number
  maxSizePerMsg: number
  maxInflightMsgs: number
  maxUncommittedEntriesSize: number
  maxCommittedSizePerReady: number
}

export interface WorkloadOptions {
  /** Units between client actions. */
  clientUnitsMin: number
  clientUnitsMax: number
  proposeWeight: number
  readWeight: number
  confChangeWeight: number
  transferWeight: number
  /** Probability that a client sends to the node it believes is the leader, rather than to any node. */
  leaderAffinity: number
  keyCount: number
  /** Extra payload bytes, to vary entry sizes against maxSizePerMsg. */
  paddingBytesMax: number
}

export interface SwarmOptions {
  votersInitial: number
  /** Node IDs are never reused; this bounds how many nodes a seed ever creates. */
  nodeCountMax: number
  /** Units between fault decisions. */
  faultUnits: number
  network: NetworkOptions
  node: NodeOptions
  raft: RaftOptions
  workload: WorkloadOptions
}

/** A rate that is zero in about `offShare` of the seeds and otherwise uniform in [low, high]. */
function maybeRate(prng: Prng, offShare: number, low: number, high: number): number {
  if (prng.chance(offShare)) return 0
  return low + prng.float() * (high - low)
}

export function drawSwarmOptions(prng: Prng): SwarmOptions {
  const votersInitial = prng.pick([3, 3, 3, 3, 5, 5, 1, 2, 4])
  const delayUnitsMin = prng.int(1, 5)
  const electionTick = prng.pick([8, 10, 12])
  const maxInflightMsgs = prng.pick([1, 2, 4, 16])
  const maxSizePerMsg = prng.pick([1, 1, 64, 256, 4096])
  // Small messages through a narrow window replicate slower than clients write; without the
  // uncommitted bound (the core's back-pressure) the backlog would grow for as long as the run.
  const slowReplication = maxInflightMsgs <= 2 && maxSizePerMsg <= 256
  const maxUncommittedEntriesSize = slowReplication ? prng.pick([512, 4096]) : prng.pick([0, 0, 512, 4096])
  return {
    votersInitial,
    nodeCountMax: votersInitial + prng.int(0, 4),
    faultUnits: prng.int(3, 8) * TIME_UNITS_PER_TICK,
    network: {
      delayUnitsMin,
      delayUnitsMax: delayUnitsMin + prng.pick([2, 5, 10, 20]),
      lossProbability: maybeRate(prng, 0.3, 0.01, 0.2),
      duplicateProbability: maybeRate(prng, 0.4, 0.01, 0.1),
      stallProbability: maybeRate(prng, 0.5, 0.001, 0.02),
      partitionSymmetricProbability: maybeRate(prng, 0.3, 0.05, 0.3),
      partitionAsymmetricProbability: maybeRate(prng, 0.5, 0.05, 0.2),
      clogProbability: maybeRate(prng, 0.5, 0.05, 0.2),
      faultUnitsMin: 5 * TIME_UNITS_PER_TICK,
      faultUnitsMax: prng.int(10, 40) * TIME_UNITS_PER_TICK,
      reportUnreachableProbability: prng.pick([0, 0.5, 1]),
      leaderTargetShare: prng.pick([0, 0.5, 0.9, 0.9]),
    },
    node: {
      persistUnitsMin: 1,
      persistUnitsMax: prng.pick([2, 10, 20, 40]),
      crashProbability: maybeRate(prng, 0.25, 0.05, 0.35),
      leaderCrashShare: prng.pick([0, 0.25, 0.5, 0.75]),
      crashedMax: prng.pick([1, 1, 2, votersInitial]),
      restartUnitsMin: TIME_UNITS_PER_TICK,
      restartUnitsMax: prng.int(5, 40) * TIME_UNITS_PER_TICK,
      snapshotEntries: prng.pick([4, 8, 16, 64]),
      compactRetain: prng.pick([0, 1, 5, 20]),
    },
    raft: {
      electionTick,
      heartbeatTick: prng.int(1, 3),
      maxSizePerMsg,
      maxInflightMsgs,
      maxUncommittedEntriesSize,
      maxCommittedSizePerReady: prng.pick([64, 1024, 65536]),
    },
    workload: {
      clientUnitsMin: 1,
      clientUnitsMax: prng.pick([5, 10, 20, 40]),
      proposeWeight: prng.int(4, 10),
      readWeight: prng.int(0, 6),
      confChangeWeight: prng.pick([0, 0.2, 0.5, 1]),
      transferWeight: prng.pick([0, 0.2, 0.5]),
      leaderAffinity: prng.pick([0.5, 0.8, 1]),
      keyCount: prng.pick([1, 3, 8]),
      paddingBytesMax: prng.pick([0, 16, 200]),
    },
  }
}
