// The interaction environment behind transcripts: RawNodes over in-memory storage, a message queue
// that only moves when a command says so, and a log of everything that happened, as text.
//
// Each node is driven exactly as the Ready contract says: persist the snapshot, entries and hard
// state, then hand the messages to the network, then apply committed entries, then advance().
// The "state machine" of a node is the list of normal entries it applied; a snapshot carries it.

import { decodeConfChange } from '../../../core/raft/confchange-codec.ts'
import type { PlantedBugs, RaftLogger } from '../../../core/raft/config.ts'
import { RaftError } from '../../../core/raft/errors.ts'
import { MemoryStorage } from '../../../core/raft/memory-storage.ts'
import { RawNode } from '../../../core/raft/rawnode.ts'
import type { ConfChange, ConfChangeSingle, ConfState, Message, NodeId, ReadState, Snapshot } from '../../../core/raft/types.ts'
import { emptyConfState } from '../../../core/raft/types.ts'
import { seededRandom } from '../cluster.ts'
import {
  describeConfState,
  describeContext,
  describeEntry,
  describeHardState,
  describeMessage,
  describeSnapshot,
} from './format.ts'

export type LogLevel = 'none' | 'warn' | 'info' | 'debug'
const LEVEL_RANK: Record<LogLevel, number> = { none: 0, warn: 1, info: 2, debug: 3 }

export interface NodeOptions {
  electionTick: number
  heartbeatTick: number
  preVote: boolean
  checkQuorum: boolean
  maxInflightMsgs: number
  maxInflightBytes: number
  maxSizePerMsg: number
  maxUncommittedEntriesSize: number
  maxCommittedSizePerReady: number
  bugs: PlantedBugs
  seed: number
}

export const DEFAULT_NODE_OPTIONS: NodeOptions = {
  electionTick: 10,
  heartbeatTick: 1,
  preVote: true,
  checkQuorum: true,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxSizePerMsg: 1024 * 1024,
  maxUncommittedEntriesSize: 0,
  maxCommittedSizePerReady: 16 * 1024 * 1024,
  bugs: {},
  seed: 0,
}

/** An applied normal entry: the state machine is the list of them. */
export interface AppliedItem {
  index: number
  data: string
}

/** MemoryStorage plus a name for the stored snapshot (snapshots are only taken by `compact`). */
export class HarnessStorage extends MemoryStorage {
  storedSnapshot(): Snapshot {
    return this.snapshot()
  }
}

export interface EnvNode {
  id: NodeId
  raw: RawNode
  storage: HarnessStorage
  options: NodeOptions
  stateMachine: AppliedItem[]
  applied: number
  /** Configuration after each applied index where it changed, oldest first. */
  confHistory: Array<{ index: number; confState: ConfState }>
  readStates: ReadState[]
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeStateMachine(items: readonly AppliedItem[]): Uint8Array {
  return encoder.encode(JSON.stringify(items))
}

export function decodeStateMachine(data: Uint8Array): AppliedItem[] {
  if (data.byteLength === 0) return []
  return JSON.parse(decoder.decode(data)) as AppliedItem[]
}

export class Env {
  readonly nodes = new Map<NodeId, EnvNode>()
  /** Messages handed to the network and not yet delivered, in send order. */
  queue: Message[] = []
  readonly isolated = new Set<NodeId>()
  /** Symmetric cut links, as "a-b" with a < b. */
  readonly cuts = new Set<string>()
  logLevel: LogLevel = 'info'
  /** Messages for which this returns true are dropped on delivery, like a cut link (for scripted tests). */
  dropIf: ((m: Message) => boolean) | undefined = undefined
  private out: string[] = []
  private indent = ''

  // ---- output ----

  /** Collects everything printed while `fn` runs. */
  capture(fn: () => void): string[] {
    const saved = this.out
    this.out = []
    try {
      fn()
      return this.out
    } finally {
      this.out = saved
    }
  }

  print(line: string): void {
    this.out.push(this.indent + line)
  }

  private nested(fn: () => void): void {
    const saved = this.indent
    this.indent += '  '
    try {
      fn()
    } finally {
      this.indent = saved
    }
  }

  private loggerFor(): RaftLogger {
    const emit = (level: LogLevel, tag: string) => (msg: string) => {
      if (LEVEL_RANK[level] <= LEVEL_RANK[this.logLevel]) this.print(`${tag} ${msg}`)
    }
    return { debug: emit('debug', 'DEBUG'), info: emit('info', 'INFO'), warn: emit('warn', 'WARN') }
  }

