// Member and cluster IDs. etcd's are 64-bit; ours stay below 2^53 so they are exact JS numbers,
// shown in hex as etcd shows them, and as decimal strings in the v3 JSON API.

import { createHash } from 'node:crypto'

export function idToHex(id: number): string {
  return id.toString(16)
}

export function hexToId(s: string): number | undefined {
  if (!/^[0-9a-fA-F]{1,14}$/.test(s)) return undefined
  const n = Number.parseInt(s, 16)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}

/** A deterministic 52-bit ID from the given parts (etcd derives member IDs from peer URLs and the token). */
export function hashId(...parts: string[]): number {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest()
  // 52 bits: 6 bytes and a half
  const hi = digest.readUInt32BE(0) & 0x000f_ffff
  const lo = digest.readUInt32BE(4)
  const id = hi * 0x1_0000_0000 + lo
  return id === 0 ? 1 : id
}
