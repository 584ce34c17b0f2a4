// Keys and values of the workloads, and their base64 forms for the v3 JSON API.

import { randomBytes } from 'node:crypto'

export const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64')
export const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1')

/** 8-byte keys: a one-letter family and 7 digits (`k0012345`). */
export function keyName(family: string, n: number): string {
  return family + String(n).padStart(7, '0')
}

/** A value of `bytes` random bytes, as base64 (for the v3 API). */
export function randomValueB64(bytes: number): string {
  return randomBytes(bytes).toString('base64')
}

/** A value of `bytes` random letters and digits (for the v2 API's form body: no escaping needed). */
export function randomValueAscii(bytes: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const raw = randomBytes(bytes)
  let out = ''
  for (const b of raw) out += alphabet[b % alphabet.length]!
  return out
}

/** The exclusive end of a prefix range: the prefix with its last byte incremented. */
export function prefixEnd(prefix: string): string {
  const last = prefix.charCodeAt(prefix.length - 1)
  return prefix.slice(0, -1) + String.fromCharCode(last + 1)
}
