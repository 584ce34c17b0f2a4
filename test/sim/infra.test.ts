import { describe, expect, it } from 'vitest'
import type { Entry } from '../../core/raft/types.ts'
import { Checker, Violation } from './checker.ts'
import { EventQueue } from './event-queue.ts'
import { Network } from './network.ts'
import { Prng } from './prng.ts'
import { chainFingerprint, decodePut, encodePut, KvStateMachine } from './state-machine.ts'
import type { NetworkOptions } from './swarm.ts'

function entry(index: number, term: number, text = ''): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(text) }
}

function violationOf(action: () => void): string | undefined {
  try {
    action()
    return undefined
  } catch (error) {
    if (error instanceof Violation) return error.kind
    throw error
  }
}

describe('Prng', () => {
  it('Prng replays the same stream for the same seed and differs across seeds', () => {
    const a = new Prng(42)
    const b = new Prng(42)
    const c = new Prng(43)
    const xs = Array.from({ length: 100 }, () => a.nextUint32())
    expect(Array.from({ length: 100 }, () => b.nextUint32())).toEqual(xs)
    expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs)
  })

  it('Prng.int() stays in bounds and covers them', () => {
    const prng = new Prng(1)
    const seen = new Set<number>()
    for (let i = 0; i < 2000; i++) {
      const x = prng.int(3, 9)
      expect(x).toBeGreaterThanOrEqual(3)
      expect(x).toBeLessThanOrEqual(9)
      seen.add(x)
    }
    expect(seen.size).toBe(7)
  })

  it('Prng.float() is roughly uniform', () => {
    const prng = new Prng(2 ** 40 + 5)
    let sum = 0
    for (let i = 0; i < 10_000; i++) sum += prng.float()
    expect(sum / 10_000).toBeGreaterThan(0.48)
    expect(sum / 10_000).toBeLessThan(0.52)
  })
})

describe('EventQueue', () => {
  it('EventQueue pops by time, then by insertion order', () => {
    const q = new EventQueue<string>(10)
    q.push(5, 'c')
    q.push(1, 'a')
    q.push(5, 'd')
    q.push(1, 'b')
    expect([q.pop()?.event, q.pop()?.event, q.pop()?.event, q.pop()?.event, q.pop()]).toEqual(['a', 'b', 'c', 'd', undefined])
  })

  it('EventQueue refuses events beyond its bound', () => {
    const q = new EventQueue<number>(2)
    expect(q.push(1, 1)).toBe(true)
    expect(q.push(1, 2)).toBe(true)
    expect(q.push(1, 3)).toBe(false)
    expect(q.length).toBe(2)
  })
})

describe('Network', () => {
  const options: NetworkOptions = {
    delayUnitsMin: 1,
    delayUnitsMax: 5,
    lossProbability: 0,
    duplicateProbability: 0,
    stallProbability: 0,
    partitionSymmetricProbability: 1,
    partitionAsymmetricProbability: 0,
    clogProbability: 0,
    faultUnitsMin: 100,
    faultUnitsMax: 100,
    reportUnreachableProbability: 0,
    leaderTargetShare: 0,
  }

  it('Network delivers within the delay bounds when healthy', () => {
    const network = new Network(new Prng(3), options)
    for (let i = 0; i < 100; i++) {
      const delays = network.route(1, 2, 0)
      expect(delays.length).toBe(1)
      expect(delays[0]).toBeGreaterThanOrEqual(1)
      expect(delays[0]).toBeLessThanOrEqual(5)
    }
  })

  it('Network cuts a symmetric partition both ways until it heals', () => {
    const network = new Network(new Prng(4), options)
    const done = network.maybeInjectFaults([1, 2, 3], 0, undefined)
    expect(done.length).toBe(1)
    let cut = 0
    for (const a of [1, 2, 3]) {
      for (const b of [1, 2, 3]) {
        if (a === b) continue
        expect(network.isBlocked(a, b, 10)).toBe(network.isBlocked(b, a, 10))
        if (network.isBlocked(a, b, 10)) cut++
      }
    }
    expect(cut).toBe(4) // one node against two: two links, both directions
    expect(network.isBlocked(1, 2, 1000) || network.isBlocked(1, 3, 1000) || network.isBlocked(2, 3, 1000)).toBe(false)
    network.maybeInjectFaults([1, 2, 3], 0, undefined)
    network.heal()
    for (const a of [1, 2, 3]) for (const b of [1, 2, 3]) expect(network.isBlocked(a, b, 10)).toBe(false)
  })

  it('Network loses everything at loss probability 1', () => {
    const network = new Network(new Prng(5), { ...options, lossProbability: 1 })
    expect(network.route(1, 2, 0)).toEqual([])
  })
})

