// The clients: writes of unique values, linearizable reads, membership changes and leader
// transfers, issued throughout the run against whichever nodes are up. Every outstanding request
// is bounded in number and in age; a request whose node crashes is forgotten (its outcome is
// unknown to the client, which is exactly what a real client sees).

import { RaftError } from '../../core/raft/errors.ts'
import type { ConfChange, ConfChangeSingle, ConfState, Entry, NodeId, ReadState } from '../../core/raft/types.ts'
import { Violation } from './checker.ts'
import type { Checker, ReadCheck } from './checker.ts'
import type { SimNode } from './node.ts'
import type { Prng } from './prng.ts'
import type { Put } from './state-machine.ts'
import { encodePut } from './state-machine.ts'
import type { WorkloadOptions } from './swarm.ts'

export const PROPOSALS_PENDING_MAX = 64
export const READS_PENDING_MAX = 32
const READ_CONTEXT_MAGIC = 0x52

/** What the workload needs from the simulation around it. */
export interface WorkloadHost {
  readonly prng: Prng
  readonly checker: Checker
  now(): number
  nodes(): Iterable<SimNode>
  /** The up node that last reported itself leader with the highest term, if any. */
  leader(): SimNode | undefined
  /** Creates a new, empty node (not yet a member) if the seed's node budget allows. */
  spawn(): SimNode | undefined
  trace(line: string): void
}

interface Proposal {
  valueId: number
  key: number
  node: NodeId
  generation: number
  proposedAt: number
  probe: boolean
}

interface PendingRead extends ReadCheck {
  id: number
  generation: number
  startedAt: number
  readIndex: number | undefined
}

interface PendingConfChange {
  node: NodeId
  generation: number
  proposedAt: number
}

export interface WorkloadStats {
  proposed: number
  dropped: number
  acked: number
  readsStarted: number
  readsServed: number
  confChangesProposed: number
  confChangesApplied: number
  transfers: number
}

export class Workload {
  private valueIdNext = 1
  private readIdNext = 1
  private proposals = new Map<number, Proposal>()
  private reads = new Map<number, PendingRead>()
  private confChange: PendingConfChange | undefined
  private ackedKeyIndex = new Map<number, number>()
  private ackedIndexMax = 0
  /** IDs that ever appeared in an applied configuration: never added again once removed. */
  private everMember = new Set<NodeId>()
  /** Membership changes and transfers stop in the liveness phase. */
  membershipEnabled = true
  /** Client writes stop in the liveness phase too: only its probe write must get through. */
  writesEnabled = true
  probeAckedIndex = 0
  readonly stats: WorkloadStats = {
    proposed: 0,
    dropped: 0,
    acked: 0,
    readsStarted: 0,
    readsServed: 0,
    confChangesProposed: 0,
    confChangesApplied: 0,
    transfers: 0,
  }

  constructor(
    private readonly host: WorkloadHost,
    private readonly options: WorkloadOptions,
    /** Requests older than this many units are given up. */
    private readonly requestUnitsMax: number,
    initialVoters: readonly NodeId[],
  ) {
    for (const id of initialVoters) this.everMember.add(id)
  }

  /** One client action, chosen by the seed's weights. */
  act(): void {
    this.expire()
    const o = this.options
    const membership = this.membershipEnabled ? 1 : 0
    const choice = this.host.prng.weighted([
      o.proposeWeight,
      o.readWeight,
      o.confChangeWeight * membership,
      o.transferWeight * membership,
    ])
    if (choice === 0) {
      if (this.writesEnabled) this.propose(false)
    }
    else if (choice === 1) this.read()
    else if (choice === 2) this.changeMembership()
    else this.transfer()
  }

  private target(): SimNode | undefined {
    const prng = this.host.prng
    const leader = this.host.leader()
    if (leader !== undefined && prng.chance(this.options.leaderAffinity)) return leader
    const up = [...this.host.nodes()].filter((n) => n.isUp)
    return up.length === 0 ? undefined : prng.pick(up)
  }

