import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Inflights } from './inflights.ts'

describe('Inflights', () => {
  it('Inflights.add() fills the window up to sizeMax, then full() holds and add() throws', () => {
    const w = new Inflights(3, 0)
    w.add(1, 10)
    w.add(2, 10)
    expect(w.full()).toBe(false)
    w.add(3, 10)
    expect(w.full()).toBe(true)
    expect(w.count()).toBe(3)
    expect(() => w.add(4, 10)).toThrow(/full/)
  })

  it('Inflights.freeLE() frees every message up to and including the index, in order', () => {
    const w = new Inflights(5, 0)
    for (const i of [2, 4, 6, 8]) w.add(i, 1)
    w.freeLE(5)
    expect(w.count()).toBe(2)
    w.freeLE(5) // nothing more at or below 5
    expect(w.count()).toBe(2)
    w.freeLE(100)
    expect(w.count()).toBe(0)
  })

  it('Inflights wraps around its ring buffer without losing order', () => {
    const w = new Inflights(3, 0)
    let next = 1
    for (let round = 0; round < 10; round++) {
      while (!w.full()) w.add(next++, 1)
      w.freeLE(next - 3) // free the oldest one
      expect(w.count()).toBe(2)
    }
    w.freeLE(next - 2)
    expect(w.count()).toBe(1)
    w.freeLE(next - 1)
    expect(w.count()).toBe(0)
  })

  it('Inflights.full() also holds once the bytes in flight reach bytesMax', () => {
    const w = new Inflights(10, 100)
    w.add(1, 60)
    expect(w.full()).toBe(false)
    w.add(2, 40)
    expect(w.full()).toBe(true)
    w.freeLE(1)
    expect(w.full()).toBe(false)
  })

  it('Inflights.freeFirstOne() frees exactly the oldest message', () => {
    const w = new Inflights(3, 0)
    w.add(5, 1)
    w.add(7, 1)
    w.freeFirstOne()
    expect(w.count()).toBe(1)
    w.freeFirstOne()
    w.freeFirstOne() // on an empty window: nothing
    expect(w.count()).toBe(0)
  })

  it('Inflights.clone() copies the contents, independent of the original', () => {
    const w = new Inflights(4, 50)
    w.add(1, 20)
    w.add(2, 20)
    const c = w.clone()
    w.freeLE(2)
    expect(c.count()).toBe(2)
    c.add(3, 10)
    expect(c.full()).toBe(true) // 50 bytes
    expect(w.count()).toBe(0)
  })

  it('new Inflights() rejects a non-positive size', () => {
    expect(() => new Inflights(0, 0)).toThrow(RangeError)
  })

  it('Inflights behaves like a plain queue model under random add/freeLE/freeFirstOne/reset', () => {
    type Op = { kind: 'add'; bytes: number } | { kind: 'freeLE'; back: number } | { kind: 'freeFirstOne' } | { kind: 'reset' }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), bytes: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('freeLE' as const), back: fc.integer({ min: -2, max: 6 }) }),
      fc.constant({ kind: 'freeFirstOne' as const }),
      fc.constant({ kind: 'reset' as const }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 120 }), fc.array(op, { maxLength: 80 }), (size, bytesMax, ops) => {
        const w = new Inflights(size, bytesMax)
        let model: Array<{ index: number; bytes: number }> = []
        let lastIndex = 0
        const modelFull = () => model.length === size || (bytesMax > 0 && model.reduce((s, m) => s + m.bytes, 0) >= bytesMax)
        for (const o of ops) {
          if (o.kind === 'add') {
            if (modelFull()) {
              expect(() => w.add(lastIndex + 1, o.bytes)).toThrow()
              continue
            }
            lastIndex++
            w.add(lastIndex, o.bytes)
            model.push({ index: lastIndex, bytes: o.bytes })
          } else if (o.kind === 'freeLE') {
            const to = lastIndex - o.back
            w.freeLE(to)
            model = model.filter((m) => m.index > to)
          } else if (o.kind === 'freeFirstOne') {
            w.freeFirstOne()
            model.shift()
          } else {
            w.reset()
            model = []
          }
          expect(w.count()).toBe(model.length)
          expect(w.full()).toBe(modelFull())
        }
      }),
      { numRuns: 300 },
    )
  })
})
