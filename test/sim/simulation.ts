// One seed's run: a cluster of simulated nodes over a simulated network and disk, driven by an
// event queue in virtual time, with clients acting throughout and the checkers watching every step.
//
// Phases: a safety phase of `steps` events under the seed's faults, then a liveness phase that
// heals the network, restarts every crashed node and requires a leader and a new write applied
// on a quorum within a bound.

import type { PlantedBugs } from '../../core/raft/config.ts'
import { RaftError } from '../../core/raft/errors.ts'
import type { Ready } from '../../core/raft/ready.ts'
import { isLocalMessage } from '../../core/raft/types.ts'
import type { ConfState, Entry, Message, NodeId, Snapshot } from '../../core/raft/types.ts'
import { Checker, SimulatorError, Violation } from './checker.ts'
import type { ViolationKind } from './checker.ts'
import { EventQueue } from './event-queue.ts'
import { Network, NODE_ID_LIMIT } from './network.ts'
import { SimNode } from './node.ts'
import { Prng } from './prng.ts'
import { createRaft, decodeChange } from './raft-binding.ts'
import { KvStateMachine } from './state-machine.ts'
import { drawSwarmOptions, TIME_UNITS_PER_TICK } from './swarm.ts'
import type { SwarmOptions } from './swarm.ts'
import { describeChange, Workload } from './workload.ts'
import type { WorkloadStats } from './workload.ts'

export type BugName = 'commit-old-term' | 'vote-twice' | 'ack-before-fsync' | 'stale-reads'
export const BUG_NAMES: readonly BugName[] = ['commit-old-term', 'vote-twice', 'ack-before-fsync', 'stale-reads']

export const STEPS_DEFAULT = 12000
/**
 * The liveness phase must see a new write applied on a quorum within LIVENESS_TICKS_MAX ticks of
 * healing, and may never go LIVENESS_STALL_TICKS without progress (a commit, or a log growing
 * somewhere) meanwhile. The write queues behind whatever backlog the leader holds, which a swarm
 * of small messages and narrow in-flight windows drains slowly, so the hard bound is generous;
 * the stall bound catches a cluster that is stuck outright.
 */
export const LIVENESS_TICKS_MAX = 3000
export const LIVENESS_STALL_TICKS = 300
const EVENTS_QUEUED_MAX = 100_000
/** Messages a node may pass on for another (forwarding to the leader keeps the original sender). */
const FORWARDED_TYPES: ReadonlySet<Message['type']> = new Set(['prop', 'transfer-leader', 'read-index'])
const TRACE_LINES_MAX = 200_000

export interface RunOptions {
  seed: number
  steps: number
  bug: BugName | undefined
  /** Receives one line per notable event; undefined = no tracing. */
  trace: ((line: string) => void) | undefined
}

export interface RunResult {
  seed: number
  violation: { kind: ViolationKind; message: string } | undefined
  steps: number
  timeUnits: number
  livenessUnits: number
  crashes: number
  leaderTerms: number
  checks: number
  workload: WorkloadStats
  swarm: SwarmOptions
}

type SimEvent =
  | { kind: 'tick'; node: NodeId; generation: number }
  | { kind: 'persist'; node: NodeId; generation: number }
  /** `sender` is the node that put the message on the wire (a forwarded message keeps its original `from`). */
  | { kind: 'deliver'; sender: NodeId; message: Message }
  | { kind: 'restart'; node: NodeId }
  | { kind: 'client' }
  | { kind: 'fault' }
  | { kind: 'report'; node: NodeId; generation: number; peer: NodeId; snapshot: boolean; ok: boolean }

export function runSeed(options: RunOptions): RunResult {
  return new Simulation(options).run()
}

class Simulation {
  private readonly prng: Prng
  private readonly swarm: SwarmOptions
  private readonly network: Network
  private readonly checker = new Checker()
  private readonly queue = new EventQueue<SimEvent>(EVENTS_QUEUED_MAX)
  private readonly nodes = new Map<NodeId, SimNode>()
  private readonly workload: Workload
  private readonly bugs: PlantedBugs
  private readonly ackBeforeFsync: boolean
  private now = 0
  private steps = 0
  private liveness = false
  private traceLines = 0

