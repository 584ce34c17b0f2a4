import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RaftError } from './errors.ts'
import { RaftLog } from './log.ts'
import { MemoryStorage } from './memory-storage.ts'
import type { Entry } from './types.ts'
import { emptyConfState } from './types.ts'

const e = (index: number, term: number, text = ''): Entry => ({ index, term, type: 'normal', data: new TextEncoder().encode(text) })
const terms = (log: RaftLog) => log.allEntries().map((x) => x.term)

/** A log whose storage holds a snapshot at `snapIndex`/`snapTerm` and then entries with `storedTerms`; `unstableTerms` follow unsaved. */
function makeLog(storedTerms: number[], unstableTerms: number[] = [], snapIndex = 0, snapTerm = 0): RaftLog {
  const storage = new MemoryStorage()
  if (snapIndex > 0) storage.applySnapshot({ metadata: { index: snapIndex, term: snapTerm, confState: emptyConfState() }, data: new Uint8Array() })
  storage.append(storedTerms.map((t, i) => e(snapIndex + 1 + i, t)))
  const log = new RaftLog(storage, Number.MAX_SAFE_INTEGER)
  log.append(unstableTerms.map((t, i) => e(snapIndex + storedTerms.length + 1 + i, t)))
  return log
}

describe('RaftLog.maybeAppend()', () => {
  // The log is 1@1 2@2 3@3 throughout.
  const cases: Array<{ name: string; index: number; logTerm: number; commit: number; ents: Entry[]; want: number | undefined; wantTerms: number[]; wantCommit: number }> = [
    { name: 'refuses when the previous entry does not match (term)', index: 3, logTerm: 2, commit: 3, ents: [e(4, 4)], want: undefined, wantTerms: [1, 2, 3], wantCommit: 1 },
    { name: 'refuses when the previous entry is missing', index: 4, logTerm: 3, commit: 3, ents: [e(5, 4)], want: undefined, wantTerms: [1, 2, 3], wantCommit: 1 },
    { name: 'accepts an empty append at the last entry and commits', index: 3, logTerm: 3, commit: 3, ents: [], want: 3, wantTerms: [1, 2, 3], wantCommit: 3 },
    { name: 'never commits past the last new entry of the message', index: 2, logTerm: 2, commit: 3, ents: [], want: 2, wantTerms: [1, 2, 3], wantCommit: 2 },
    { name: 'appends new entries after the last one', index: 3, logTerm: 3, commit: 4, ents: [e(4, 4), e(5, 4)], want: 5, wantTerms: [1, 2, 3, 4, 4], wantCommit: 4 },
    { name: 'keeps the log when the entries are already there (no truncation of a longer log)', index: 1, logTerm: 1, commit: 1, ents: [e(2, 2)], want: 2, wantTerms: [1, 2, 3], wantCommit: 1 },
    { name: 'replaces a conflicting tail', index: 1, logTerm: 1, commit: 2, ents: [e(2, 4), e(3, 4), e(4, 4)], want: 4, wantTerms: [1, 4, 4, 4], wantCommit: 2 },
    { name: 'skips the matching prefix and replaces from the first conflict', index: 1, logTerm: 1, commit: 1, ents: [e(2, 2), e(3, 4)], want: 3, wantTerms: [1, 2, 4], wantCommit: 1 },
  ]
  for (const c of cases) {
    it(c.name, () => {
      const log = makeLog([1, 2, 3])
      log.commitTo(1)
      expect(log.maybeAppend(c.index, c.logTerm, c.commit, c.ents)).toBe(c.want)
      expect(terms(log)).toEqual(c.wantTerms)
      expect(log.committed).toBe(c.wantCommit)
    })
  }

  it('refuses (throws) to overwrite a committed entry', () => {
    const log = makeLog([1, 2, 3])
    log.commitTo(2)
    expect(() => log.maybeAppend(1, 1, 3, [e(2, 4)])).toThrow(/conflicts with committed/)
  })

  it('matches a naive model of §5.3 "delete the conflicting entry and all that follow; append any new ones"', () => {
    const termsArb = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 8 }).map((ts) => ts.sort((a, b) => a - b))
    fc.assert(
      fc.property(termsArb, fc.nat(9), fc.array(fc.integer({ min: 1, max: 5 }), { maxLength: 6 }), fc.integer({ min: 0, max: 5 }), (base, prev, newTermsRaw, prevTermPick) => {
        const log = makeLog(base)
        const prevIndex = Math.min(prev, base.length + 1)
        const prevTerm = prevTermPick === 0 ? (prevIndex === 0 ? 0 : (base[prevIndex - 1] ?? 9)) : prevTermPick
        const newTerms = newTermsRaw.sort((a, b) => a - b).map((t) => Math.max(t, prevTerm))
        const ents = newTerms.map((t, i) => e(prevIndex + 1 + i, t))
        // Model.
        const model = [...base]
        const matches = prevIndex === 0 ? prevTerm === 0 : prevIndex <= model.length && model[prevIndex - 1] === prevTerm
        let want: number | undefined
        if (matches) {
          for (const x of ents) {
            const have = model[x.index - 1]
            if (have === undefined) model.push(x.term)
            else if (have !== x.term) {
              model.length = x.index - 1
              model.push(x.term)
            }
          }
          want = prevIndex + ents.length
        }
        expect(log.maybeAppend(prevIndex, prevTerm, 0, ents)).toBe(want)
        expect(terms(log)).toEqual(model)
      }),
      { numRuns: 400 },
    )
  })
})