  // ---- nodes ----

  get(id: NodeId): EnvNode {
    const n = this.nodes.get(id)
    if (!n) throw new Error(`no node ${id}`)
    return n
  }

  sortedNodes(): EnvNode[] {
    return [...this.nodes.values()].sort((a, b) => a.id - b.id)
  }

  /**
   * Adds `count` nodes with the next free ids. With a configuration (or for the first nodes) they
   * are bootstrapped from a snapshot at `index` (term 1) holding it; otherwise they start empty, as
   * a member joining through a configuration change does.
   */
  addNodes(count: number, conf: { voters?: NodeId[]; learners?: NodeId[]; index?: number }, options: Partial<NodeOptions>): EnvNode[] {
    const first = Math.max(0, ...this.nodes.keys()) + 1
    const newIds = Array.from({ length: count }, (_, i) => first + i)
    const bootstrap = conf.voters !== undefined || conf.learners !== undefined || this.nodes.size === 0
    const confState: ConfState = { ...emptyConfState(), voters: conf.voters ?? newIds, learners: conf.learners ?? [] }
    const index = conf.index ?? 1
    const added: EnvNode[] = []
    for (const id of newIds) {
      const storage = new HarnessStorage()
      if (bootstrap) {
        storage.applySnapshot({ metadata: { index, term: 1, confState }, data: new Uint8Array() })
        storage.setHardState({ term: 1, vote: 0, commit: index })
      }
      const opts: NodeOptions = { ...DEFAULT_NODE_OPTIONS, ...options }
      added.push(this.startNode(id, storage, opts))
    }
    return added
  }

  /** Starts (or restarts) a node from what its storage holds; volatile state comes from the snapshot. */
  private startNode(id: NodeId, storage: HarnessStorage, options: NodeOptions): EnvNode {
    const snap = storage.storedSnapshot()
    const applied = snap.metadata.index
    const raw = new RawNode({
      id,
      storage,
      electionTick: options.electionTick,
      heartbeatTick: options.heartbeatTick,
      random: seededRandom(id * 7919 + options.seed),
      preVote: options.preVote,
      checkQuorum: options.checkQuorum,
      maxInflightMsgs: options.maxInflightMsgs,
      maxInflightBytes: options.maxInflightBytes,
      maxSizePerMsg: options.maxSizePerMsg,
      maxUncommittedEntriesSize: options.maxUncommittedEntriesSize,
      maxCommittedSizePerReady: options.maxCommittedSizePerReady,
      bugs: options.bugs,
      logger: this.loggerFor(),
      ...(applied > 0 ? { applied } : {}),
    })
    const node: EnvNode = {
      id,
      raw,
      storage,
      options,
      stateMachine: decodeStateMachine(snap.data),
      applied,
      confHistory: [{ index: applied, confState: snap.metadata.confState }],
      readStates: [],
    }
    this.nodes.set(id, node)
    return node
  }

  /** Drops all volatile state of a node (unsaved Ready, state machine) and starts it from storage. */
  restart(id: NodeId): void {
    const n = this.get(id)
    this.startNode(id, n.storage, n.options)
  }

  confStateAt(n: EnvNode, index: number): ConfState {
    let cs = n.confHistory[0]!.confState
    for (const h of n.confHistory) if (h.index <= index) cs = h.confState
    return cs
  }

  private takeSnapshot(n: EnvNode, index: number): Snapshot {
    const items = n.stateMachine.filter((it) => it.index <= index)
    return n.storage.createSnapshot(index, this.confStateAt(n, index), encodeStateMachine(items))
  }

  /** Snapshots the applied state at `index` and discards the log up to it. */
  compact(id: NodeId, index: number): void {
    const n = this.get(id)
    if (index > n.applied) throw new RangeError(`compact ${index}: node ${id} has only applied ${n.applied}`)
    const snap = index > n.storage.storedSnapshot().metadata.index ? this.takeSnapshot(n, index) : n.storage.storedSnapshot()
    n.storage.compact(index)
    this.print(`snapshot ${describeSnapshot(snap)}`)
    this.print(`log first=${n.storage.firstIndex()} last=${n.storage.lastIndex()}`)
  }

  // ---- the Ready loop ----

