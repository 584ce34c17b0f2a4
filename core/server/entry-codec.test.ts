import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import type { PutRequest } from '../mvcc/requests.ts'
import { decodePayload, encodePayload, PayloadError } from './entry-codec.ts'

const putArb: fc.Arbitrary<PutRequest> = fc.record(
  {
    key: fc.uint8Array({ minLength: 1, maxLength: 40 }),
    value: fc.uint8Array({ maxLength: 300 }),
    lease: fc.oneof(fc.nat(), fc.maxSafeNat()),
    prevKv: fc.boolean(),
    ignoreValue: fc.boolean(),
    ignoreLease: fc.boolean(),
  },
  { requiredKeys: ['key'] },
)
const envelope = fc.record({ proposer: fc.maxSafeNat(), run: fc.maxSafeNat(), seq: fc.maxSafeNat() })
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? [...x] : x?.type === 'Buffer' ? x.data : x)))

describe('entry payloads', () => {
  it('a put round-trips through its own layout, whatever optional fields it has', () => {
    fc.assert(
      fc.property(envelope, putArb, (e, put) => {
        const payload = { ...e, request: { put } }
        const data = encodePayload(payload)
        expect(data[0]).toBe(0xc1)
        expect(plain(decodePayload(data))).toEqual(plain(payload))
      }),
      { numRuns: 1000 },
    )
  })

  it('decodes a put written as MessagePack (entries written before the put layout) to the same request', () => {
    const packr = new Packr({ useRecords: false, mapsAsObjects: true })
    fc.assert(
      fc.property(envelope, putArb, (e, put) => {
        const old = packr.pack([e.proposer, e.seq, { put }, e.run])
        expect(plain(decodePayload(old))).toEqual(plain(decodePayload(encodePayload({ ...e, request: { put } }))))
      }),
      { numRuns: 300 },
    )
  })

  it('other requests, and puts with fields it does not know, stay MessagePack', () => {
    const odd = { put: { key: new Uint8Array([1]), lease: -1 } }
    for (const request of [{ deleteRange: { key: new Uint8Array([1]) } }, odd, { put: { key: new Uint8Array([1]), extra: 1 } }]) {
      const data = encodePayload({ proposer: 1, run: 1, seq: 1, request: request as never })
      expect(data[0]).not.toBe(0xc1)
      expect(plain(decodePayload(data).request)).toEqual(plain(request))
    }
  })

  it('carries the term a lease expiry was decided in, and refuses a malformed one', () => {
    const base = { proposer: 7, run: 3, seq: 9, request: { leaseRevoke: { id: 42 } } }
    expect(decodePayload(encodePayload({ ...base, decidedInTerm: 5 }))).toEqual({ ...base, decidedInTerm: 5 })
    expect(decodePayload(encodePayload(base))).toEqual(base) // no term: not term-bound
    const packr = new Packr({ useRecords: false, mapsAsObjects: true })
    for (const bad of [-1, 1.5, 'x', null]) {
      expect(() => decodePayload(packr.pack([7, 9, base.request, 3, bad]))).toThrow(PayloadError)
    }
    expect(() => decodePayload(packr.pack([7, 9, base.request, 3, 5, 6]))).toThrow(PayloadError)
  })

  it('refuses damaged put payloads with PayloadError only', () => {
    fc.assert(
      fc.property(envelope, putArb, fc.nat(), fc.uint8Array({ maxLength: 4 }), (e, put, cut, junk) => {
        const data = encodePayload({ ...e, request: { put } })
        expect(() => decodePayload(data.subarray(0, 1 + (cut % (data.length - 1))))).toThrow(PayloadError)
        expect(() => decodePayload(Buffer.concat([data, Buffer.from([0, ...junk])]))).toThrow(PayloadError)
        try {
          decodePayload(Uint8Array.from([0xc1, ...junk, ...data.subarray(1)]))
        } catch (err) {
          expect(err).toBeInstanceOf(PayloadError)
        }
      }),
      { numRuns: 500 },
    )
  })
})