  constructor(private readonly options: RunOptions) {
    this.prng = new Prng(options.seed)
    this.swarm = drawSwarmOptions(this.prng)
    this.network = new Network(this.prng.fork(), this.swarm.network)
    this.bugs = {
      commitOldTerm: options.bug === 'commit-old-term',
      voteTwice: options.bug === 'vote-twice',
      staleReads: options.bug === 'stale-reads',
    }
    this.ackBeforeFsync = options.bug === 'ack-before-fsync'
    const voters: NodeId[] = []
    for (let id = 1; id <= this.swarm.votersInitial; id++) voters.push(id)
    const requestUnitsMax = 10 * this.swarm.raft.electionTick * TIME_UNITS_PER_TICK
    this.workload = new Workload(
      {
        prng: this.prng.fork(),
        checker: this.checker,
        now: () => this.now,
        nodes: () => this.nodes.values(),
        leader: () => this.leader(),
        spawn: () => this.spawn(),
        trace: (line) => this.trace(line),
      },
      this.swarm.workload,
      requestUnitsMax,
      voters,
    )
    const confState: ConfState = { voters, learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
    for (const id of voters) {
      const node = this.addNode(id)
      node.bootstrap(confState)
      this.start(node)
    }
    this.schedule(this.prng.int(1, this.swarm.workload.clientUnitsMax), { kind: 'client' })
    this.schedule(this.swarm.faultUnits, { kind: 'fault' })
  }

  run(): RunResult {
    let violation: RunResult['violation']
    let livenessStart = 0
    try {
      this.runSafety()
      livenessStart = this.now
      this.runLiveness()
    } catch (error) {
      violation = classify(error)
      this.trace(`VIOLATION ${violation.kind}: ${violation.message}`)
    }
    let crashes = 0
    for (const node of this.nodes.values()) crashes += node.crashes
    return {
      seed: this.options.seed,
      violation,
      steps: this.steps,
      timeUnits: this.now,
      livenessUnits: livenessStart === 0 ? 0 : this.now - livenessStart,
      crashes,
      leaderTerms: this.checker.leaderTerms,
      checks: this.checker.checks,
      workload: this.workload.stats,
      swarm: this.swarm,
    }
  }

  private runSafety(): void {
    this.trace(`seed ${this.options.seed}: ${JSON.stringify(this.swarm)}`)
    while (this.steps < this.options.steps) this.step()
  }

  private runLiveness(): void {
    this.liveness = true
    this.workload.membershipEnabled = false
    this.workload.writesEnabled = false
    this.network.heal()
    this.trace(`liveness phase: network healed, restarting crashed nodes`)
    for (const node of this.nodes.values()) if (!node.isUp) this.restart(node)
    const deadline = this.now + LIVENESS_TICKS_MAX * TIME_UNITS_PER_TICK
    const probeFrom = this.workload.ackedIndex
    let progress = this.progressMark()
    let stallDeadline = this.now + LIVENESS_STALL_TICKS * TIME_UNITS_PER_TICK
    while (this.now <= deadline && this.now <= stallDeadline) {
      if (this.progressMade(probeFrom)) {
        this.trace(`liveness reached at ${this.now}`)
        return
      }
      if (!this.workload.probePending) this.workload.propose(true)
      this.step()
      const mark = this.progressMark()
      if (mark > progress) {
        progress = mark
        stallDeadline = this.now + LIVENESS_STALL_TICKS * TIME_UNITS_PER_TICK
      }
    }
    const leader = this.leader()
    const bound = this.now > deadline ? `${LIVENESS_TICKS_MAX} ticks of healing` : `${LIVENESS_STALL_TICKS} ticks without progress`
    throw new Violation(
      'liveness',
      `no write applied on a quorum within ${bound} ` +
        `(leader ${leader === undefined ? 'none' : `${leader.id} term ${leader.roleTerm}`}; ${this.describeNodes()})`,
    )
  }

  /** Grows with every commit and every entry made durable anywhere. */
  private progressMark(): number {
    let mark = this.checker.committedIndex
    for (const node of this.nodes.values()) mark += node.durable.lastIndex()
    return mark
  }

  /** A probe write proposed in the liveness phase is applied on a quorum of the leader's configuration. */
  private progressMade(probeFrom: number): boolean {
    const index = this.workload.probeAckedIndex
    if (index <= probeFrom) return false
    const leader = this.leader()
    if (leader === undefined || leader.raft === undefined) return false
    const config = leader.raft.status().config
    const applied = (id: NodeId) => (this.nodes.get(id)?.machine?.applied ?? 0) >= index
    return hasQuorum(config.voters, applied) && hasQuorum(config.votersOutgoing, applied)
  }

  private describeNodes(): string {
    const parts: string[] = []
    for (const node of this.nodes.values()) {
      if (node.raft === undefined) {
        parts.push(`${node.id}: down`)
        continue
      }
      const s = node.raft.status()
      const last = node.durable.lastIndex()
      const config = `voters ${s.config.voters}${s.config.votersOutgoing.length > 0 ? ` & ${s.config.votersOutgoing}` : ''}`
      parts.push(
        `${node.id}: ${s.softState.state} term ${s.hardState.term} commit ${s.hardState.commit} applied ${s.applied} ` +
          `last ${last}/${node.durable.term(last)} ${config}`,
      )
    }
    return parts.join('; ')
  }

  private step(): void {
    const next = this.queue.pop()
    if (next === undefined) throw new SimulatorError('event queue ran dry')
    if (next.time < this.now) throw new SimulatorError(`time went back from ${this.now} to ${next.time}`)
    this.now = next.time
    this.steps++
    this.handle(next.event)
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'tick':
        return this.onTick(event.node, event.generation)
      case 'persist':
        return this.onPersist(event.node, event.generation)
      case 'deliver':
        return this.onDeliver(event.sender, event.message)
      case 'restart':
        return this.onRestart(event.node)
      case 'client':
        return this.onClient()
      case 'fault':
        return this.onFault()
      case 'report':
        return this.onReport(event)
    }
  }

