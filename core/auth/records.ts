// How the auth state is stored: under the one-byte prefix 'a' of the member's RocksDB, beside the
// keyspace (core/storage/keys.ts), written in the same batch as the entry's applied index.
//
//   'a' 'm'          meta: {enabled, revision, tokenSecret}
//   'a' 'u' name     user: {passwordHash, noPassword, roles, revision}
//   'a' 'r' name     role: {permissions: [{permType, key (hex), rangeEnd (hex)}]}
//
// Each value is a format byte (1) then JSON: the records are small and read once at start.

import { CorruptDataError } from '../errors.ts'
import type { AuthState, Permission, PermissionType, Role, User } from './types.ts'
import { emptyAuthState } from './types.ts'

import { prefixAuth } from '../mvcc/layout.ts'

export { prefixAuth }
const tagMeta = 0x6d // 'm'
const tagUser = 0x75 // 'u'
const tagRole = 0x72 // 'r'
const recordFormat = 1

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export const authMetaKey = Uint8Array.of(prefixAuth, tagMeta)

export function authUserKey(name: string): Uint8Array {
  return Uint8Array.of(prefixAuth, tagUser, ...encoder.encode(name))
}

export function authRoleKey(name: string): Uint8Array {
  return Uint8Array.of(prefixAuth, tagRole, ...encoder.encode(name))
}

export const authBounds = { gte: Uint8Array.of(prefixAuth), lt: Uint8Array.of(prefixAuth + 1) }

function hex(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

function unhex(s: unknown): Uint8Array {
  if (typeof s !== 'string' || !/^([0-9a-f]{2})*$/.test(s)) throw new CorruptDataError('auth record', 'bad hex key')
  const out = new Uint8Array(s.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16)
  return out
}

function pack(value: unknown): Uint8Array {
  const json = encoder.encode(JSON.stringify(value))
  const out = new Uint8Array(json.length + 1)
  out[0] = recordFormat
  out.set(json, 1)
  return out
}

function unpack(bytes: Uint8Array): Record<string, unknown> {
  if (bytes[0] !== recordFormat) throw new CorruptDataError('auth record', `format ${bytes[0]}`)
  try {
    const v = JSON.parse(decoder.decode(bytes.subarray(1))) as unknown
    if (typeof v !== 'object' || v === null) throw new Error('not an object')
    return v as Record<string, unknown>
  } catch (e) {
    throw new CorruptDataError('auth record', (e as Error).message)
  }
}

export function encodeMeta(state: AuthState): Uint8Array {
  return pack({ enabled: state.enabled, revision: state.revision, tokenSecret: state.tokenSecret })
}

export function encodeUser(u: User): Uint8Array {
  return pack({ passwordHash: u.passwordHash, noPassword: u.noPassword, roles: u.roles, revision: u.revision })
}

export function encodeRole(r: Role): Uint8Array {
  return pack({
    permissions: r.permissions.map((p) => ({ permType: p.permType, key: hex(p.key), ...(p.rangeEnd ? { rangeEnd: hex(p.rangeEnd) } : {}) })),
  })
}

/** Rebuilds the state from the stored entries (any order). */
export function decodeAuthEntries(entries: Iterable<{ key: Uint8Array; value: Uint8Array }>): AuthState {
  const state = emptyAuthState()
  const users = new Map<string, User>()
  const roles = new Map<string, Role>()
  let meta: Pick<AuthState, 'enabled' | 'revision' | 'tokenSecret'> = state
  for (const { key, value } of entries) {
    const v = unpack(value)
    const name = decoder.decode(key.subarray(2))
    if (key[1] === tagMeta) {
      meta = { enabled: v.enabled === true, revision: Number(v.revision), tokenSecret: String(v.tokenSecret ?? '') }
    } else if (key[1] === tagUser) {
      const rolesOf = Array.isArray(v.roles) ? v.roles.map(String) : []
      users.set(name, { name, passwordHash: String(v.passwordHash ?? ''), noPassword: v.noPassword === true, roles: rolesOf, revision: Number(v.revision) })
    } else if (key[1] === tagRole) {
      const permissions: Permission[] = (Array.isArray(v.permissions) ? v.permissions : []).map((p: Record<string, unknown>) => {
        const out: Permission = { permType: p.permType as PermissionType, key: unhex(p.key) }
        if (p.rangeEnd !== undefined) out.rangeEnd = unhex(p.rangeEnd)
        return out
      })
      roles.set(name, { name, permissions })
    } else {
      throw new CorruptDataError('auth record', `unknown tag ${key[1]}`)
    }
  }
  return { ...meta, users, roles }
}
