// The RawNode contract (core/raft/ready.ts, rawnode.ts): what a Ready carries and when, what
// advance() acknowledges, and which messages step() ignores.

import { describe, expect, it } from 'vitest'
import { RawNode } from '../../core/raft/rawnode.ts'
import type { RaftConfig } from '../../core/raft/config.ts'
import { message } from '../../core/raft/types.ts'
import { seededRandom } from './cluster.ts'
import { ConfiguredStorage } from './raft-helpers.ts'
import { emptyConfState } from '../../core/raft/types.ts'

function rawNode(id: number, voters: number[], extra: Partial<RaftConfig> = {}): { node: RawNode; storage: ConfiguredStorage } {
  const storage = new ConfiguredStorage({ ...emptyConfState(), voters })
  const node = new RawNode({ id, storage, electionTick: 10, heartbeatTick: 1, random: seededRandom(id), preVote: false, ...extra })
  return { node, storage }
}

/** Handles every pending Ready as a driver would; returns them. */
function drain(node: RawNode, storage: ConfiguredStorage) {
  const out = []
  while (node.hasReady()) {
    const rd = node.ready()
    if (rd.snapshot) storage.applySnapshot(rd.snapshot)
    storage.append(rd.entries)
    if (rd.hardState) storage.setHardState(rd.hardState)
    out.push(rd)
    node.advance(rd)
  }
  return out
}

describe('RawNode Ready and advance()', () => {
  it('a new node has nothing to do', () => {
    const { node } = rawNode(1, [1, 2, 3])
    expect(node.hasReady()).toBe(false)
  })

  it('a single voter elects itself at once; the Ready carries soft and hard state, the empty entry to save and to apply, and must sync', () => {
    const { node, storage } = rawNode(1, [1])
    node.campaign()
    const [rd, ...rest] = drain(node, storage)
    expect(rest).toEqual([])
    expect(rd?.softState).toEqual({ lead: 1, state: 'leader' })
    expect(rd?.hardState).toEqual({ term: 1, vote: 1, commit: 1 })
    expect(rd?.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['1@1'])
    expect(rd?.committedEntries.map((e) => e.index)).toEqual([1])
    expect(rd?.mustSync).toBe(true)
    expect(node.hasReady()).toBe(false)
  })

  it('soft and hard state appear only when they change; a commit-only change does not need a sync', () => {
    const { node, storage } = rawNode(1, [1, 2])
    node.campaign()
    drain(node, storage)
    node.step(message({ type: 'vote-resp', from: 2, to: 1, term: 1 }))
    drain(node, storage)
    node.step(message({ type: 'app-resp', from: 2, to: 1, term: 1, index: 1 })) // commits the empty entry
    const [rd] = drain(node, storage)
    expect(rd?.softState).toBeUndefined()
    expect(rd?.hardState).toEqual({ term: 1, vote: 1, commit: 1 })
    expect(rd?.mustSync).toBe(false)
    expect(rd?.committedEntries.map((e) => e.index)).toEqual([1])
  })

  it('committed entries are handed out once, and in pages of maxCommittedSizePerReady', () => {
    const { node, storage } = rawNode(1, [1], { maxCommittedSizePerReady: 1 })
    node.campaign()
    drain(node, storage)
    for (const x of ['a', 'b', 'c']) node.propose(new TextEncoder().encode(x))
    const applied = drain(node, storage).flatMap((rd) => rd.committedEntries.map((e) => e.index))
    expect(applied).toEqual([2, 3, 4])
  })

  it('read states are handed out once', () => {
    const { node, storage } = rawNode(1, [1])
    node.campaign()
    drain(node, storage)
    node.readIndex(new TextEncoder().encode('q'))
    const rds = drain(node, storage)
    expect(rds.flatMap((rd) => rd.readStates.map((s) => s.index))).toEqual([1])
    expect(node.hasReady()).toBe(false)
  })

  it('status() reports progress only on a leader', () => {
    const { node, storage } = rawNode(1, [1, 2])
    expect(node.status().progress).toBeUndefined()
    node.campaign()
    node.step(message({ type: 'vote-resp', from: 2, to: 1, term: 1 }))
    drain(node, storage)
    expect([...node.status().progress!.keys()].sort()).toEqual([1, 2])
  })
})

describe('RawNode.step()', () => {
  it('ignores local message types coming from the network', () => {
    const { node } = rawNode(1, [1, 2, 3])
    node.step(message({ type: 'hup', from: 2, to: 1 }))
    expect(node.status().softState.state).toBe('follower')
  })

  it('ignores responses from nodes that are not members', () => {
    const { node } = rawNode(1, [1, 2, 3])
    node.step(message({ type: 'app-resp', from: 9, to: 1, term: 5 }))
    expect(node.status().hardState.term).toBe(0)
  })

  it('a follower without a leader drops proposals with ProposalDropped', () => {
    const { node } = rawNode(1, [1, 2, 3])
    expect(() => node.propose(new Uint8Array([1]))).toThrow(expect.objectContaining({ code: 'ProposalDropped' }))
  })

  it('with disableProposalForwarding, a follower drops proposals even when it knows the leader', () => {
    const { node } = rawNode(2, [1, 2, 3], { disableProposalForwarding: true })
    node.step(message({ type: 'heartbeat', from: 1, to: 2, term: 1 }))
    expect(node.status().softState.lead).toBe(1)
    expect(() => node.propose(new Uint8Array([1]))).toThrow(expect.objectContaining({ code: 'ProposalDropped' }))
  })

  it('reportUnreachable() sends a replicating follower back to probe', () => {
    const { node, storage } = rawNode(1, [1, 2])
    node.campaign()
    node.step(message({ type: 'vote-resp', from: 2, to: 1, term: 1 }))
    drain(node, storage)
    node.step(message({ type: 'app-resp', from: 2, to: 1, term: 1, index: 1 }))
    expect(node.status().progress!.get(2)!.state).toBe('replicate')
    node.reportUnreachable(2)
    expect(node.status().progress!.get(2)!.state).toBe('probe')
  })
})

describe('Raft configuration validation', () => {
  const base = () => ({ id: 1, storage: new ConfiguredStorage({ ...emptyConfState(), voters: [1] }), electionTick: 10, heartbeatTick: 1, random: seededRandom(1) })
  const bad: Array<[string, Partial<RaftConfig>]> = [
    ['id 0', { id: 0 }],
    ['a fractional id', { id: 1.5 }],
    ['heartbeatTick 0', { heartbeatTick: 0 }],
    ['electionTick not above heartbeatTick', { electionTick: 1, heartbeatTick: 1 }],
    ['maxInflightMsgs 0', { maxInflightMsgs: 0 }],
  ]
  for (const [what, change] of bad) {
    it(`new RawNode() rejects ${what} with a RangeError`, () => {
      expect(() => new RawNode({ ...base(), ...change })).toThrow(RangeError)
    })
  }
})