describe('RaftLog.findConflict() and findConflictByTerm()', () => {
  it('RaftLog.findConflict() returns the first mismatching index, the first new index, or 0', () => {
    const log = makeLog([1, 2, 3])
    expect(log.findConflict([e(1, 1), e(2, 2)])).toBe(0)
    expect(log.findConflict([e(2, 2), e(3, 4)])).toBe(3)
    expect(log.findConflict([e(3, 3), e(4, 3)])).toBe(4)
    expect(log.findConflict([])).toBe(0)
  })

  it('RaftLog.findConflictByTerm() finds the last index at or below `index` whose term is <= `term`', () => {
    const log = makeLog([1, 1, 3, 3, 5, 5])
    expect(log.findConflictByTerm(6, 4)).toEqual({ index: 4, term: 3 })
    expect(log.findConflictByTerm(6, 5)).toEqual({ index: 6, term: 5 })
    expect(log.findConflictByTerm(4, 2)).toEqual({ index: 2, term: 1 })
    expect(log.findConflictByTerm(6, 0)).toEqual({ index: 0, term: 0 })
  })

  it('RaftLog.findConflictByTerm() stops with term 0 (unknown) at the compaction point', () => {
    const log = makeLog([3, 3, 5], [], 4, 2) // snapshot 4@2, entries 5..7
    expect(log.findConflictByTerm(7, 4)).toEqual({ index: 6, term: 3 })
    expect(log.findConflictByTerm(7, 2)).toEqual({ index: 4, term: 2 }) // the snapshot's term is known
    expect(log.findConflictByTerm(7, 1)).toEqual({ index: 3, term: 0 })
  })

  it('RaftLog.findConflictByTerm() agrees with a linear scan of a random log', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 12 }), fc.nat(12), fc.integer({ min: 0, max: 7 }), (ts, idx, term) => {
        const sorted = [...ts].sort((a, b) => a - b)
        const log = makeLog(sorted)
        const index = Math.min(idx, sorted.length)
        let want = { index: 0, term: 0 }
        for (let i = index; i >= 1; i--) {
          if (sorted[i - 1]! <= term) {
            want = { index: i, term: sorted[i - 1]! }
            break
          }
        }
        expect(log.findConflictByTerm(index, term)).toEqual(want)
      }),
    )
  })
})

