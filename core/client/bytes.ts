// Keys and values: callers give strings (UTF-8) or bytes; the wire carries standard base64. Nothing
// base64 leaves this module.

/** A key or value as the caller gives it: a string is taken as UTF-8. */
export type Bytes = string | Uint8Array

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b
}

/** Bytes as text (UTF-8; invalid sequences become U+FFFD). */
export function toText(b: Uint8Array): string {
  return decoder.decode(b)
}

export function toBase64(b: Bytes): string {
  const bytes = toBytes(b)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
}

export function fromBase64(s: unknown, what: string): Uint8Array {
  if (s === undefined || s === null) return new Uint8Array()
  if (typeof s !== 'string') throw new TypeError(`${what}: expected a base64 string, got ${typeof s}`)
  const buf = Buffer.from(s, 'base64')
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
}

/**
 * The range end that covers every key starting with `prefix`: the prefix with its last byte below 0xff
 * incremented (bytes after it dropped). A prefix of only 0xff bytes (or empty) has no such end, so the
 * range runs to the end of the keyspace ("\0").
 */
export function prefixEnd(prefix: Bytes): Uint8Array {
  const p = toBytes(prefix)
  for (let i = p.length - 1; i >= 0; i--) {
    if (p[i]! < 0xff) {
      const end = p.slice(0, i + 1)
      end[i] = p[i]! + 1
      return end
    }
  }
  return new Uint8Array([0])
}

/** The range end that means "every key >= key". */
export const FROM_KEY_END: Uint8Array = new Uint8Array([0])

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
