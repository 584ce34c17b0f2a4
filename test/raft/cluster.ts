// A minimal synchronous harness for Raft unit tests: nodes over MemoryStorage, a message queue
// delivered until quiet, optional dropped links. (The fault-injecting simulator lives in test/sim.)

import { decodeConfChange } from '../../core/raft/confchange-codec.ts'
import type { PlantedBugs } from '../../core/raft/config.ts'
import { MemoryStorage } from '../../core/raft/memory-storage.ts'
import { RawNode } from '../../core/raft/rawnode.ts'
import type { Entry, Message, NodeId, ReadState } from '../../core/raft/types.ts'
import { emptyConfState } from '../../core/raft/types.ts'

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 1
  return () => {
    // xorshift32: deterministic and good enough for election jitter in unit tests
    s ^= s << 13
    s >>>= 0
    s ^= s >>> 17
    s ^= s << 5
    s >>>= 0
    return s / 0x1_0000_0000
  }
}

export interface TestNode {
  id: NodeId
  node: RawNode
  storage: MemoryStorage
  applied: Entry[]
  readStates: ReadState[]
}

export interface ClusterOptions {
  preVote?: boolean
  checkQuorum?: boolean
  electionTick?: number
  heartbeatTick?: number
  bugs?: PlantedBugs
  learners?: NodeId[]
  maxInflightMsgs?: number
  maxSizePerMsg?: number
  maxUncommittedEntriesSize?: number
}

export class Cluster {
  readonly nodes = new Map<NodeId, TestNode>()
  queue: Message[] = []
  /** Links to drop, as "from-to" keys. */
  readonly dropped = new Set<string>()
  readonly log: string[] = []

  constructor(
    voters: NodeId[],
    private readonly opts: ClusterOptions = {},
  ) {
    for (const id of [...voters, ...(opts.learners ?? [])]) {
      const storage = new MemoryStorage()
      storage.applySnapshot({
        metadata: { index: 1, term: 1, confState: { ...emptyConfState(), voters: [...voters], learners: [...(opts.learners ?? [])] } },
        data: new Uint8Array(),
      })
      storage.setHardState({ term: 1, vote: 0, commit: 1 })
      this.addNode(id, storage)
    }
  }

  addNode(id: NodeId, storage = new MemoryStorage(), applied?: number): TestNode {
    const node = new RawNode({
      id,
      storage,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      random: seededRandom(id * 7919),
      preVote: this.opts.preVote ?? true,
      checkQuorum: this.opts.checkQuorum ?? true,
      maxInflightMsgs: this.opts.maxInflightMsgs ?? 256,
      maxSizePerMsg: this.opts.maxSizePerMsg ?? 1024 * 1024,
      maxUncommittedEntriesSize: this.opts.maxUncommittedEntriesSize ?? 0,
      ...(applied !== undefined ? { applied } : {}),
      ...(this.opts.bugs ? { bugs: this.opts.bugs } : {}),
    })
    const t: TestNode = { id, node, storage, applied: [], readStates: [] }
    this.nodes.set(id, t)
    return t
  }

  get(id: NodeId): TestNode {
    const t = this.nodes.get(id)
    if (!t) throw new Error(`no node ${id}`)
    return t
  }

  /** Carries out every pending Ready of every node once; returns whether anything happened. */
  processReadies(): boolean {
    let any = false
    for (const t of this.nodes.values()) {
      while (t.node.hasReady()) {
        any = true
        const rd = t.node.ready()
        if (rd.snapshot) t.storage.applySnapshot(rd.snapshot)
        if (rd.entries.length > 0) t.storage.append(rd.entries)
        if (rd.hardState) t.storage.setHardState(rd.hardState)
        this.queue.push(...rd.messages)
        for (const e of rd.committedEntries) {
          t.applied.push(e)
          if (e.type === 'conf-change') t.node.applyConfChange(decodeConfChange(e.data))
        }
        t.readStates.push(...rd.readStates)
        t.node.advance(rd)
      }
    }
    return any
  }

  /** Delivers messages until nothing moves (bounded, so a livelock fails the test instead of hanging). */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      const moved = this.processReadies()
      if (this.queue.length === 0 && !moved) return
      const batch = this.queue
      this.queue = []
      for (const m of batch) this.deliver(m)
    }
    throw new Error('cluster did not stabilize')
  }

  deliver(m: Message): void {
    if (this.dropped.has(`${m.from}-${m.to}`)) return
    const t = this.nodes.get(m.to)
    if (!t) return
    this.log.push(`${m.from}->${m.to} ${m.type} term=${m.term}`)
    t.node.step(m)
  }

  isolate(id: NodeId): void {
    for (const other of this.nodes.keys()) {
      if (other === id) continue
      this.dropped.add(`${id}-${other}`)
      this.dropped.add(`${other}-${id}`)
    }
  }

  heal(): void {
    this.dropped.clear()
  }

  campaign(id: NodeId): void {
    this.get(id).node.campaign()
    this.stabilize()
  }

  leader(): NodeId | undefined {
    for (const t of this.nodes.values()) if (t.node.status().softState.state === 'leader') return t.id
    return undefined
  }

  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const t of this.nodes.values()) t.node.tick()
      this.stabilize()
    }
  }

  propose(id: NodeId, text: string): void {
    this.get(id).node.propose(new TextEncoder().encode(text))
    this.stabilize()
  }

  appliedData(id: NodeId): string[] {
    return this.get(id)
      .applied.filter((e) => e.type === 'normal' && e.data.byteLength > 0)
      .map((e) => new TextDecoder().decode(e.data))
  }
}