describe('RaftLog commit rules', () => {
  it('RaftLog.commitTo() never decreases the commit index', () => {
    const log = makeLog([1, 1, 1])
    log.commitTo(3)
    log.commitTo(1)
    expect(log.committed).toBe(3)
  })

  it('RaftLog.commitTo() refuses to commit past the last index', () => {
    const log = makeLog([1, 1])
    expect(() => log.commitTo(3)).toThrow(/out of range/)
  })

  it('RaftLog.maybeCommit() commits only an entry of the given (current) term (§5.4.2)', () => {
    const log = makeLog([1, 2, 2, 3])
    expect(log.maybeCommit(3, 3)).toBe(false)
    expect(log.committed).toBe(0)
    expect(log.maybeCommit(4, 3)).toBe(true)
    expect(log.committed).toBe(4)
    expect(log.maybeCommit(2, 3)).toBe(false) // never backwards
  })

  it('RaftLog.maybeCommit() with allowOldTerm (the planted bug) commits an old-term entry', () => {
    const log = makeLog([1, 2, 2, 3])
    expect(log.maybeCommit(3, 3, true)).toBe(true)
    expect(log.committed).toBe(3)
  })

  it('RaftLog.appliedTo() stays within [applied, committed]', () => {
    const log = makeLog([1, 1, 1])
    log.commitTo(2)
    log.appliedTo(2)
    expect(() => log.appliedTo(3)).toThrow(/out of range/)
    expect(() => log.appliedTo(1)).toThrow(/out of range/)
  })

  it('RaftLog.nextCommittedEnts() hands out committed entries once (applying), and none while a snapshot is pending', () => {
    const log = makeLog([1, 1, 1])
    log.commitTo(2)
    expect(log.nextCommittedEnts().map((x) => x.index)).toEqual([1, 2])
    log.acceptApplying(2)
    expect(log.nextCommittedEnts()).toEqual([])
    expect(log.hasNextCommittedEnts()).toBe(false)
    log.commitTo(3)
    expect(log.nextCommittedEnts().map((x) => x.index)).toEqual([3])
    log.restore({ metadata: { index: 10, term: 2, confState: emptyConfState() }, data: new Uint8Array() })
    expect(log.nextCommittedEnts()).toEqual([])
  })
})

describe('RaftLog.isUpToDate() (§5.4.1)', () => {
  it('prefers the higher last term, then the longer log', () => {
    const log = makeLog([1, 2, 2]) // last 3@2
    expect(log.isUpToDate(1, 3)).toBe(true)
    expect(log.isUpToDate(3, 2)).toBe(true)
    expect(log.isUpToDate(2, 2)).toBe(false)
    expect(log.isUpToDate(9, 1)).toBe(false)
  })
})

describe('RaftLog reading across storage and the unstable tail', () => {
  it('RaftLog.slice() joins stored and unstable entries', () => {
    const log = makeLog([1, 1], [2, 2])
    expect(log.slice(2, 5, Number.MAX_SAFE_INTEGER).map((x) => x.index)).toEqual([2, 3, 4])
  })

  it('RaftLog.slice() respects maxBytes but returns at least one entry', () => {
    const storage = new MemoryStorage()
    storage.append([e(1, 1, 'aaaa'), e(2, 1, 'bbbb')])
    const log = new RaftLog(storage, 1000)
    log.append([e(3, 1, 'cccc')])
    expect(log.slice(1, 4, 1).map((x) => x.index)).toEqual([1])
    expect(log.slice(1, 4, 2 * (24 + 4)).map((x) => x.index)).toEqual([1, 2])
    expect(log.slice(1, 4, 3 * (24 + 4)).map((x) => x.index)).toEqual([1, 2, 3])
  })

  it('RaftLog.entries() throws Compacted for an index behind the snapshot', () => {
    const log = makeLog([3, 3], [], 5, 2)
    expect(log.firstIndex()).toBe(6)
    let err: unknown
    try {
      log.entries(5, 100)
    } catch (x) {
      err = x
    }
    expect(err).toBeInstanceOf(RaftError)
    expect((err as RaftError).code).toBe('Compacted')
  })

  it('RaftLog.termOrUndefined() knows the snapshot term and nothing below it or past the end', () => {
    const log = makeLog([3, 3], [4], 5, 2)
    expect([log.termOrUndefined(4), log.termOrUndefined(5), log.termOrUndefined(6), log.termOrUndefined(8), log.termOrUndefined(9)]).toEqual([
      undefined,
      2,
      3,
      4,
      undefined,
    ])
  })

  it('RaftLog.restore() makes the snapshot the whole log, committed', () => {
    const log = makeLog([1, 1, 1])
    log.restore({ metadata: { index: 10, term: 4, confState: emptyConfState() }, data: new Uint8Array() })
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.committed]).toEqual([11, 10, 4, 10])
  })

  it('RaftLog.append() refuses to rewrite at or below the commit index', () => {
    const log = makeLog([1, 1, 1])
    log.commitTo(2)
    expect(() => log.append([e(2, 2)])).toThrow(/out of range/)
  })
})
