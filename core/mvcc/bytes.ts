// Byte-string helpers. Keys order as unsigned bytes, lexicographically, as in etcd and RocksDB.

export const emptyBytes = new Uint8Array(0)

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0
  for (const p of parts) length += p.length
  const out = new Uint8Array(length)
  let offset = 0
  for (const p of parts) {
    out.set(p, offset)
    offset += p.length
  }
  return out
}

/**
 * A string whose UTF-16 code units are the bytes, so Map keys and string comparison follow byte order.
 * (TextDecoder('latin1') is windows-1252 and would remap 0x80–0x9f; Buffer's latin1 is ISO-8859-1, one
 * code unit per byte, and runs natively: this sits on the apply path, once or more per written key.)
 */
export function bytesToBinaryString(bytes: Uint8Array): string {
  return latin1Slice.call(bytes, 0, bytes.length)
}

const latin1Slice: (this: Uint8Array, start: number, end: number) => string =
  (Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }).latin1Slice ??
  function (this: Uint8Array, start: number, end: number): string {
    let out = ''
    for (let i = start; i < end; i++) out += String.fromCharCode(this[i]!)
    return out
  }

export function binaryStringToBytes(text: string): Uint8Array {
  const out = new Uint8Array(text.length)
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i)
  return out
}

/** The smallest key greater than every key with this prefix; undefined if none (all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = prefix.slice(0, i + 1)
      end[i]! += 1
      return end
    }
  }
  return undefined
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text)
}
