// Auth tokens: stateless and signed, so any member can check a token another member issued (the
// client fails over between members). A token names the user, the user's permission revision when it
// was issued, and its expiry; it is signed with HMAC-SHA256 under the cluster's token secret, which is
// drawn at `auth enable` and replicated through the log. A token stops working when it expires, when
// the user's permissions change (the user's revision moves on), or when auth is enabled afresh (new
// secret). Expiry uses the member's wall clock, as etcd's JWT tokens do.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { CairnError } from '../errors.ts'
import type { AuthState } from './types.ts'

/** etcd's --auth-token-ttl default: 300 s. */
export const tokenTtlMsDefault = 300_000
/** Longest token accepted (a user name is at most 256 characters). */
const tokenCharsMax = 1024

export interface TokenClaims {
  user: string
  /** The user's permission revision at issue. */
  revision: number
  expiresAtMs: number
}

function sign(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest()
}

export function newTokenSecret(): string {
  return randomBytes(32).toString('base64url')
}

export function issueToken(state: AuthState, user: string, nowMs: number, ttlMs: number): string {
  const u = state.users.get(user)
  if (u === undefined) throw new CairnError('UserNotFound', user)
  const payload = Buffer.from(JSON.stringify({ u: user, r: u.revision, e: nowMs + ttlMs })).toString('base64url')
  return `${payload}.${sign(state.tokenSecret, payload).toString('base64url')}`
}

/** The token's claims if it is genuine, unexpired and still current for its user; else InvalidAuthToken. */
export function verifyToken(state: AuthState, token: string, nowMs: number): TokenClaims {
  const invalid = (why: string) => new CairnError('InvalidAuthToken', why)
  if (token.length > tokenCharsMax || state.tokenSecret === '') throw invalid('malformed')
  const dot = token.indexOf('.')
  if (dot <= 0) throw invalid('malformed')
  const payload = token.slice(0, dot)
  const mac = Buffer.from(token.slice(dot + 1), 'base64url')
  const expected = sign(state.tokenSecret, payload)
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) throw invalid('bad signature')
  let claims: { u?: unknown; r?: unknown; e?: unknown }
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims
  } catch {
    throw invalid('malformed')
  }
  if (typeof claims.u !== 'string' || typeof claims.r !== 'number' || typeof claims.e !== 'number') throw invalid('malformed')
  if (claims.e <= nowMs) throw invalid('expired')
  const user = state.users.get(claims.u)
  if (user === undefined || user.revision !== claims.r) throw invalid('the user or its permissions changed')
  return { user: claims.u, revision: claims.r, expiresAtMs: claims.e }
}