  /** Handles one Ready of `id` if it has one; returns whether it did. */
  processReady(id: NodeId): boolean {
    const n = this.get(id)
    if (!n.raw.hasReady()) return false
    const rd = n.raw.ready()
    this.print(`ready ${id}${rd.mustSync ? ' (must-sync)' : ''}`)
    this.nested(() => {
      if (rd.softState) this.print(`soft-state ${rd.softState.state} lead=${rd.softState.lead}`)
      if (rd.hardState) this.print(`hard-state ${describeHardState(rd.hardState)}`)
      // 1. Persist: snapshot, then entries, then hard state.
      if (rd.snapshot) {
        this.print(`snapshot ${describeSnapshot(rd.snapshot)}`)
        n.storage.applySnapshot(rd.snapshot)
        n.stateMachine = decodeStateMachine(rd.snapshot.data)
        n.applied = rd.snapshot.metadata.index
        n.confHistory = [{ index: n.applied, confState: rd.snapshot.metadata.confState }]
      }
      for (const e of rd.entries) this.print(`append ${describeEntry(e)}`)
      n.storage.append(rd.entries)
      if (rd.hardState) n.storage.setHardState(rd.hardState)
      // 2. Only now may messages leave.
      for (const m of rd.messages) this.print(`send ${describeMessage(m)}`)
      this.queue.push(...rd.messages)
      // 3. Apply.
      for (const e of rd.committedEntries) {
        this.print(`apply ${describeEntry(e)}`)
        if (e.index !== n.applied + 1) throw new Error(`node ${id} applies ${e.index} after ${n.applied}`)
        n.applied = e.index
        if (e.type === 'conf-change') {
          this.nested(() => {
            const cs = n.raw.applyConfChange(decodeConfChange(e.data))
            n.confHistory.push({ index: e.index, confState: cs })
            this.print(`config ${describeConfState(cs)}`)
          })
        } else if (e.data.byteLength > 0) {
          n.stateMachine.push({ index: e.index, data: decoder.decode(e.data) })
        }
      }
      for (const rs of rd.readStates) this.print(`read-state ctx=${describeContext(rs.requestContext)} index=${rs.index}`)
      n.readStates.push(...rd.readStates)
      // 4. Acknowledge.
      n.raw.advance(rd)
    })
    return true
  }

  // ---- the network ----

  private linkCut(from: NodeId, to: NodeId): boolean {
    if (this.isolated.has(from) || this.isolated.has(to)) return true
    const key = from < to ? `${from}-${to}` : `${to}-${from}`
    return this.cuts.has(key)
  }

  cut(a: NodeId, b: NodeId): void {
    this.cuts.add(a < b ? `${a}-${b}` : `${b}-${a}`)
  }

  heal(): void {
    this.isolated.clear()
    this.cuts.clear()
  }

  /** Steps one message into its recipient (or drops it on a cut link). */
  deliver(m: Message): void {
    const n = this.nodes.get(m.to)
    if (this.linkCut(m.from, m.to) || !n || this.dropIf?.(m) === true) {
      this.print(`drop ${describeMessage(m)}${n ? '' : ' (no such node)'}`)
      if (m.type === 'snap') this.reportSnapshot(m, false)
      return
    }
    this.print(`deliver ${describeMessage(m)}`)
    this.nested(() => {
      try {
        n.raw.step(m)
      } catch (e) {
        this.print(describeError(e))
      }
    })
    if (m.type === 'snap') this.reportSnapshot(m, true)
  }

  /** A driver tells the sender of a snapshot whether it got through (RawNode.reportSnapshot). */
  private reportSnapshot(m: Message, ok: boolean): void {
    const sender = this.nodes.get(m.from)
    if (!sender) return
    this.nested(() => {
      this.print(`report-snapshot ${m.from}: to ${m.to} ${ok ? 'ok' : 'failed'}`)
      sender.raw.reportSnapshot(m.to, ok)
    })
  }

  /**
   * Delivers the queued messages addressed to `to` (all when empty), discarding those addressed to
   * a node in `drop`, optionally only those of one type. Others stay queued, in order.
   */
  deliverMsgs(to: ReadonlySet<NodeId>, drop: ReadonlySet<NodeId>, type: string | undefined): number {
    const batch = this.queue
    this.queue = []
    let delivered = 0
    for (const m of batch) {
      const selected = (to.size === 0 || to.has(m.to) || drop.has(m.to)) && (type === undefined || m.type === type)
      if (!selected) {
        this.queue.push(m)
      } else if (drop.has(m.to)) {
        this.print(`drop ${describeMessage(m)}`)
      } else {
        this.deliver(m)
        delivered++
      }
    }
    return delivered
  }

