// The auth state as etcd models it: users with bcrypt password hashes bound to roles, roles granting
// read/write on keys and ranges, an enabled flag and a revision bumped by every change. Pure data:
// no clock, no I/O. Keys of permissions follow etcd's (key, range_end) convention (see interval.ts).

export const permissionTypes = ['READ', 'WRITE', 'READWRITE'] as const
export type PermissionType = (typeof permissionTypes)[number]

export interface Permission {
  permType: PermissionType
  key: Uint8Array
  /** Absent or empty: the single key; "\0": every key >= key; otherwise [key, rangeEnd). */
  rangeEnd?: Uint8Array
}

export interface Role {
  name: string
  permissions: Permission[]
}

export interface User {
  name: string
  /** bcrypt hash ("" for a user without password, who cannot authenticate with one). */
  passwordHash: string
  noPassword: boolean
  roles: string[]
  /**
   * Auth revision at which this user's effective permissions last changed (user added, password
   * changed, role granted or revoked, one of its roles changed). Tokens carry it; a token whose
   * revision differs is no longer valid.
   */
  revision: number
}

export interface AuthState {
  enabled: boolean
  /** etcd's auth revision: +1 for every applied auth change. */
  revision: number
  /** Key of the tokens' HMAC; drawn by the proposer of `auth enable`, so every member shares it. */
  tokenSecret: string
  users: ReadonlyMap<string, User>
  roles: ReadonlyMap<string, Role>
}

export const rootUser = 'root'
export const rootRole = 'root'

export function emptyAuthState(): AuthState {
  return { enabled: false, revision: 1, tokenSecret: '', users: new Map(), roles: new Map() }
}

/** The read or write access a request needs. */
export type Access = 'read' | 'write'
