// Bugs found in the Raft core, each pinned by a minimal test: plain it() for bugs that have been
// fixed (regression tests), it.fails for open ones - those describe the correct behaviour and fail
// today; turn them into it() with the fix. (Smaller findings live next to their units:
// confchange/restore.test.ts, confchange-codec.test.ts.)

import { describe, expect, it } from 'vitest'
import { encodeConfChange } from '../../core/raft/confchange-codec.ts'
import type { ConfChange } from '../../core/raft/types.ts'
import { message } from '../../core/raft/types.ts'
import { entry, forceLeader, newTestRaft, takeMessages } from './raft-helpers.ts'
import { Env } from './transcript/env.ts'

describe('core bug (fixed): appended proposal entries aliased caller-owned objects', () => {
  // Raft.appendEntry() assigns term and index into the Entry objects of the proposal message in
  // place and keeps those same objects in the log (and in the append messages it sends). If the
  // same proposal message object is stepped twice - a transport or simulator that duplicates a
  // forwarded proposal without copying it, or a driver that retries step() with the same message -
  // the second append renumbers the entry already in the log: one object now sits at two indexes
  // and both claim the second index. Found by randomized schedules with message duplication:
  // MemoryStorage.append "missing log entry", RawNode.ready "applying(n) is out of range", nodes
  // applying n+2 right after n, and endless Ready loops; all disappear when duplicates are copies.
  // (In Go, etcd-io/raft copies entries by value, so it cannot alias.)
  it('stepping the same proposal message twice appends two independent entries and leaves the first intact', () => {
    const r = newTestRaft(1, { peers: [1, 2, 3], term: 1 })
    forceLeader(r) // term 2, entry 1@2
    const prop = message({ type: 'prop', from: 2, entries: [entry(0, 0, 'x')] })
    r.step(prop)
    const inFlight = takeMessages(r).find((m) => m.type === 'app' && m.to === 3)
    const sentIndexes = inFlight?.entries.map((e) => e.index)
    expect(sentIndexes).toContain(2)
    r.step(prop) // the same object again
    expect(r.raftLog.allEntries().map((e) => `${e.index}@${e.term}`)).toEqual(['1@2', '2@2', '3@2'])
    expect(inFlight?.entries.map((e) => e.index)).toEqual(sentIndexes) // an append already sent must not change
  })

  it('a duplicated forwarded proposal (same object delivered twice) leaves the leader log handed to storage intact', () => {
    const env = new Env()
    env.logLevel = 'none'
    env.capture(() => {
      env.addNodes(3, {}, {})
      env.get(1).raw.campaign()
      env.stabilize(new Set())
      env.propose(2, 'x')
      env.processReady(2)
    })
    const forwarded = env.queue.find((m) => m.type === 'prop')!
    env.queue.push(forwarded) // the network delivers it twice
    expect(() => env.capture(() => env.stabilize(new Set()))).not.toThrow()
    expect(env.get(1).stateMachine.map((it) => `${it.index}:${it.data}`)).toEqual(['3:x', '4:x'])
  })
})

describe('core bug (fixed): a conf change that leaves no voters was accepted, then could not be applied anywhere', () => {
  // The leader only refuses conf changes while another is pending or for the wrong joint state.
  // A change that removes (or demotes) every voter is appended and committed; every replica then
  // throws ConfChangeError "removed all voters" from applyConfChange when it reaches the entry,
  // and throws again after every restart, since the entry is replayed: one bad request stops the
  // whole cluster for good. The Changer works on copies, so the leader can validate a change
  // against its configuration when it is proposed and refuse it (as it refuses the others: an
  // empty normal entry in its place, or ProposalDropped).
  const cases: Array<[string, number[], ConfChange]> = [
    ['removing the only voter', [1], { transition: 'auto', changes: [{ type: 'remove', nodeId: 1 }], context: new Uint8Array() }],
    ['demoting the only voter', [1], { transition: 'auto', changes: [{ type: 'add-learner', nodeId: 1 }], context: new Uint8Array() }],
    [
      'a joint change removing every voter',
      [1, 2, 3],
      {
        transition: 'auto',
        changes: [1, 2, 3].map((nodeId) => ({ type: 'remove' as const, nodeId })),
        context: new Uint8Array(),
      },
    ],
  ]
  for (const [what, peers, cc] of cases) {
    it(`the leader refuses ${what} when it is proposed`, () => {
      const r = newTestRaft(1, { peers, term: 1 })
      forceLeader(r)
      let refused = false
      try {
        r.step(message({ type: 'prop', from: 1, entries: [{ term: 0, index: 0, type: 'conf-change', data: encodeConfChange(cc) }] }))
      } catch {
        refused = true
      }
      const last = r.raftLog.entries(r.raftLog.lastIndex(), 1 << 20)[0]!
      expect(refused || last.type === 'normal').toBe(true)
    })
  }

  it('a refused all-voters removal leaves the cluster applying normally', () => {
    const env = new Env()
    env.logLevel = 'none'
    env.capture(() => {
      env.addNodes(3, {}, {})
      env.get(1).raw.campaign()
      env.stabilize(new Set())
      env.proposeConfChange(1, cases[2]![2])
    })
    expect(() => env.capture(() => env.stabilize(new Set()))).not.toThrow()
  })
})