describe('KvStateMachine', () => {
  it('KvStateMachine round-trips through a snapshot with the same fingerprint', () => {
    const machine = new KvStateMachine()
    machine.apply({ index: 1, term: 1, type: 'normal', data: encodePut({ key: 3, valueId: 7 }, 5) })
    machine.apply({ index: 2, term: 1, type: 'normal', data: new Uint8Array() })
    const copy = KvStateMachine.decode(machine.encode())
    expect(copy.applied).toBe(2)
    expect(copy.fingerprint).toEqual(machine.fingerprint)
    expect(copy.read(3)).toEqual({ valueId: 7, index: 1 })
  })

  it('chainFingerprint() depends on index, term and contents', () => {
    const start = { a: 0, b: 0 }
    const base = chainFingerprint(start, entry(1, 1, 'x'))
    expect(chainFingerprint(start, entry(1, 2, 'x'))).not.toEqual(base)
    expect(chainFingerprint(start, entry(2, 1, 'x'))).not.toEqual(base)
    expect(chainFingerprint(start, entry(1, 1, 'y'))).not.toEqual(base)
  })

  it('decodePut() reads what encodePut() wrote', () => {
    expect(decodePut(encodePut({ key: 255, valueId: 0xffffffff }, 0))).toEqual({ key: 255, valueId: 0xffffffff })
    expect(decodePut(new Uint8Array())).toBeUndefined()
  })
})

describe('Checker', () => {
  it('Checker flags two leaders in one term', () => {
    const checker = new Checker()
    checker.observeLeader(1, 3)
    checker.observeLeader(1, 3)
    expect(violationOf(() => checker.observeLeader(2, 3))).toBe('election-safety')
  })

  it('Checker flags the same (index, term) with different contents or predecessors', () => {
    const checker = new Checker()
    checker.observeLog(1, [entry(5, 2, 'a'), entry(6, 2, 'b')], 4, 1)
    expect(violationOf(() => checker.observeLog(2, [entry(6, 2, 'c')], 5, 2))).toBe('log-matching')
    expect(violationOf(() => checker.observeLog(3, [entry(5, 2, 'a')], 4, 2))).toBe('log-matching')
    expect(violationOf(() => checker.observeLog(4, [entry(5, 2, 'a'), entry(6, 2, 'b')], 4, 1))).toBeUndefined()
  })

  it('Checker flags different entries applied at one index', () => {
    const checker = new Checker()
    const e1 = entry(1, 1, 'a')
    const e2 = entry(1, 2, 'b')
    checker.observeApply(1, e1, chainFingerprint({ a: 0, b: 0 }, e1))
    expect(violationOf(() => checker.observeApply(2, e2, chainFingerprint({ a: 0, b: 0 }, e2)))).toBe('state-machine-safety')
  })

  it('Checker flags a leader missing an entry committed in an earlier term', () => {
    const checker = new Checker()
    checker.observeCommitted(1, 5, 2, 2)
    const log = { firstIndex: () => 1, lastIndex: () => 5, term: (i: number) => (i === 5 ? 3 : 1) }
    expect(violationOf(() => checker.checkLeaderLog(2, 4, log))).toBe('leader-completeness')
    checker.observeAck(5, 2)
    expect(violationOf(() => checker.checkLeaderLog(2, 4, log))).toBe('durability')
    // A leader of the term the entry was committed in (or earlier) is not bound by it.
    expect(violationOf(() => checker.checkLeaderLog(2, 2, log))).toBeUndefined()
  })

  it('Checker flags a read older than a write acknowledged before it', () => {
    const checker = new Checker()
    const read = { node: 1, key: 0, ackedIndexAtStart: 10, ackedKeyIndexAtStart: 8 }
    expect(violationOf(() => checker.checkRead(read, 9, { valueId: 1, index: 8 }))).toBe('linearizability')
    expect(violationOf(() => checker.checkRead(read, 10, { valueId: 1, index: 7 }))).toBe('linearizability')
    expect(violationOf(() => checker.checkRead(read, 10, { valueId: 1, index: 8 }))).toBeUndefined()
  })

  it('Checker flags a durable vote that changes within a term, and a term or commit that goes back', () => {
    const checker = new Checker()
    checker.observeDurableHardState(1, { term: 2, vote: 3, commit: 5 })
    expect(violationOf(() => checker.observeDurableHardState(1, { term: 2, vote: 4, commit: 5 }))).toBe('hard-state')
    const other = new Checker()
    other.observeDurableHardState(1, { term: 2, vote: 3, commit: 5 })
    expect(violationOf(() => other.observeDurableHardState(1, { term: 1, vote: 3, commit: 5 }))).toBe('hard-state')
  })

  it('Checker flags a leader committing an entry of an older term', () => {
    const checker = new Checker()
    expect(violationOf(() => checker.checkLeaderCommit(1, 4, 10, 3))).toBe('commit-rule')
    expect(violationOf(() => checker.checkLeaderCommit(1, 4, 11, 4))).toBeUndefined()
  })
})
