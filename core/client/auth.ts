// Auth: enabling it, and managing users and roles (etcd's Auth API over /v3/auth/*). The client's own
// credentials are given in ClientOptions (username, password); the transport authenticates with them.

import type { Bytes } from './bytes.ts'
import { fromBase64, toBase64 } from './bytes.ts'
import { decodeHeader, decodeList, decodeObject, decodeStrings, int } from './codec.ts'
import type { CallOptions, Transport } from './transport.ts'
import type { ResponseHeader } from './types.ts'

export type PermissionType = 'READ' | 'WRITE' | 'READWRITE'

export interface Permission {
  permType: PermissionType
  key: Uint8Array
  /** Absent: the single key; [0]: every key from `key` on; otherwise [key, rangeEnd). */
  rangeEnd?: Uint8Array
}

export interface AuthStatus {
  header: ResponseHeader
  enabled: boolean
  authRevision: number
}

export class Auth {
  constructor(private readonly transport: Transport) {}

  private async change(path: string, body: unknown, opts: CallOptions): Promise<ResponseHeader> {
    // Not repeated when the outcome is unknown: a repeated change could fail (user add) or undo another.
    const o = decodeObject(await this.transport.call(path, body, false, opts), `${path} response`)
    return decodeHeader(o.header)
  }

  /** Turns auth on; the root user must exist and hold the root role. */
  enable(opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/enable', {}, opts)
  }

  disable(opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/disable', {}, opts)
  }

  async status(opts: CallOptions = {}): Promise<AuthStatus> {
    const o = decodeObject(await this.transport.call('/v3/auth/status', {}, true, opts), 'auth status response')
    return { header: decodeHeader(o.header), enabled: o.enabled === true, authRevision: int(o.authRevision, 'authRevision') }
  }

  /** A token for these credentials (the client gets its own through ClientOptions; this is for tools). */
  async authenticate(name: string, password: string, opts: CallOptions = {}): Promise<string> {
    const o = decodeObject(await this.transport.call('/v3/auth/authenticate', { name, password }, true, opts), 'authenticate response')
    return typeof o.token === 'string' ? o.token : ''
  }

  userAdd(name: string, password: string | { noPassword: true }, opts: CallOptions = {}): Promise<ResponseHeader> {
    const body = typeof password === 'string' ? { name, password } : { name, options: { no_password: true } }
    return this.change('/v3/auth/user/add', body, opts)
  }

  async userGet(name: string, opts: CallOptions = {}): Promise<{ header: ResponseHeader; roles: string[] }> {
    const o = decodeObject(await this.transport.call('/v3/auth/user/get', { name }, true, opts), 'user get response')
    return { header: decodeHeader(o.header), roles: decodeStrings(o.roles, 'roles') }
  }

  async userList(opts: CallOptions = {}): Promise<{ header: ResponseHeader; users: string[] }> {
    const o = decodeObject(await this.transport.call('/v3/auth/user/list', {}, true, opts), 'user list response')
    return { header: decodeHeader(o.header), users: decodeStrings(o.users, 'users') }
  }

  userDelete(name: string, opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/user/delete', { name }, opts)
  }

  userChangePassword(name: string, password: string, opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/user/changepw', { name, password }, opts)
  }

  userGrantRole(user: string, role: string, opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/user/grant', { user, role }, opts)
  }

  userRevokeRole(name: string, role: string, opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/user/revoke', { name, role }, opts)
  }

  roleAdd(name: string, opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/role/add', { name }, opts)
  }

  async roleGet(role: string, opts: CallOptions = {}): Promise<{ header: ResponseHeader; permissions: Permission[] }> {
    const o = decodeObject(await this.transport.call('/v3/auth/role/get', { role }, true, opts), 'role get response')
    const permissions = decodeList(o.perm, 'perm').map((v): Permission => {
      const p = decodeObject(v, 'permission')
      const permType = p.permType === 'WRITE' || p.permType === 'READWRITE' ? p.permType : 'READ'
      const out: Permission = { permType, key: fromBase64(p.key ?? '', 'key') }
      if (typeof p.range_end === 'string' && p.range_end !== '') out.rangeEnd = fromBase64(p.range_end, 'range_end')
      return out
    })
    return { header: decodeHeader(o.header), permissions }
  }

  async roleList(opts: CallOptions = {}): Promise<{ header: ResponseHeader; roles: string[] }> {
    const o = decodeObject(await this.transport.call('/v3/auth/role/list', {}, true, opts), 'role list response')
    return { header: decodeHeader(o.header), roles: decodeStrings(o.roles, 'roles') }
  }

  roleDelete(role: string, opts: CallOptions = {}): Promise<ResponseHeader> {
    return this.change('/v3/auth/role/delete', { role }, opts)
  }

  roleGrantPermission(name: string, permType: PermissionType, key: Bytes, rangeEnd?: Bytes, opts: CallOptions = {}): Promise<ResponseHeader> {
    const perm: Record<string, string> = { permType, key: toBase64(key) }
    if (rangeEnd !== undefined) perm.range_end = toBase64(rangeEnd)
    return this.change('/v3/auth/role/grant', { name, perm }, opts)
  }

  roleRevokePermission(role: string, key: Bytes, rangeEnd?: Bytes, opts: CallOptions = {}): Promise<ResponseHeader> {
    const body: Record<string, string> = { role, key: toBase64(key) }
    if (rangeEnd !== undefined) body.range_end = toBase64(rangeEnd)
    return this.change('/v3/auth/role/revoke', body, opts)
  }
}