  private schedule(delayUnits: number, event: SimEvent): void {
    if (!this.queue.push(this.now + delayUnits, event)) throw new SimulatorError('event queue full')
  }

  private trace(line: string): void {
    if (this.options.trace === undefined || this.traceLines >= TRACE_LINES_MAX) return
    this.traceLines++
    this.options.trace(`[${this.now}] ${line}`)
  }

  // ---- nodes --------------------------------------------------------------------------------

  private addNode(id: NodeId): SimNode {
    if (id <= 0 || id >= NODE_ID_LIMIT || this.nodes.has(id)) throw new SimulatorError(`bad new node id ${id}`)
    const tickUnits = TIME_UNITS_PER_TICK + this.prng.int(-1, 1)
    const node = new SimNode(id, this.prng.fork(), tickUnits)
    this.nodes.set(id, node)
    return node
  }

  private spawn(): SimNode | undefined {
    if (this.nodes.size >= this.swarm.nodeCountMax) return undefined
    const node = this.addNode(this.nodes.size + 1)
    this.trace(`node ${node.id} created (empty storage)`)
    this.start(node)
    return node
  }

  /** Builds the volatile half of a node from its durable storage. */
  private start(node: SimNode): void {
    if (node.isUp) throw new SimulatorError(`node ${node.id} started twice`)
    const snapshot = node.durable.snapshot()
    const raft = this.newRaft(node, snapshot)
    const machine = KvStateMachine.decode(snapshot.data)
    if (machine.applied !== snapshot.metadata.index) {
      throw new SimulatorError(`node ${node.id} snapshot at ${snapshot.metadata.index} holds a machine at ${machine.applied}`)
    }
    this.checker.observeRestore(node.id, machine.applied, machine.fingerprint)
    node.raft = raft
    node.machine = machine
    node.commitObserved = node.durable.hardState.commit
    this.schedule(node.prng.int(1, node.tickUnits), { kind: 'tick', node: node.id, generation: node.generation })
    this.pump(node)
  }

