// The frame around every stored value: a checksum, then a layout version, then the body.
//
//   value = crc32c(key ‖ version ‖ body) as u32 big-endian | version u8 | body
//
// The key is inside the checksum, so a record that ends up under the wrong key (a misdirected write,
// a bug that copies values around) fails the check just like flipped bits or a torn value do.

import { ByteReader, ByteWriter, DecodeError } from './binary.ts'
import { crc32c } from './crc32c.ts'
import { CorruptionError } from './errors.ts'
import type { RecordFamily } from './errors.ts'

/** The only layout version written today; readers reject others rather than guess. */
export const recordVersion = 1

const checksumBytes = 4
const headerBytes = checksumBytes + 1

/** Frames `body` (written by `writeBody`) as the value stored under `key`. */
export function sealRecord(key: Uint8Array, bodyBytesHint: number, writeBody: (writer: ByteWriter) => void): Uint8Array {
  const writer = new ByteWriter(headerBytes + bodyBytesHint)
  writer.u32(0).u8(recordVersion)
  writeBody(writer)
  const value = writer.finish()
  const checksum = crc32c(value.subarray(checksumBytes), crc32c(key))
  new DataView(value.buffer, value.byteOffset, checksumBytes).setUint32(0, checksum)
  return value
}

/** Where a record sits, for error messages. */
export interface RecordLocation {
  family: RecordFamily
  position?: number
}

/**
 * Checks the frame of `value` stored under `key` and decodes its body with `readBody`. Any failure,
 * including a body that does not parse or has trailing bytes, is a CorruptionError at `where`.
 */
export function openRecord<T>(key: Uint8Array, value: Uint8Array, where: RecordLocation, readBody: (reader: ByteReader) => T): T {
  const fail = (reason: string) => new CorruptionError(where.family, where.position, reason)
  if (value.length < headerBytes) throw fail(`torn record: ${value.length} bytes, the header alone is ${headerBytes}`)
  const stored = new DataView(value.buffer, value.byteOffset, checksumBytes).getUint32(0)
  const computed = crc32c(value.subarray(checksumBytes), crc32c(key))
  if (stored !== computed) throw fail(`checksum mismatch: stored ${hex(stored)}, computed ${hex(computed)}`)
  const reader = new ByteReader(value.subarray(checksumBytes))
  const version = reader.u8()
  if (version !== recordVersion) throw fail(`unknown record layout version ${version}`)
  try {
    const result = readBody(reader)
    reader.expectEnd()
    return result
  } catch (error) {
    if (error instanceof DecodeError || error instanceof RangeError) throw fail(error.message)
    throw error
  }
}

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`
}
