import { describe, expect, it } from 'vitest'
import { ReadOnly } from './read-only.ts'
import { message } from './types.ts'

const ctx = (s: string) => new TextEncoder().encode(s)
const req = (s: string) => message({ type: 'read-index', context: ctx(s) })

describe('ReadOnly', () => {
  it('ReadOnly.advance() releases the read and every read queued before it, each with its own index', () => {
    const ro = new ReadOnly()
    ro.addRequest(3, req('a'))
    ro.addRequest(4, req('b'))
    ro.addRequest(5, req('c'))
    const released = ro.advance(ctx('b'))
    expect(released.map((s) => [new TextDecoder().decode(s.req.context), s.index])).toEqual([
      ['a', 3],
      ['b', 4],
    ])
    expect(ro.size()).toBe(1)
    expect(ro.lastPendingRequestContext()).toEqual(ctx('c'))
  })

  it('ReadOnly.addRequest() ignores a duplicate context while it is pending', () => {
    const ro = new ReadOnly()
    ro.addRequest(3, req('a'))
    ro.addRequest(9, req('a'))
    expect(ro.size()).toBe(1)
    expect(ro.advance(ctx('a'))[0]!.index).toBe(3)
  })

  it('ReadOnly.recvAck() collects acknowledgements for a pending context only', () => {
    const ro = new ReadOnly()
    ro.addRequest(3, req('a'))
    ro.recvAck(1, ctx('a'))
    expect([...ro.recvAck(2, ctx('a'))!].sort()).toEqual([1, 2])
    expect(ro.recvAck(2, ctx('zzz'))).toBeUndefined()
    expect(ro.advance(ctx('zzz'))).toEqual([])
  })
})
