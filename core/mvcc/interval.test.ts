import { describe, expect, it } from 'vitest'
import { singleKeyOf, toInterval } from './interval.ts'

const b = (s: string) => new TextEncoder().encode(s)

describe('singleKeyOf', () => {
  it('finds the key of a single-key interval, and only there', () => {
    expect(singleKeyOf(toInterval(b('a/b'), undefined))).toEqual(b('a/b'))
    expect(singleKeyOf(toInterval(b(''), new Uint8Array()))).toEqual(b(''))
    expect(singleKeyOf(toInterval(b('a'), b('b')))).toBeUndefined() // a prefix
    expect(singleKeyOf(toInterval(b('a'), new Uint8Array([0])))).toBeUndefined() // from a on
    expect(singleKeyOf({ start: b('a'), end: b('a\u0000x') })).toBeUndefined()
    expect(singleKeyOf({ start: b('a'), end: b('b\u0000') })).toBeUndefined()
    expect(singleKeyOf({ start: b('ab'), end: b('aa\u0000') })).toBeUndefined()
  })
})
