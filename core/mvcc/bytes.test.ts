import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { binaryStringToBytes, bytesToBinaryString, compareBytes } from './bytes.ts'

describe('bytesToBinaryString', () => {
  it('maps every byte value to the code unit of the same number (0x80-0x9f included)', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i)
    const text = bytesToBinaryString(all)
    expect(text.length).toBe(256)
    for (let i = 0; i < 256; i++) expect(text.charCodeAt(i)).toBe(i)
  })

  it('round-trips and keeps byte order, for views into larger buffers too', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), fc.nat(8), (a, b, pad) => {
        const backing = new Uint8Array(pad + a.length + 3)
        backing.set(a, pad)
        const view = backing.subarray(pad, pad + a.length)
        const sa = bytesToBinaryString(view)
        const sb = bytesToBinaryString(b)
        expect(binaryStringToBytes(sa)).toEqual(a)
        expect(Math.sign(compareBytes(a, b))).toBe(sa < sb ? -1 : sa > sb ? 1 : 0)
      }),
    )
  })
})
