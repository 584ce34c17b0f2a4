import { describe, expect, it } from 'vitest'
import { Cluster } from './cluster.ts'

describe('Raft election', () => {
  it('elects the campaigning node with a quorum of votes', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    expect(c.leader()).toBe(1)
    expect(c.get(2).node.status().softState.lead).toBe(1)
    expect(c.get(1).node.status().hardState.term).toBe(2)
  })

  it('commits proposals on every member', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.propose(1, 'a')
    c.propose(2, 'b') // forwarded by a follower
    for (const id of [1, 2, 3]) expect(c.appliedData(id)).toEqual(['a', 'b'])
  })

  it('elects someone by timeout alone', () => {
    const c = new Cluster([1, 2, 3])
    c.tickAll(25)
    expect(c.leader()).toBeDefined()
  })

  it('a minority cannot elect a leader (pre-vote keeps its term unchanged)', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.isolate(3)
    const termBefore = c.get(3).node.status().hardState.term
    c.tickAll(50)
    expect(c.get(3).node.status().softState.state).not.toBe('leader')
    expect(c.get(3).node.status().hardState.term).toBe(termBefore)
    c.heal()
    c.tickAll(5)
    expect(c.leader()).toBe(1) // the rejoining node did not disrupt the leader
  })

  it('a leader cut off from the quorum steps down (check-quorum)', () => {
    const c = new Cluster([1, 2, 3])
    c.campaign(1)
    c.isolate(1)
    c.tickAll(30)
    expect(c.get(1).node.status().softState.state).toBe('follower')
    expect([2, 3]).toContain(c.leader())
  })
})
