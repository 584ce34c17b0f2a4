import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ByteReader, ByteWriter } from './binary.ts'
import { crc32c } from './crc32c.ts'
import { CorruptionError } from './errors.ts'
import { entryIndexOf, entryKey, hardStateKey, ownerPrefix, prefixRange, snapshotChunkOf, snapshotDataKey } from './keys.ts'
import {
  decodeAppliedConfState,
  decodeEntry,
  decodeHardState,
  decodeLogOffset,
  decodeSnapshotChunk,
  decodeSnapshotMeta,
  encodeAppliedConfState,
  encodeEntry,
  encodeHardState,
  encodeLogOffset,
  encodeSnapshotChunk,
  encodeSnapshotMeta,
} from './raft-records.ts'
import { sealRecord } from './record.ts'
import type { Entry } from '../raft/types.ts'

const text = (s: string) => new TextEncoder().encode(s)

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b)
}

function corruption(action: () => unknown): CorruptionError {
  try {
    action()
  } catch (error) {
    if (error instanceof CorruptionError) return error
    throw error
  }
  throw new Error('expected a CorruptionError, nothing was thrown')
}

describe('crc32c()', () => {
  it('matches the published check values of CRC-32C', () => {
    expect(crc32c(text('123456789'))).toBe(0xe3069283)
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa)
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43)
    expect(crc32c(new Uint8Array())).toBe(0)
  })

  it('agrees with the bit-at-a-time definition for any length and alignment', () => {
    const reference = (bytes: Uint8Array): number => {
      let crc = 0xffffffff
      for (const b of bytes) {
        crc ^= b
        for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1
      }
      return ~crc >>> 0
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.nat(7), (bytes, offset) => {
        const view = new Uint8Array(bytes.length + offset).subarray(offset)
        view.set(bytes)
        expect(crc32c(view)).toBe(reference(bytes))
      }),
      { numRuns: 500 },
    )
  })

  it('continues over pieces as over the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array(), fc.uint8Array(), (a, b) => {
        const whole = new Uint8Array([...a, ...b])
        expect(crc32c(b, crc32c(a))).toBe(crc32c(whole))
      }),
    )
  })
})

describe('ByteWriter and ByteReader', () => {
  it('round-trip u64 up to 2^53 - 1 and refuse anything larger', () => {
    for (const n of [0, 1, 0xffff_ffff, 0x1_0000_0000, Number.MAX_SAFE_INTEGER]) {
      expect(new ByteReader(new ByteWriter().u64(n).finish()).u64()).toBe(n)
    }
    expect(() => new ByteWriter().u64(-1)).toThrow(RangeError)
    expect(() => new ByteWriter().u64(1.5)).toThrow(RangeError)
    const tooLarge = new Uint8Array([0, 0x20, 0, 0, 0, 0, 0, 0])
    expect(() => new ByteReader(tooLarge).u64()).toThrow(/2\^53/)
    expect(() => new ByteReader(new Uint8Array(3)).u32()).toThrow(/too short/)
  })
})

describe('keys', () => {
  it('entry keys sort as their indexes and decode back', () => {
    fc.assert(
      fc.property(fc.nat({ max: Number.MAX_SAFE_INTEGER }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (a, b) => {
        expect(Math.sign(compareBytes(entryKey(a), entryKey(b)))).toBe(Math.sign(a - b))
        expect(entryIndexOf(entryKey(a))).toBe(a)
      }),
    )
    expect(entryIndexOf(snapshotDataKey(1))).toBeUndefined()
    expect(snapshotChunkOf(snapshotDataKey(7))).toBe(7)
  })

  it('owners have distinct first bytes and prefixRange covers exactly a prefix', () => {
    const owners = Object.values(ownerPrefix)
    expect(new Set(owners).size).toBe(owners.length)
    expect(prefixRange(text('ra'))).toEqual({ gte: text('ra'), lt: text('rb') })
    expect(prefixRange(new Uint8Array([1, 0xff]))).toEqual({ gte: new Uint8Array([1, 0xff]), lt: new Uint8Array([2]) })
    const prefix = new Uint8Array([5, 5])
    prefixRange(prefix)
    expect(prefix).toEqual(new Uint8Array([5, 5]))
  })
})

describe('raft records', () => {
  const entry: Entry = { index: 42, term: 7, type: 'conf-change', data: text('payload') }
  const confState = { voters: [1, 2], learners: [3], votersOutgoing: [1], learnersNext: [4], autoLeave: true }

  it('round-trip every record type', () => {
    expect(decodeEntry(42, encodeEntry(entry))).toEqual(entry)
    const empty: Entry = { index: 1, term: 1, type: 'normal', data: new Uint8Array() }
    expect(decodeEntry(1, encodeEntry(empty))).toEqual(empty)
    const hardState = { term: 9, vote: 2, commit: 2 ** 40 }
    expect(decodeHardState(encodeHardState(hardState))).toEqual(hardState)
    expect(decodeAppliedConfState(encodeAppliedConfState({ index: 5, confState }))).toEqual({ index: 5, confState })
    const meta = { index: 10, term: 3, confState, dataBytes: 3, chunkCount: 1 }
    expect(decodeSnapshotMeta(encodeSnapshotMeta(meta))).toEqual(meta)
    expect(decodeSnapshotChunk(0, encodeSnapshotChunk(0, text('abc')))).toEqual(text('abc'))
    expect(decodeLogOffset(encodeLogOffset({ index: 4, term: 2 }))).toEqual({ index: 4, term: 2 })
  })

  it('every single flipped bit of an entry record is reported as corruption at its index', () => {
    const value = encodeEntry(entry)
    for (let byte = 0; byte < value.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const damaged = value.slice()
        damaged[byte]! ^= 1 << bit
        const error = corruption(() => decodeEntry(42, damaged))
        expect(error.family).toBe('entry')
        expect(error.position).toBe(42)
      }
    }
  })

  it('a torn (truncated) record is reported, however short', () => {
    const value = encodeHardState({ term: 1, vote: 1, commit: 1 })
    for (let length = 0; length < value.length; length++) {
      const error = corruption(() => decodeHardState(value.subarray(0, length)))
      expect(error.family).toBe('hard-state')
      expect(error.reason).toMatch(/torn|checksum/)
    }
  })

  it('a record stored under another key fails its checksum', () => {
    const error = corruption(() => decodeEntry(43, encodeEntry(entry)))
    expect(error.position).toBe(43)
    expect(error.reason).toMatch(/checksum/)
  })

  it('a valid frame with an unknown layout version or a malformed body is corruption', () => {
    const key = entryKey(1)
    const futureVersion = sealRecord(key, 0, (w) => w.u8(0).u64(1))
    futureVersion[4] = 2 // the version byte, then reseal the checksum over it
    const resealed = sealRecordRaw(key, futureVersion.subarray(4))
    expect(corruption(() => decodeEntry(1, resealed)).reason).toMatch(/version 2/)
    const badType = sealRecord(key, 9, (w) => w.u8(9).u64(1))
    expect(corruption(() => decodeEntry(1, badType)).reason).toMatch(/entry type/)
    const trailing = sealRecord(hardStateKey, 0, (w) => w.u64(1).u64(1).u64(1).u8(0))
    expect(corruption(() => decodeHardState(trailing)).reason).toMatch(/trailing/)
  })
})

/** A frame around raw bytes (version byte included), checksummed as sealRecord does. */
function sealRecordRaw(key: Uint8Array, versionAndBody: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + versionAndBody.length)
  out.set(versionAndBody, 4)
  new DataView(out.buffer).setUint32(0, crc32c(versionAndBody, crc32c(key)))
  return out
}
