import { describe, expect, it } from 'vitest'
import type { Entry, Snapshot } from './types.ts'
import { emptyConfState } from './types.ts'
import { Unstable } from './unstable.ts'

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array() })
const snap = (index: number, term: number): Snapshot => ({ metadata: { index, term, confState: emptyConfState() }, data: new Uint8Array() })

function unstable(offset: number, entries: Entry[], s?: Snapshot): Unstable {
  const u = new Unstable(offset)
  u.entries = entries
  if (s) u.snapshot = s
  return u
}

describe('Unstable indexes and terms', () => {
  it('Unstable.maybeFirstIndex() is known only while a snapshot is pending', () => {
    expect(unstable(5, [e(5, 1)]).maybeFirstIndex()).toBeUndefined()
    expect(unstable(5, [e(5, 1)], snap(4, 1)).maybeFirstIndex()).toBe(5)
  })

  it('Unstable.maybeLastIndex() is the last entry, else the snapshot, else unknown', () => {
    expect(unstable(5, [e(5, 1), e(6, 1)]).maybeLastIndex()).toBe(6)
    expect(unstable(5, [], snap(4, 1)).maybeLastIndex()).toBe(4)
    expect(unstable(5, []).maybeLastIndex()).toBeUndefined()
  })

  it('Unstable.maybeTerm() answers for its entries and the snapshot index only', () => {
    const u = unstable(5, [e(5, 2), e(6, 3)], snap(4, 1))
    expect([u.maybeTerm(4), u.maybeTerm(5), u.maybeTerm(6), u.maybeTerm(7), u.maybeTerm(3)]).toEqual([1, 2, 3, undefined, undefined])
    expect(unstable(5, [e(5, 2)]).maybeTerm(4)).toBeUndefined()
  })
})

describe('Unstable.stableTo()', () => {
  it('drops the entries up to the saved one', () => {
    const u = unstable(5, [e(5, 1), e(6, 1), e(7, 1)])
    u.stableTo(6, 1)
    expect([u.offset, u.entries.map((x) => x.index)]).toEqual([7, [7]])
  })

  it('keeps everything when the saved entry was replaced by a different term meanwhile', () => {
    const u = unstable(5, [e(5, 1), e(6, 2)])
    u.stableTo(6, 1)
    expect([u.offset, u.entries.length]).toEqual([5, 2])
  })

  it('ignores indexes outside its entries (including the snapshot index)', () => {
    const u = unstable(5, [e(5, 1)], snap(4, 1))
    u.stableTo(4, 1)
    u.stableTo(9, 1)
    expect([u.offset, u.entries.length]).toEqual([5, 1])
  })
})

describe('Unstable snapshots', () => {
  it('Unstable.restore() replaces everything with the snapshot', () => {
    const u = unstable(5, [e(5, 1), e(6, 1)])
    u.restore(snap(10, 3))
    expect([u.offset, u.entries.length, u.snapshot?.metadata.index]).toEqual([11, 0, 10])
  })

  it('Unstable.stableSnapTo() clears only the matching snapshot', () => {
    const u = unstable(11, [], snap(10, 3))
    u.stableSnapTo(9)
    expect(u.snapshot).toBeDefined()
    u.stableSnapTo(10)
    expect(u.snapshot).toBeUndefined()
  })
})

describe('Unstable.truncateAndAppend()', () => {
  it('appends directly after the last entry', () => {
    const u = unstable(5, [e(5, 1)])
    u.truncateAndAppend([e(6, 1), e(7, 1)])
    expect([u.offset, u.entries.map((x) => x.index)]).toEqual([5, [5, 6, 7]])
  })

  it('replaces everything when the new entries start at or before the offset', () => {
    const u = unstable(5, [e(5, 1), e(6, 1)])
    u.truncateAndAppend([e(4, 2), e(5, 2)])
    expect([u.offset, u.entries.map((x) => `${x.index}@${x.term}`)]).toEqual([4, ['4@2', '5@2']])
  })

  it('truncates a conflicting tail in the middle', () => {
    const u = unstable(5, [e(5, 1), e(6, 1), e(7, 1)])
    u.truncateAndAppend([e(6, 2)])
    expect(u.entries.map((x) => `${x.index}@${x.term}`)).toEqual(['5@1', '6@2'])
  })
})

describe('Unstable.slice()', () => {
  it('returns [lo, hi) and refuses bounds outside its entries', () => {
    const u = unstable(5, [e(5, 1), e(6, 1), e(7, 1)])
    expect(u.slice(6, 8).map((x) => x.index)).toEqual([6, 7])
    expect(() => u.slice(4, 6)).toThrow()
    expect(() => u.slice(6, 9)).toThrow()
    expect(() => u.slice(7, 6)).toThrow()
  })
})
