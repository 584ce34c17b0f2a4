import { describe, expect, it } from 'vitest'
import { RaftError } from './errors.ts'
import { MemoryStorage } from './memory-storage.ts'
import type { Entry } from './types.ts'
import { emptyConfState } from './types.ts'

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array(1) })

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    return err instanceof RaftError ? err.code : 'other'
  }
  return undefined
}

describe('MemoryStorage', () => {
  it('MemoryStorage.append() truncates a conflicting tail and refuses a gap', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(2, 1), e(3, 1)])
    s.append([e(2, 2)])
    expect([s.lastIndex(), s.term(2)]).toEqual([2, 2])
    expect(() => s.append([e(5, 2)])).toThrow(/missing log entry/)
  })

  it('MemoryStorage.compact() keeps the entry at the compaction index as the new dummy', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(2, 2), e(3, 3)])
    s.compact(2)
    expect([s.firstIndex(), s.lastIndex(), s.term(2)]).toEqual([3, 3, 2])
    expect(codeOf(() => s.term(1))).toBe('Compacted')
    expect(codeOf(() => s.entries(2, 4, 100))).toBe('Compacted')
    expect(codeOf(() => s.compact(2))).toBe('Compacted')
  })

  it('MemoryStorage.term() answers Unavailable past the end', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1)])
    expect(codeOf(() => s.term(2))).toBe('Unavailable')
  })

  it('MemoryStorage.createSnapshot() and applySnapshot() refuse older snapshots', () => {
    const s = new MemoryStorage()
    s.append([e(1, 1), e(2, 1)])
    s.createSnapshot(2, { ...emptyConfState(), voters: [1] }, new Uint8Array())
    expect(codeOf(() => s.createSnapshot(1, emptyConfState(), new Uint8Array()))).toBe('SnapshotOutOfDate')
    expect(codeOf(() => s.applySnapshot({ metadata: { index: 2, term: 1, confState: emptyConfState() }, data: new Uint8Array() }))).toBe(
      'SnapshotOutOfDate',
    )
    s.applySnapshot({ metadata: { index: 9, term: 3, confState: emptyConfState() }, data: new Uint8Array() })
    expect([s.firstIndex(), s.lastIndex(), s.term(9)]).toEqual([10, 9, 3])
  })

  it('MemoryStorage.initialState() returns copies', () => {
    const s = new MemoryStorage()
    s.setHardState({ term: 2, vote: 1, commit: 0 })
    const st = s.initialState()
    st.hardState.term = 99
    st.confState.voters.push(5)
    expect(s.initialState().hardState.term).toBe(2)
    expect(s.initialState().confState.voters).toEqual([])
  })
})