  private newRaft(node: SimNode, snapshot: Snapshot) {
    const r = this.swarm.raft
    return createRaft({
      id: node.id,
      storage: node.durable,
      electionTick: r.electionTick,
      heartbeatTick: r.heartbeatTick,
      random: () => node.prng.float(),
      applied: snapshot.metadata.index,
      maxSizePerMsg: r.maxSizePerMsg,
      maxInflightMsgs: r.maxInflightMsgs,
      maxUncommittedEntriesSize: r.maxUncommittedEntriesSize,
      maxCommittedSizePerReady: r.maxCommittedSizePerReady,
      preVote: true,
      checkQuorum: true,
      bugs: this.bugs,
    })
  }

  private restart(node: SimNode): void {
    this.trace(`node ${node.id} restarts from durable state ${JSON.stringify(node.durable.hardState)}`)
    this.start(node)
  }

  private crash(node: SimNode): void {
    this.trace(`node ${node.id} crashes${node.pending === undefined ? '' : ' losing an unpersisted Ready'}`)
    node.crash()
    this.workload.onCrash(node)
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined
    for (const node of this.nodes.values()) {
      if (!node.isUp || node.role !== 'leader') continue
      if (best === undefined || node.roleTerm > best.roleTerm) best = node
    }
    return best
  }

  /** If the node has work and none in flight, takes its next Ready and schedules the persist step. */
  private pump(node: SimNode): void {
    const raft = node.raft
    if (raft === undefined) return
    this.observeRole(node)
    if (node.pending !== undefined || !raft.hasReady()) return
    const ready = raft.ready()
    const leaderTerm = node.role === 'leader' ? node.roleTerm : 0
    if (ready.softState !== undefined) this.trace(`node ${node.id} is ${node.role} of term ${node.roleTerm}`)
    node.pending = { ready, sent: false, leaderTerm }
    if (this.ackBeforeFsync) {
      this.send(node, ready.messages)
      node.pending.sent = true
    }
    this.checkMustSync(node, ready)
    // Only a Ready that must be synced waits for the disk; the rest (commit index, entries to
    // apply, messages) is carried out at once, though still in a step of its own.
    const options = this.swarm.node
    const delay = ready.mustSync ? this.prng.int(options.persistUnitsMin, options.persistUnitsMax) : 1
    this.schedule(delay, { kind: 'persist', node: node.id, generation: node.generation })
  }

  /** The Ready contract: anything that must survive a crash before messages go out sets mustSync. */
  private checkMustSync(node: SimNode, ready: Ready): void {
    if (ready.mustSync) return
    const durable = node.durable.hardState
    const hard = ready.hardState
    const voteChanged = hard !== undefined && (hard.term !== durable.term || hard.vote !== durable.vote)
    if (ready.entries.length > 0 || ready.snapshot !== undefined || voteChanged) {
      throw new Violation('core-exception', `node ${node.id} handed out a Ready with entries, a snapshot or a new term/vote but mustSync unset`)
    }
  }

  /** Called after every event that touched the node: election safety at the finest grain observable. */
  private observeRole(node: SimNode): void {
    const status = node.raft!.status()
    const role = status.softState.state
    const term = status.hardState.term
    if (role === 'leader' && (node.role !== 'leader' || node.roleTerm !== term)) {
      this.checker.observeLeader(node.id, term)
      node.leaderCommitAtStart = status.hardState.commit
    }
    node.role = role
    node.roleTerm = term
  }

  /**
   * Log matching over the entries that leave a node: those it makes durable and those its messages
   * carry. (Entries that die unpersisted and unsent in a crash never existed for anyone else: a
   * lone node may rebuild a different log in the same term, legitimately.)
   */
  private observeDurableEntries(node: SimNode, entries: readonly Entry[]): void {
    const first = entries[0]
    if (first === undefined) return
    const durable = node.durable
    const previousIndex = first.index - 1
    let previousTerm: number | undefined
    if (previousIndex >= durable.firstIndex() - 1 && previousIndex <= durable.lastIndex()) previousTerm = durable.term(previousIndex)
    this.checker.observeLog(node.id, entries, previousIndex, previousTerm)
  }

  // ---- the persist step ------------------------------------------------------------------------

