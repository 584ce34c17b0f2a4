import { describe, expect, it, vi } from 'vitest'
import { ReadIndexBatcher } from './read-index.ts'

function setup() {
  const requested: string[] = []
  let applied = 0
  const b = new ReadIndexBatcher(
    { contextPrefix: 'a1', requestReadIndex: (ctx) => requested.push(new TextDecoder().decode(ctx)), appliedIndex: () => applied },
    60_000,
  )
  return { b, requested, setApplied: (n: number) => (applied = n) }
}

const settled = async (p: Promise<void>) => {
  let done = false
  void p.then(() => (done = true))
  await new Promise((r) => setImmediate(r))
  return done
}

describe('ReadIndexBatcher', () => {
  it('serves every read waiting at flush time with one ReadIndex request, once applied reaches it', async () => {
    const { b, requested, setApplied } = setup()
    const r1 = b.barrier()
    const r2 = b.barrier()
    b.flush()
    expect(requested).toEqual(['a1:1'])
    b.onReadState(10, new TextEncoder().encode('a1:1'))
    expect(await settled(r1)).toBe(false) // applied (0) is behind the read index
    setApplied(10)
    b.onApplied()
    expect(await settled(r1)).toBe(true)
    expect(await settled(r2)).toBe(true)
  })

  it('a read arriving after a request was issued waits for the next request', async () => {
    const { b, requested, setApplied } = setup()
    setApplied(100)
    const early = b.barrier()
    b.flush()
    const late = b.barrier()
    b.flush() // nothing new is issued while one is outstanding
    expect(requested).toEqual(['a1:1'])
    b.onReadState(5, new TextEncoder().encode('a1:1'))
    expect(await settled(early)).toBe(true)
    expect(await settled(late)).toBe(false)
    expect(requested).toEqual(['a1:1', 'a1:2'])
    b.onReadState(6, new TextEncoder().encode('a1:2'))
    expect(await settled(late)).toBe(true)
  })

  it('after a leader change, reads in flight are issued again instead of timing out', async () => {
    const { b, requested, setApplied } = setup()
    setApplied(100)
    const r = b.barrier()
    b.flush()
    b.reissue()
    b.flush()
    expect(requested).toEqual(['a1:1', 'a1:2'])
    b.onReadState(7, new TextEncoder().encode('a1:1')) // a stale answer to the lost request changes nothing
    b.onReadState(7, new TextEncoder().encode('a1:2'))
    expect(await settled(r)).toBe(true)
  })
})

describe('ReadIndexBatcher retries', () => {
  it('asks again when a ReadIndex request goes unanswered, and times a read out only at its own deadline', async () => {
    vi.useFakeTimers()
    try {
      const requested: string[] = []
      const b = new ReadIndexBatcher(
        { contextPrefix: 'x', requestReadIndex: (ctx) => requested.push(new TextDecoder().decode(ctx)), appliedIndex: () => 100 },
        250,
        40,
      )
      const r = b.barrier()
      b.flush()
      vi.advanceTimersByTime(100)
      expect(requested).toEqual(['x:1', 'x:2', 'x:3']) // the lost request was re-issued (at 40 and 80 ms)
      b.onReadState(1, new TextEncoder().encode('x:3'))
      await expect(r).resolves.toBeUndefined()
      const late = b.barrier()
      b.flush()
      const failed = expect(late).rejects.toThrow(/request timed out/)
      vi.advanceTimersByTime(300)
      await failed
    } finally {
      vi.useRealTimers()
    }
  })
})