  /** Proposes a write of a fresh value; a probe goes to the leader (the liveness phase's test of progress). */
  propose(probe: boolean): void {
    if (this.proposals.size >= PROPOSALS_PENDING_MAX) return
    const node = probe ? this.host.leader() : this.target()
    if (node === undefined || node.raft === undefined) return
    const prng = this.host.prng
    const put: Put = { key: probe ? 0 : prng.int(0, this.options.keyCount - 1), valueId: this.valueIdNext++ }
    const data = encodePut(put, prng.int(0, this.options.paddingBytesMax))
    this.stats.proposed++
    if (!this.tryCall(() => node.raft!.propose(data))) return
    this.proposals.set(put.valueId, {
      ...put,
      node: node.id,
      generation: node.generation,
      proposedAt: this.host.now(),
      probe,
    })
  }

  get probePending(): boolean {
    for (const p of this.proposals.values()) if (p.probe) return true
    return false
  }

  /** Calls into the core; a dropped proposal is an operating condition, anything else propagates. */
  private tryCall(call: () => void): boolean {
    try {
      call()
      return true
    } catch (error) {
      if (error instanceof RaftError && error.code === 'ProposalDropped') {
        this.stats.dropped++
        return false
      }
      throw error
    }
  }

  private read(): void {
    if (this.reads.size >= READS_PENDING_MAX) return
    const node = this.target()
    if (node === undefined || node.raft === undefined) return
    const key = this.host.prng.int(0, this.options.keyCount - 1)
    const id = this.readIdNext++
    const context = new Uint8Array(5)
    context[0] = READ_CONTEXT_MAGIC
    new DataView(context.buffer).setUint32(1, id, true)
    if (!this.tryCall(() => node.raft!.readIndex(context))) return
    this.stats.readsStarted++
    this.reads.set(id, {
      id,
      node: node.id,
      generation: node.generation,
      key,
      startedAt: this.host.now(),
      ackedIndexAtStart: this.ackedIndexMax,
      ackedKeyIndexAtStart: this.ackedKeyIndex.get(key) ?? 0,
      readIndex: undefined,
    })
  }

  onReadState(node: SimNode, state: ReadState): void {
    const context = state.requestContext
    if (context.byteLength !== 5 || context[0] !== READ_CONTEXT_MAGIC) throw new Violation('core-exception', `node ${node.id} got a read state for a context it never sent`)
    const id = new DataView(context.buffer, context.byteOffset, context.byteLength).getUint32(1, true)
    const read = this.reads.get(id)
    // Unknown: expired, or a duplicate answer. Another node's read must never surface here.
    if (read === undefined || read.readIndex !== undefined) return
    if (read.node !== node.id) throw new Violation('core-exception', `read ${id} of node ${read.node} answered on node ${node.id}`)
    if (read.generation !== node.generation) return
    read.readIndex = state.index
  }

  /** Serves every read of `node` whose read index is applied: called before each apply and after each batch. */
  serveReads(node: SimNode): void {
    const machine = node.machine
    if (machine === undefined) return
    for (const read of this.reads.values()) {
      if (read.node !== node.id || read.generation !== node.generation) continue
      if (read.readIndex === undefined || read.readIndex > machine.applied) continue
      this.host.checker.checkRead(read, read.readIndex, machine.read(read.key))
      this.reads.delete(read.id)
      this.stats.readsServed++
    }
  }

  onApply(node: SimNode, entry: Entry, put: Put | undefined): void {
    if (put !== undefined) {
      const proposal = this.proposals.get(put.valueId)
      if (proposal === undefined || proposal.node !== node.id || proposal.generation !== node.generation) return
      this.proposals.delete(put.valueId)
      this.acknowledge(proposal, entry)
      return
    }
    if (entry.type !== 'conf-change') return
    const pending = this.confChange
    if (pending !== undefined && pending.node === node.id && pending.generation === node.generation) {
      this.confChange = undefined
      this.stats.confChangesApplied++
    }
  }

  onConfState(confState: ConfState): void {
    for (const id of [...confState.voters, ...confState.learners, ...confState.votersOutgoing, ...confState.learnersNext]) {
      this.everMember.add(id)
    }
  }

  private acknowledge(proposal: Proposal, entry: Entry): void {
    this.stats.acked++
    this.host.checker.observeAck(entry.index, entry.term)
    if (entry.index > this.ackedIndexMax) this.ackedIndexMax = entry.index
    if (entry.index > (this.ackedKeyIndex.get(proposal.key) ?? 0)) this.ackedKeyIndex.set(proposal.key, entry.index)
    if (proposal.probe) this.probeAckedIndex = Math.max(this.probeAckedIndex, entry.index)
  }