  private onPersist(id: NodeId, generation: number): void {
    const node = this.nodes.get(id)!
    const pending = node.pending
    if (node.generation !== generation || pending === undefined) return
    const ready = pending.ready
    if (this.options.trace !== undefined) this.trace(`node ${node.id} persists ${describeReady(ready)}`)
    this.persist(node, ready)
    if (!pending.sent) this.send(node, ready.messages)
    this.apply(node, ready)
    node.pending = undefined
    node.raft!.advance(ready)
    if (pending.leaderTerm > 0) this.checkLeader(node, pending.leaderTerm, ready)
    this.maybeSnapshot(node)
    this.pump(node)
  }

  /** Leader completeness, and the commit rule: a leader moves its commit index only onto an entry of its own term. */
  private checkLeader(node: SimNode, term: number, ready: Ready): void {
    const durable = node.durable
    this.checker.checkLeaderLog(node.id, term, durable)
    const commit = ready.hardState?.commit ?? 0
    if (commit > node.leaderCommitAtStart) this.checker.checkLeaderCommit(node.id, term, commit, durable.term(commit))
  }

  /** The fsync point: only here does the durable storage change. */
  private persist(node: SimNode, ready: Ready): void {
    const durable = node.durable
    if (ready.snapshot !== undefined) {
      durable.applySnapshot(ready.snapshot)
      this.trace(`node ${node.id} persists snapshot at ${ready.snapshot.metadata.index}`)
    }
    this.observeDurableEntries(node, ready.entries)
    durable.append(ready.entries)
    if (ready.hardState !== undefined) {
      durable.setHardState(ready.hardState)
      this.checker.observeDurableHardState(node.id, ready.hardState)
    }
    this.observeCommits(node)
  }

  private observeCommits(node: SimNode): void {
    const durable = node.durable
    const hardState = durable.hardState
    const snapshotIndex = durable.firstIndex() - 1
    if (hardState.commit > durable.lastIndex()) {
      throw new Violation('hard-state', `node ${node.id} commit ${hardState.commit} beyond its last index ${durable.lastIndex()}`)
    }
    let from = node.commitObserved + 1
    if (from <= snapshotIndex) {
      this.checker.observeCommitted(node.id, snapshotIndex, durable.term(snapshotIndex), hardState.term)
      from = snapshotIndex + 1
    }
    for (let index = from; index <= hardState.commit; index++) {
      this.checker.observeCommitted(node.id, index, durable.term(index), hardState.term)
    }
    node.commitObserved = Math.max(node.commitObserved, hardState.commit)
  }

