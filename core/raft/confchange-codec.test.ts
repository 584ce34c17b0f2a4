import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CONF_CHANGES_MAX,
  confChangeAutoLeave,
  confChangeEntersJoint,
  confChangeLeavesJoint,
  decodeConfChange,
  encodeConfChange,
} from './confchange-codec.ts'
import type { ConfChange } from './types.ts'

const confChange: fc.Arbitrary<ConfChange> = fc.record({
  transition: fc.constantFrom('auto' as const, 'implicit' as const, 'explicit' as const),
  changes: fc.array(
    fc.record({
      type: fc.constantFrom('add-voter' as const, 'add-learner' as const, 'remove' as const),
      nodeId: fc.maxSafeNat(),
    }),
    { maxLength: 20 },
  ),
  context: fc.uint8Array({ maxLength: 64 }),
})

function bytes(...xs: number[]): Uint8Array {
  return new Uint8Array(xs)
}

/** A valid encoding of one add-voter change of node 1 with no context. */
function oneChange(): Uint8Array {
  return encodeConfChange({ transition: 'auto', changes: [{ type: 'add-voter', nodeId: 1 }], context: new Uint8Array() })
}

describe('confchange codec', () => {
  it('decodeConfChange(encodeConfChange(cc)) is cc, for any valid change', () => {
    fc.assert(
      fc.property(confChange, (cc) => {
        expect(decodeConfChange(encodeConfChange(cc))).toEqual(cc)
      }),
      { numRuns: 300 },
    )
  })

  it('decodes from a view into a larger buffer (byteOffset honoured)', () => {
    const enc = encodeConfChange({ transition: 'explicit', changes: [{ type: 'remove', nodeId: 7 }], context: bytes(1, 2) })
    const big = new Uint8Array(enc.byteLength + 10)
    big.set(enc, 5)
    expect(decodeConfChange(big.subarray(5, 5 + enc.byteLength))).toEqual({
      transition: 'explicit',
      changes: [{ type: 'remove', nodeId: 7 }],
      context: bytes(1, 2),
    })
  })

  const malformed: Array<[string, () => Uint8Array, RegExp]> = [
    ['empty input', () => bytes(), /too short/],
    ['a short header', () => bytes(1, 0, 0), /too short/],
    ['an unknown version', () => bytes(2, 0, 0, 0), /unknown version/],
    ['an unknown transition', () => bytes(1, 3, 0, 0), /unknown transition/],
    ['a change count beyond the data', () => bytes(1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0), /truncated/],
    [
      'an unknown change type',
      () => {
        const b = oneChange()
        b[4] = 3
        return b
      },
      /unknown change type/,
    ],
    ...[Number.NaN, -1, 1.5, 2 ** 53].map((id): [string, () => Uint8Array, RegExp] => [
      `node id ${id}`,
      () => {
        const b = oneChange()
        new DataView(b.buffer).setFloat64(5, id)
        return b
      },
      /bad node id/,
    ]),
  ]
  for (const [what, input, err] of malformed) {
    it(`decodeConfChange() rejects ${what} with a RangeError`, () => {
      expect(() => decodeConfChange(input())).toThrow(RangeError)
      expect(() => decodeConfChange(input())).toThrow(err)
    })
  }

  it('decodeConfChange() on arbitrary bytes either decodes or throws a RangeError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (data) => {
        try {
          decodeConfChange(data)
        } catch (e) {
          expect(e).toBeInstanceOf(RangeError)
        }
      }),
      { numRuns: 400 },
    )
  })

  it('encodeConfChange() refuses more than CONF_CHANGES_MAX changes', () => {
    const changes = Array.from({ length: CONF_CHANGES_MAX + 1 }, (_, i) => ({ type: 'add-voter' as const, nodeId: i + 1 }))
    expect(() => encodeConfChange({ transition: 'auto', changes, context: new Uint8Array() })).toThrow(RangeError)
  })

  it('decodeConfChange() refuses more than CONF_CHANGES_MAX changes, as the encoder does', () => {
    const count = CONF_CHANGES_MAX + 1
    const data = new Uint8Array(4 + count * 9)
    const view = new DataView(data.buffer)
    view.setUint8(0, 1)
    view.setUint16(2, count)
    for (let i = 0; i < count; i++) view.setFloat64(4 + i * 9 + 1, i + 1)
    expect(() => decodeConfChange(data)).toThrow(RangeError)
  })

  it('encodeConfChange() rejects a node id that decodeConfChange() would reject', () => {
    expect(() => encodeConfChange({ transition: 'auto', changes: [{ type: 'add-voter', nodeId: 1.5 }], context: new Uint8Array() })).toThrow(RangeError)
  })
})

describe('conf change classification', () => {
  const cc = (transition: ConfChange['transition'], n: number): ConfChange => ({
    transition,
    changes: Array.from({ length: n }, (_, i) => ({ type: 'add-voter' as const, nodeId: i + 1 })),
    context: new Uint8Array(),
  })

  it('an empty change leaves the joint configuration; it never enters one', () => {
    expect([confChangeLeavesJoint(cc('auto', 0)), confChangeEntersJoint(cc('auto', 0)), confChangeEntersJoint(cc('explicit', 0))]).toEqual([
      true,
      false,
      false,
    ])
  })

  it('one change with transition auto is simple; several, or implicit/explicit, go through joint consensus', () => {
    expect(confChangeEntersJoint(cc('auto', 1))).toBe(false)
    expect(confChangeEntersJoint(cc('auto', 2))).toBe(true)
    expect(confChangeEntersJoint(cc('implicit', 1))).toBe(true)
    expect(confChangeEntersJoint(cc('explicit', 1))).toBe(true)
  })

  it('auto and implicit leave the joint configuration automatically; explicit does not', () => {
    expect([confChangeAutoLeave(cc('auto', 2)), confChangeAutoLeave(cc('implicit', 2)), confChangeAutoLeave(cc('explicit', 2))]).toEqual([
      true,
      true,
      false,
    ])
  })
})