  /** Alternates Ready handling and delivery among `among` (all when empty) until nothing moves. */
  stabilize(among: ReadonlySet<NodeId>, roundsMax = 1000): void {
    const included = (id: NodeId) => among.size === 0 || among.has(id)
    for (let round = 0; round < roundsMax; round++) {
      let moved = false
      for (const n of this.sortedNodes()) {
        if (!included(n.id)) continue
        while (this.processReady(n.id)) moved = true
      }
      const deliverable = this.queue.filter((m) => included(m.to))
      if (deliverable.length === 0 && !moved) return
      this.queue = this.queue.filter((m) => !included(m.to))
      for (const m of deliverable) this.deliver(m)
    }
    throw new Error(`no quiescence after ${roundsMax} rounds`)
  }

  // ---- driving nodes ----

  tick(id: NodeId, times: number): void {
    const n = this.get(id)
    for (let i = 0; i < times; i++) n.raw.tick()
  }

  /** Ticks just enough for the node's election timer to fire (for a leader: one check-quorum round). */
  ticksToElection(id: NodeId): number {
    const r = this.get(id).raw.raft
    if (r.state === 'leader') return Math.max(1, r.electionTimeout - r.electionElapsed)
    return Math.max(1, r.randomizedElectionTimeout - r.electionElapsed)
  }

  propose(id: NodeId, data: string): void {
    this.get(id).raw.propose(encoder.encode(data))
  }

  proposeConfChange(id: NodeId, cc: ConfChange): void {
    this.get(id).raw.proposeConfChange(cc)
  }

  // ---- inspection ----

  describeStatus(id: NodeId): void {
    const n = this.get(id)
    const st = n.raw.status()
    const log = n.raw.raft.raftLog
    const timer = n.raw.raft.state === 'leader' ? n.raw.raft.electionTimeout : n.raw.raft.randomizedElectionTimeout
    this.print(
      `${id} ${st.softState.state} ${describeHardState(st.hardState)} lead=${st.softState.lead} applied=${n.applied} election-elapsed=${n.raw.raft.electionElapsed}/${timer}`,
    )
    this.print(`log first=${log.firstIndex()} last=${log.lastIndex()}@${log.lastTerm()} snapshot=${describeSnapshot(n.storage.storedSnapshot())}`)
    this.print(`config ${describeConfState(st.config)}`)
    if (st.leadTransferee !== 0) this.print(`transferring leadership to ${st.leadTransferee}`)
    const r = n.raw.raft
    if (r.state === 'leader') {
      r.trk.visit((pid, pr) => this.print(`progress ${pid}: ${pr.toString()}${pr.recentActive ? '' : ' inactive'}`))
    }
    this.print(`state-machine [${n.stateMachine.map((it) => it.data).join(' ')}]`)
  }

  describeLog(id: NodeId): void {
    const n = this.get(id)
    const log = n.raw.raft.raftLog
    this.print(`first=${log.firstIndex()} last=${log.lastIndex()} commit=${log.committed} applied=${log.applied}`)
    const unstableFrom = log.unstable.offset
    for (const e of log.allEntries()) this.print(`${describeEntry(e)}${e.index >= unstableFrom ? ' (unstable)' : ''}`)
  }

  describeRaftState(): void {
    for (const n of this.sortedNodes()) {
      const r = n.raw.raft
      const log = r.raftLog
      const cs = n.raw.status().config
      this.print(
        `${n.id}: ${r.state} term=${r.term} lead=${r.lead} last=${log.lastIndex()}@${log.lastTerm()} commit=${log.committed} applied=${n.applied} ${describeConfState(cs)}`,
      )
    }
  }
}

export function describeError(e: unknown): string {
  if (e instanceof RaftError) return `error: ${e.code}`
  if (e instanceof Error) return `error: ${e.name}: ${e.message}`
  return `error: ${String(e)}`
}

/** Parses "v4", "l5", "r2" into single changes. */
export function parseConfChangeSingle(token: string): ConfChangeSingle {
  const m = /^([vlr])(\d+)$/.exec(token)
  if (!m) throw new SyntaxError(`conf change ${JSON.stringify(token)}: expected v<id>, l<id> or r<id>`)
  const type = ({ v: 'add-voter', l: 'add-learner', r: 'remove' } as const)[m[1] as 'v' | 'l' | 'r']
  return { type, nodeId: Number(m[2]) }
}