  private send(node: SimNode, messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.from !== node.id && !FORWARDED_TYPES.has(m.type)) {
        throw new Violation('core-exception', `node ${node.id} sends a ${m.type} message from ${m.from}`)
      }
      if (isLocalMessage(m.type)) throw new Violation('core-exception', `node ${node.id} sends local message ${m.type}`)
      if (m.type === 'app' && m.entries.length > 0) this.checker.observeLog(node.id, m.entries, m.index, m.logTerm)
      for (const e of m.entries) Object.freeze(e)
      Object.freeze(m.entries)
      Object.freeze(m)
      const delays = this.network.route(node.id, m.to, this.now)
      for (const delay of delays) this.schedule(delay, { kind: 'deliver', sender: node.id, message: m })
      if (delays.length === 0) this.reportLoss(node.id, m)
    }
  }

  /** What a real transport tells its Raft node: a failed snapshot send, sometimes an unreachable peer. */
  private reportLoss(senderId: NodeId, m: Message): void {
    const sender = this.nodes.get(senderId)
    if (sender === undefined || !sender.isUp) return
    const snapshot = m.type === 'snap'
    if (!snapshot && !this.network.shouldReportUnreachable()) return
    const event: SimEvent = { kind: 'report', node: sender.id, generation: sender.generation, peer: m.to, snapshot, ok: false }
    this.schedule(this.swarm.network.delayUnitsMax, event)
  }

  private apply(node: SimNode, ready: Ready): void {
    if (ready.snapshot !== undefined) this.restoreSnapshot(node, ready.snapshot)
    const machine = node.machine!
    for (const entry of ready.committedEntries) {
      this.workload.serveReads(node)
      if (entry.index !== machine.applied + 1) {
        throw new Violation('core-exception', `node ${node.id} handed entry ${entry.index} to apply after ${machine.applied}`)
      }
      const put = machine.apply(entry)
      if (entry.type === 'conf-change') this.applyConfChange(node, entry)
      this.checker.observeApply(node.id, entry, machine.fingerprint)
      this.workload.onApply(node, entry, put)
    }
    for (const state of ready.readStates) this.workload.onReadState(node, state)
    this.workload.serveReads(node)
  }

  private restoreSnapshot(node: SimNode, snapshot: Snapshot): void {
    const machine = KvStateMachine.decode(snapshot.data)
    if (machine.applied !== snapshot.metadata.index) {
      throw new Violation('core-exception', `snapshot at ${snapshot.metadata.index} carries a machine at ${machine.applied}`)
    }
    machine.confState = snapshot.metadata.confState
    this.checker.observeRestore(node.id, machine.applied, machine.fingerprint)
    this.workload.onConfState(machine.confState)
    node.machine = machine
  }

  private applyConfChange(node: SimNode, entry: Entry): void {
    const change = decodeChange(entry.data)
    let confState: ConfState
    try {
      confState = node.raft!.applyConfChange(change)
    } catch (error) {
      const snapshot = node.pending?.snapshotDelivered
      if (snapshot === undefined) throw error
      // Name the cause: the core swapped in a snapshot's configuration under the entries in flight.
      throw new Violation(
        'core-exception',
        `node ${node.id}: applyConfChange(${describeChange(change)}) of entry ${entry.index} threw "${(error as Error).message}": ` +
          `a snapshot at ${snapshot} reached the core while this Ready's committed entries were being applied`,
      )
    }
    node.machine!.confState = confState
    // A follower drops a snapshot whose configuration does not list it, so a node just added could
    // only catch up from a snapshot taken after its addition: take one now (as a server must).
    node.snapshotDue = true
    this.workload.onConfState(confState)
    this.trace(`node ${node.id} applies conf change at ${entry.index}: voters ${confState.voters} outgoing ${confState.votersOutgoing} learners ${confState.learners}`)
  }

  /** The application's own snapshots: taken every few applied entries, with the log compacted behind. */
  private maybeSnapshot(node: SimNode): void {
    const machine = node.machine!
    const durable = node.durable
    const options = this.swarm.node
    const behind = machine.applied - durable.snapshot().metadata.index
    if (behind <= 0 || (behind < options.snapshotEntries && !node.snapshotDue)) return
    node.snapshotDue = false
    durable.createSnapshot(machine.applied, machine.confState, machine.encode())
    const compactIndex = machine.applied - options.compactRetain
    if (compactIndex > durable.firstIndex() - 1) durable.compact(compactIndex)
  }

  // ---- other events -----------------------------------------------------------------------------

  private onTick(id: NodeId, generation: number): void {
    const node = this.nodes.get(id)!
    if (node.generation !== generation || node.raft === undefined) return
    node.raft.tick()
    this.schedule(node.tickUnits, { kind: 'tick', node: id, generation })
    this.pump(node)
  }

  private onDeliver(senderId: NodeId, m: Message): void {
    const node = this.nodes.get(m.to)
    if (node === undefined || node.raft === undefined || this.network.isBlocked(senderId, m.to, this.now)) {
      this.reportLoss(senderId, m)
      return
    }
    if (this.options.trace !== undefined) this.trace(`deliver ${describeMessage(m)}`)
    // A network hands each receiver its own copy (the sender's is frozen: a core that touches a
    // message after handing it over fails loudly).
    this.stepCore(node, { ...m, entries: m.entries.map((e) => ({ ...e })) })
    if (m.type === 'snap' && node.pending !== undefined) node.pending.snapshotDelivered ??= m.snapshot?.metadata.index
    if (m.type === 'snap') {
      const sender = this.nodes.get(senderId)
      if (sender !== undefined && sender.isUp) {
        this.schedule(1, { kind: 'report', node: sender.id, generation: sender.generation, peer: m.to, snapshot: true, ok: true })
      }
    }
    this.pump(node)
  }

  private stepCore(node: SimNode, m: Message): void {
    try {
      node.raft!.step(m)
    } catch (error) {
      if (error instanceof RaftError) this.trace(`node ${node.id} refused ${m.type} from ${m.from}: ${error.code}`)
      else throw error
    }
  }

  private onReport(event: Extract<SimEvent, { kind: 'report' }>): void {
    const node = this.nodes.get(event.node)!
    if (node.generation !== event.generation || node.raft === undefined) return
    if (event.snapshot) node.raft.reportSnapshot(event.peer, event.ok)
    else node.raft.reportUnreachable(event.peer)
    this.pump(node)
  }

  private onRestart(id: NodeId): void {
    const node = this.nodes.get(id)!
    if (!node.isUp) this.restart(node)
  }

  private onClient(): void {
    this.workload.act()
    for (const node of this.nodes.values()) this.pump(node)
    const w = this.swarm.workload
    this.schedule(this.prng.int(w.clientUnitsMin, w.clientUnitsMax), { kind: 'client' })
  }

  private onFault(): void {
    this.schedule(this.swarm.faultUnits, { kind: 'fault' })
    if (this.liveness) return
    const ids = [...this.nodes.keys()]
    const leader = this.leader()
    for (const line of this.network.maybeInjectFaults(ids, this.now, leader?.id)) this.trace(`network: ${line}`)
    const options = this.swarm.node
    if (!this.prng.chance(options.crashProbability)) return
    const up = [...this.nodes.values()].filter((n) => n.isUp)
    const downCount = this.nodes.size - up.length
    if (downCount >= options.crashedMax || up.length === 0) return
    // Crashes of the leader strand half-replicated entries; crashes of followers lose unsynced writes.
    const hitLeader = leader !== undefined && leader.isUp && this.prng.chance(options.leaderCrashShare)
    const victim = hitLeader ? leader : this.prng.pick(up)
    this.crash(victim)
    this.schedule(this.prng.int(options.restartUnitsMin, options.restartUnitsMax), { kind: 'restart', node: victim.id })
  }
}