  get ackedIndex(): number {
    return this.ackedIndexMax
  }

  onCrash(node: SimNode): void {
    for (const [id, p] of this.proposals) if (p.node === node.id) this.proposals.delete(id)
    for (const [id, r] of this.reads) if (r.node === node.id) this.reads.delete(id)
    if (this.confChange?.node === node.id) this.confChange = undefined
  }

  private expire(): void {
    const oldest = this.host.now() - this.requestUnitsMax
    for (const [id, p] of this.proposals) if (p.proposedAt < oldest) this.proposals.delete(id)
    for (const [id, r] of this.reads) if (r.startedAt < oldest) this.reads.delete(id)
    if (this.confChange !== undefined && this.confChange.proposedAt < oldest) this.confChange = undefined
  }

  private changeMembership(): void {
    if (this.confChange !== undefined) return
    const leader = this.host.leader()
    if (leader === undefined || leader.raft === undefined) return
    const config = leader.raft.status().config
    let change: ConfChange | undefined
    if (config.votersOutgoing.length > 0) {
      // Joint: an explicit transition waits for us to leave; an automatic one is the leader's job.
      if (config.autoLeave) return
      change = { transition: 'auto', changes: [], context: new Uint8Array() }
    } else {
      change = this.drawChange(config)
    }
    if (change === undefined) return
    this.host.trace(`client: node ${leader.id} proposes conf change ${describeChange(change)}`)
    this.stats.confChangesProposed++
    if (!this.tryCall(() => leader.raft!.proposeConfChange(change))) return
    this.confChange = { node: leader.id, generation: leader.generation, proposedAt: this.host.now() }
  }

  /** A fresh node for an add: one spawned earlier that never became a member, or a new one. */
  private newcomer(config: ConfState): SimNode | undefined {
    const members = new Set([...config.voters, ...config.learners])
    for (const node of this.host.nodes()) {
      if (!this.everMember.has(node.id) && !members.has(node.id)) return node
    }
    return this.host.spawn()
  }

  private drawChange(config: ConfState): ConfChange | undefined {
    const prng = this.host.prng
    const voters = config.voters
    const learners = config.learners
    const options: Array<() => ConfChangeSingle[] | undefined> = [
      () => single('add-voter', this.newcomer(config)?.id),
      () => single('add-learner', this.newcomer(config)?.id),
      () => (learners.length > 0 ? [{ type: 'add-voter', nodeId: prng.pick(learners) }] : undefined),
      () => (voters.length >= 3 ? [{ type: 'remove', nodeId: prng.pick(voters) }] : undefined),
      () => (voters.length >= 3 ? [{ type: 'add-learner', nodeId: prng.pick(voters) }] : undefined),
      () => (learners.length > 0 ? [{ type: 'remove', nodeId: prng.pick(learners) }] : undefined),
      () => {
        if (voters.length < 2) return undefined
        const added = this.newcomer(config)
        if (added === undefined) return undefined
        return [
          { type: 'add-voter', nodeId: added.id },
          { type: 'remove', nodeId: prng.pick(voters) },
        ]
      },
    ]
    const changes = prng.pick(options)()
    if (changes === undefined) return undefined
    const transition = prng.pick(['auto', 'auto', 'implicit', 'explicit'] as const)
    return { transition, changes, context: new Uint8Array() }
  }

  private transfer(): void {
    const leader = this.host.leader()
    if (leader === undefined || leader.raft === undefined) return
    const config = leader.raft.status().config
    const targets = config.voters.filter((id) => id !== leader.id)
    if (targets.length === 0) return
    const target = this.host.prng.pick(targets)
    this.host.trace(`client: leader ${leader.id} transfers leadership to ${target}`)
    this.stats.transfers++
    leader.raft.transferLeader(target)
  }
}

function single(type: ConfChangeSingle['type'], nodeId: NodeId | undefined): ConfChangeSingle[] | undefined {
  return nodeId === undefined ? undefined : [{ type, nodeId }]
}

export function describeChange(change: ConfChange): string {
  const parts = change.changes.map((c) => `${c.type} ${c.nodeId}`)
  return `${change.transition}[${parts.length === 0 ? 'leave-joint' : parts.join(', ')}]`
}
