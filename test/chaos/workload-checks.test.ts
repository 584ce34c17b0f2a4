// The pure checks of the lock and semaphore workloads, on hand-made histories: what must be flagged,
// and what must not (touching intervals, a hold that ended when its holder was told it had lost).

import { describe, expect, it } from 'vitest'
import { firstDescent, overlappingPairs } from './workloads/lock.ts'
import { peakOverlap } from './workloads/semaphore.ts'
import { AckSignal } from './workload.ts'

const hold = (name: string, start: number, end: number) => ({ name, start, end })

describe('lock workload checks', () => {
  it('overlappingPairs() finds two critical sections that overlap, even behind a short one', () => {
    const a = hold('a', 0, 100)
    const b = hold('b', 10, 20)
    const c = hold('c', 50, 150)
    expect(overlappingPairs([c, b, a]).map(([x, y]) => `${x.name}${y.name}`)).toEqual(['ab', 'ac'])
  })

  it('overlappingPairs() accepts holds that touch, and ignores empty ones', () => {
    expect(overlappingPairs([hold('a', 0, 100), hold('b', 100, 200), hold('c', 150, 150), hold('d', 200, 300)])).toEqual([])
  })

  it('firstDescent() flags a lower token accepted at a later revision, whatever the order given', () => {
    const entries = [
      { token: 12, revision: 40 },
      { token: 10, revision: 30 },
      { token: 12, revision: 41 },
      { token: 11, revision: 45 },
    ]
    expect(firstDescent(entries)).toEqual([
      { token: 12, revision: 41 },
      { token: 11, revision: 45 },
    ])
    expect(firstDescent(entries.slice(0, 3))).toBeUndefined()
  })
})

describe('semaphore workload checks', () => {
  it('peakOverlap() counts slots held at once, an end before a start at the same instant', () => {
    const r = peakOverlap([hold('a', 0, 100), hold('b', 50, 150), hold('c', 100, 200), hold('d', 120, 130)])
    expect(r.peak).toBe(3)
    expect(r.at).toBe(120)
    expect(r.open.map((x) => x.name).sort()).toEqual(['b', 'c', 'd'])
  })
})

describe('AckSignal', () => {
  it('next() resolves with the member of the next acknowledgement, or undefined after its timeout', async () => {
    const acks = new AckSignal()
    const waiting = acks.next(1_000)
    acks.notify(2)
    expect(await waiting).toBe(2)
    expect(await acks.next(10)).toBeUndefined()
    acks.notify(1) // nobody waits: dropped
  })
})