function hasQuorum(voters: readonly NodeId[], ok: (id: NodeId) => boolean): boolean {
  if (voters.length === 0) return true
  let count = 0
  for (const id of voters) if (ok(id)) count++
  return count > voters.length / 2
}

function classify(error: unknown): { kind: ViolationKind; message: string } {
  if (error instanceof Violation) return { kind: error.kind, message: error.message }
  if (error instanceof SimulatorError) return { kind: 'simulator', message: `simulator bug: ${error.message}` }
  // The message and where it was thrown: enough to file it; --verbose on the replay shows the rest.
  const frames = error instanceof Error ? (error.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at ')) : []
  const message = error instanceof Error ? `${error.name}: ${error.message} (${frames.slice(0, 2).map((f) => f.trim()).join(' ')})` : String(error)
  return { kind: 'core-exception', message: `uncaught exception: ${message}` }
}

function describeMessage(m: Message): string {
  let text = `${m.type} ${m.from}->${m.to} term ${m.term}`
  if (m.type === 'app' || m.type === 'app-resp') text += ` index ${m.index} logTerm ${m.logTerm} commit ${m.commit}`
  if (m.entries.length > 0) text += ` entries ${m.entries[0]!.index}..${m.entries[m.entries.length - 1]!.index}`
  if (m.reject) text += ` reject hint ${m.rejectHint}`
  if (m.snapshot !== undefined) text += ` snapshot ${m.snapshot.metadata.index}/${m.snapshot.metadata.term}`
  return text
}

function describeReady(ready: Ready): string {
  const parts: string[] = []
  const range = (entries: readonly Entry[]) => `${entries[0]!.index}..${entries[entries.length - 1]!.index}`
  if (ready.entries.length > 0) parts.push(`entries ${range(ready.entries)}`)
  if (ready.hardState !== undefined) parts.push(`hard state ${JSON.stringify(ready.hardState)}`)
  if (ready.committedEntries.length > 0) parts.push(`applies ${range(ready.committedEntries)}`)
  if (ready.messages.length > 0) parts.push(`sends ${ready.messages.length}`)
  if (ready.readStates.length > 0) parts.push(`read states ${ready.readStates.length}`)
  return parts.length === 0 ? 'nothing' : parts.join(', ')
}
