// Auth changes as pure state transitions: (state, request) → next state, or a CairnError that every
// member raises alike. Only the changed users and roles are new objects, so the caller can write just
// those. Semantics follow etcd 3.4's auth store (root rules, no-op grants, revocation errors).

import { CairnError, InvalidArgumentError } from '../errors.ts'
import { compareBytes, equalBytes } from '../mvcc/bytes.ts'
import type { AuthRequest } from './requests.ts'
import type { AuthState, Permission, Role, User } from './types.ts'
import { rootRole, rootUser } from './types.ts'

function sameRange(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return equalBytes(a ?? new Uint8Array(0), b ?? new Uint8Array(0))
}

/** A working copy: maps copied, entries shared until changed. */
class Draft {
  readonly users: Map<string, User>
  readonly roles: Map<string, Role>
  enabled: boolean
  tokenSecret: string
  readonly revision: number

  constructor(private readonly base: AuthState) {
    this.users = new Map(base.users)
    this.roles = new Map(base.roles)
    this.enabled = base.enabled
    this.tokenSecret = base.tokenSecret
    this.revision = base.revision + 1
  }

  user(name: string): User {
    if (name === '') throw new CairnError('UserEmpty')
    const u = this.users.get(name)
    if (u === undefined) throw new CairnError('UserNotFound', name)
    return u
  }

  role(name: string): Role {
    if (name === '') throw new CairnError('RoleEmpty')
    const r = this.roles.get(name)
    if (r === undefined) throw new CairnError('RoleNotFound', name)
    return r
  }

  putUser(u: User): void {
    this.users.set(u.name, { ...u, revision: this.revision })
  }

  /** Every holder of the role gets a new revision: its tokens stop working. */
  touchHolders(role: string, change?: (u: User) => User): void {
    for (const u of this.users.values()) if (u.roles.includes(role)) this.putUser(change ? change(u) : u)
  }

  finish(): AuthState {
    return { enabled: this.enabled, revision: this.revision, tokenSecret: this.tokenSecret, users: this.users, roles: this.roles }
  }

  unchanged(): AuthState {
    return this.base
  }
}

/** Applies one auth change. Returns the same state object when the change is a no-op. */
export function applyAuthRequest(state: AuthState, request: AuthRequest): AuthState {
  const d = new Draft(state)
  if ('authEnable' in request) {
    if (state.enabled) return d.unchanged()
    const root = state.users.get(rootUser)
    if (root === undefined) throw new CairnError('RootUserNotExist')
    if (!root.roles.includes(rootRole)) throw new CairnError('RootRoleNotExist')
    d.enabled = true
    d.tokenSecret = request.authEnable.tokenSecret
  } else if ('authDisable' in request) {
    if (!state.enabled) return d.unchanged()
    d.enabled = false
  } else if ('userAdd' in request) {
    const { name, passwordHash, noPassword } = request.userAdd
    if (name === '') throw new CairnError('UserEmpty')
    if (d.users.has(name)) throw new CairnError('UserAlreadyExists', name)
    d.putUser({ name, passwordHash: noPassword ? '' : passwordHash, noPassword, roles: [], revision: 0 })
  } else if ('userDelete' in request) {
    const { name } = request.userDelete
    if (state.enabled && name === rootUser) throw new CairnError('InvalidAuthMgmt', 'the root user cannot be deleted while auth is enabled')
    d.user(name)
    d.users.delete(name)
  } else if ('userChangePassword' in request) {
    const u = d.user(request.userChangePassword.name)
    d.putUser({ ...u, passwordHash: request.userChangePassword.passwordHash, noPassword: false })
  } else if ('userGrantRole' in request) {
    const { user, role } = request.userGrantRole
    const u = d.user(user)
    if (role !== rootRole) d.role(role)
    if (u.roles.includes(role)) return d.unchanged()
    d.putUser({ ...u, roles: [...u.roles, role].sort() })
  } else if ('userRevokeRole' in request) {
    const { name, role } = request.userRevokeRole
    if (state.enabled && name === rootUser && role === rootRole) {
      throw new CairnError('InvalidAuthMgmt', 'the root role cannot be revoked from root while auth is enabled')
    }
    const u = d.user(name)
    if (!u.roles.includes(role)) throw new CairnError('RoleNotGranted', `${name} has no role ${role}`)
    d.putUser({ ...u, roles: u.roles.filter((r) => r !== role) })
  } else if ('roleAdd' in request) {
    const { name } = request.roleAdd
    if (name === '') throw new CairnError('RoleEmpty')
    if (d.roles.has(name)) throw new CairnError('RoleAlreadyExists', name)
    d.roles.set(name, { name, permissions: [] })
  } else if ('roleDelete' in request) {
    const { role } = request.roleDelete
    if (state.enabled && role === rootRole) throw new CairnError('InvalidAuthMgmt', 'the root role cannot be deleted while auth is enabled')
    d.role(role)
    d.roles.delete(role)
    d.touchHolders(role, (u) => ({ ...u, roles: u.roles.filter((r) => r !== role) }))
  } else if ('roleGrantPermission' in request) {
    const { name, perm } = request.roleGrantPermission
    const r = d.role(name)
    const permissions = r.permissions.filter((p) => !(equalBytes(p.key, perm.key) && sameRange(p.rangeEnd, perm.rangeEnd)))
    permissions.push(copyPermission(perm))
    // Kept sorted by key, then range end, as etcd keeps them (role get lists them in this order).
    permissions.sort((x, y) => compareBytes(x.key, y.key) || compareBytes(x.rangeEnd ?? new Uint8Array(0), y.rangeEnd ?? new Uint8Array(0)))
    d.roles.set(name, { name, permissions })
    d.touchHolders(name)
  } else if ('roleRevokePermission' in request) {
    const { role, key, rangeEnd } = request.roleRevokePermission
    const r = d.role(role)
    const permissions = r.permissions.filter((p) => !(equalBytes(p.key, key) && sameRange(p.rangeEnd, rangeEnd)))
    if (permissions.length === r.permissions.length) throw new CairnError('PermissionNotGranted')
    d.roles.set(role, { name: role, permissions })
    d.touchHolders(role)
  } else {
    throw new InvalidArgumentError(`unknown auth request ${Object.keys(request as object).join(', ')}`)
  }
  return d.finish()
}

function copyPermission(p: Permission): Permission {
  const out: Permission = { permType: p.permType, key: p.key.slice() }
  if (p.rangeEnd !== undefined && p.rangeEnd.length > 0) out.rangeEnd = p.rangeEnd.slice()
  return out
}