describe('core bug (fixed): a leader that removed or demoted itself stepped down after one best-effort broadcast', () => {
  // When the leader applies a configuration without itself as voter, switchToConfig() sends one
  // round of appends (to spread the commit index) and becomes follower at once; nothing retries.
  // If that round is lost, a voter of the new configuration may never learn that the change
  // committed, so it keeps counting the old voters; and the old leader, now a learner or removed,
  // never campaigns and never re-sends anything. With two voters, removing or demoting the
  // leader then leaves the remaining voter unable to win any election, forever: it needs the old
  // leader's vote, which is withheld (the old leader's log holds a later entry, §5.4.1) or absent
  // (the removed node was shut down, as operators do). Found by randomized schedules with a
  // liveness phase. (etcd-io/raft by default keeps a removed leader leading - StepDownOnRemoval is
  // false - and notes "TODO: ask follower with largest Match to TimeoutNow"; either would do here:
  // keep replicating until the new voters have the commit index, or hand over with timeout-now.)
  function twoNodesLeaderChangesItself(change: 'remove' | 'add-learner', proposeAfter: boolean): Env {
    const env = new Env()
    env.logLevel = 'none'
    env.capture(() => {
      env.addNodes(2, {}, {})
      env.get(1).raw.campaign()
      env.stabilize(new Set())
      env.proposeConfChange(1, { transition: 'auto', changes: [{ type: change, nodeId: 1 }], context: new Uint8Array() })
      env.processReady(1)
      env.deliverMsgs(new Set([2]), new Set(), undefined) // node 2 has the change (3@2) and acknowledges it
      env.processReady(2)
      if (proposeAfter) env.propose(1, 'x') // client traffic continues: 4@2 on node 1 only
      env.dropIf = (m) => m.from === 1 && m.to === 2 // everything node 1 sends from here on is lost
      env.stabilize(new Set()) // node 1 commits 3, applies it and steps down
      env.dropIf = undefined
    })
    return env
  }

  function electionsFor(env: Env, rounds: number): void {
    env.capture(() => {
      for (let r = 0; r < rounds; r++) {
        for (const n of env.sortedNodes()) env.tick(n.id, 1)
        env.stabilize(new Set())
      }
    })
  }

  it('today: the ex-leader is a learner and node 2 still counts it as a voter, commit unknown', () => {
    const env = twoNodesLeaderChangesItself('add-learner', true)
    expect(env.get(1).raw.status().config.learners).toEqual([1])
    expect([env.get(2).raw.status().config.voters, env.get(2).raw.raft.raftLog.committed]).toEqual([[1, 2], 2])
  })

  it('after the leader demotes itself and its step-down broadcast is lost, the remaining voter still gets elected', () => {
    const env = twoNodesLeaderChangesItself('add-learner', true)
    electionsFor(env, 200)
    expect(env.get(2).raw.raft.state).toBe('leader')
  })

  // A removed leader that is shut down before anyone learned that its removal committed cannot be
  // replaced (the remaining voter still needs its vote): no Raft can fix that. The driver must keep a
  // removed leader running until it has handed over (the member does: see core/server/member.ts).
  it('after the leader removes itself and keeps running, the remaining voter gets elected', () => {
    const env = twoNodesLeaderChangesItself('remove', false)
    electionsFor(env, 200)
    expect(env.get(2).raw.raft.state).toBe('leader')
  })

})
