import { describe, expect, it } from 'vitest'
import { Progress } from './progress.ts'

function progress(fields: Partial<Pick<Progress, 'match' | 'next' | 'state' | 'pendingSnapshot' | 'probeSent'>>, inflights = 4): Progress {
  const pr = new Progress(fields.next ?? 1, inflights, 0)
  Object.assign(pr, fields)
  return pr
}

describe('Progress state transitions', () => {
  it('Progress.becomeReplicate() resumes right after the match and empties the window', () => {
    const pr = progress({ match: 5, next: 9, state: 'probe', probeSent: true })
    pr.becomeReplicate()
    expect([pr.state, pr.next, pr.probeSent, pr.inflights.count()]).toEqual(['replicate', 6, false, 0])
  })

  it('Progress.becomeProbe() from replicate restarts at match+1 and forgets in-flight messages', () => {
    const pr = progress({ match: 5, next: 5, state: 'replicate' })
    pr.becomeReplicate()
    pr.sentEntries(3, 30)
    expect(pr.next).toBe(9)
    pr.becomeProbe()
    expect([pr.state, pr.next, pr.inflights.count()]).toEqual(['probe', 6, 0])
  })

  it('Progress.becomeProbe() after a snapshot resumes past the snapshot (or the match, if further)', () => {
    const a = progress({ match: 3 })
    a.becomeSnapshot(10)
    a.becomeProbe()
    expect([a.state, a.next, a.pendingSnapshot]).toEqual(['probe', 11, 0])
    const b = progress({ match: 12 })
    b.becomeSnapshot(10)
    b.becomeProbe()
    expect(b.next).toBe(13)
  })

  it('Progress.becomeSnapshot() records the pending snapshot and pauses sending', () => {
    const pr = progress({ match: 1, next: 2 })
    pr.becomeSnapshot(7)
    expect([pr.state, pr.pendingSnapshot, pr.isPaused()]).toEqual(['snapshot', 7, true])
  })

  it('Progress.isPaused() in probe holds only while a probe is unanswered; in replicate only when the window is full', () => {
    const probe = progress({ state: 'probe', next: 3 })
    expect(probe.isPaused()).toBe(false)
    probe.sentEntries(1, 1)
    expect(probe.isPaused()).toBe(true)
    const rep = progress({ match: 2, next: 3 }, 2)
    rep.becomeReplicate()
    rep.sentEntries(1, 1)
    expect(rep.isPaused()).toBe(false)
    rep.sentEntries(1, 1)
    expect(rep.isPaused()).toBe(true)
  })

  it('Progress.sentEntries() in replicate advances next past the entries sent; an empty append adds nothing in flight', () => {
    const pr = progress({ match: 4, next: 5 })
    pr.becomeReplicate()
    pr.sentEntries(0, 0)
    expect([pr.next, pr.inflights.count()]).toEqual([5, 0])
    pr.sentEntries(2, 10)
    expect([pr.next, pr.inflights.count()]).toEqual([7, 1])
  })

  it('Progress.sentEntries() in snapshot state is a programmer error', () => {
    const pr = progress({})
    pr.becomeSnapshot(3)
    expect(() => pr.sentEntries(1, 1)).toThrow()
  })
})

describe('Progress.maybeUpdate()', () => {
  it('raises match and next on a newer acknowledgement and unpauses a probe', () => {
    const pr = progress({ match: 2, next: 3, probeSent: true })
    expect(pr.maybeUpdate(5)).toBe(true)
    expect([pr.match, pr.next, pr.probeSent]).toEqual([5, 6, false])
  })

  it('ignores a stale acknowledgement (but never lets next fall behind it)', () => {
    const pr = progress({ match: 5, next: 9 })
    expect(pr.maybeUpdate(4)).toBe(false)
    expect([pr.match, pr.next]).toEqual([5, 9])
  })
})

describe('Progress.maybeDecrTo()', () => {
  it('in replicate: a rejection at or below the match is stale and ignored', () => {
    const pr = progress({ match: 5, next: 5 })
    pr.becomeReplicate()
    pr.sentEntries(3, 3)
    expect(pr.maybeDecrTo(5, 0)).toBe(false)
    expect(pr.next).toBe(9)
  })

  it('in replicate: a fresh rejection sends next back to match+1', () => {
    const pr = progress({ match: 5, next: 5 })
    pr.becomeReplicate()
    pr.sentEntries(3, 3)
    expect(pr.maybeDecrTo(8, 2)).toBe(true)
    expect(pr.next).toBe(6)
  })

  it('in probe: only the rejection of the latest probe (index next-1) counts', () => {
    const pr = progress({ match: 0, next: 10, probeSent: true })
    expect(pr.maybeDecrTo(7, 3)).toBe(false)
    expect([pr.next, pr.probeSent]).toEqual([10, true])
  })

  it('in probe: jumps back to the hint+1, but not below match+1 and not past the rejected index', () => {
    const a = progress({ match: 0, next: 10, probeSent: true })
    expect(a.maybeDecrTo(9, 4)).toBe(true)
    expect([a.next, a.probeSent]).toEqual([5, false])
    const b = progress({ match: 6, next: 10 })
    b.maybeDecrTo(9, 2)
    expect(b.next).toBe(7)
    const c = progress({ match: 0, next: 10 })
    c.maybeDecrTo(9, 50) // a hint beyond the rejected index cannot move next forward
    expect(c.next).toBe(9)
  })

  it('in probe: never goes below index 1', () => {
    const pr = progress({ match: 0, next: 1 })
    expect(pr.maybeDecrTo(0, 0)).toBe(true)
    expect(pr.next).toBe(1)
  })
})
