// /v3/auth/*: etcd's gateway paths and shapes for enabling auth, authenticating, and managing users
// and roles. Changes are proposed through the log as `auth` requests; passwords are hashed here, on
// the proposing member, so applying is fast and the same everywhere. Reads (status, get, list) are
// linearizable reads of the applied auth state.

import type { AuthRequest, AuthResponse } from '../auth/requests.ts'
import { hashPassword } from '../auth/passwords.ts'
import { issueToken, newTokenSecret } from '../auth/tokens.ts'
import type { Permission } from '../auth/types.ts'
import { permissionTypes } from '../auth/types.ts'
import { validateAuthRequest } from '../auth/validate.ts'
import { CairnError, InvalidArgumentError } from '../errors.ts'
import type { Member } from '../server/member.ts'
import type { AuthGate, Principal } from './auth-gate.ts'
import { requireRoot } from './auth-gate.ts'
import { idToDecimal } from './ids-json.ts'
import { asObject, boolField, bytesField, enumField, field, type JsonObject } from './json-fields.ts'
import { encodeHeader, type Json } from './v3-encode.ts'

interface AuthRouteContext {
  principal: Principal | undefined
  gate?: AuthGate | undefined
}

type AuthHandler = (body: unknown, member: Member, path: string, ctx: AuthRouteContext) => Promise<Json>

function header(m: Member): Json {
  return encodeHeader({ clusterId: idToDecimal(m.clusterId), memberId: idToDecimal(m.id), raftTerm: m.term() }, m.mvcc.currentRevision())
}

function stringField(o: JsonObject, name: string): string {
  const v = field(o, name)
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') throw new InvalidArgumentError(`${name}: expected a string`)
  return v
}

function gateOf(ctx: AuthRouteContext): AuthGate {
  if (ctx.gate === undefined) throw new Error('auth routes need the auth gate')
  return ctx.gate
}

/**
 * Proposes an auth change and waits until it is applied here. With auth on, the change carries its
 * user's permission revision, so it is refused if that user lost the root role meanwhile.
 */
export async function proposeAuth(m: Member, request: AuthRequest, principal?: Principal): Promise<AuthResponse> {
  validateAuthRequest(request) // bad input never reaches the log (apply checks again)
  const outcome = await m.propose(
    principal === undefined ? { auth: request } : { guarded: { user: principal.user, userRevision: principal.revision, request: { auth: request } } },
  )
  if (outcome.status === 'refused') throw outcome.error
  if (outcome.status !== 'applied' || outcome.response === undefined || !('auth' in outcome.response)) {
    throw new Error('auth change applied with an unexpected answer')
  }
  return outcome.response.auth
}

function change(make: (o: JsonObject, ctx: AuthRouteContext) => Promise<AuthRequest> | AuthRequest): AuthHandler {
  return async (body, m, _path, ctx) => {
    await proposeAuth(m, await make(asObject(body, 'auth request'), ctx), ctx.principal)
    return { header: header(m) }
  }
}

async function hashed(ctx: AuthRouteContext, password: string): Promise<string> {
  return hashPassword(password, gateOf(ctx).options.bcryptCost)
}

function decodePermission(v: unknown): Permission {
  const o = asObject(v, 'perm')
  const perm: Permission = { permType: enumField(o, 'permType', permissionTypes) ?? 'READ', key: bytesField(o, 'key') ?? new Uint8Array() }
  const rangeEnd = bytesField(o, 'range_end')
  if (rangeEnd !== undefined && rangeEnd.length > 0) perm.rangeEnd = rangeEnd
  return perm
}

function encodePermission(p: Permission): Json {
  // jsonpb leaves out zero values: READ (0) has no permType field, as etcd's gateway answers.
  const out: Json = { key: Buffer.from(p.key).toString('base64') }
  if (p.permType !== 'READ') out.permType = p.permType
  if (p.rangeEnd !== undefined && p.rangeEnd.length > 0) out.range_end = Buffer.from(p.rangeEnd).toString('base64')
  return out
}

async function readState(m: Member) {
  await m.linearizableBarrier()
  return m.mvcc.auth.state()
}

export const authRoutes: Record<string, AuthHandler> = {
  '/v3/auth/enable': change(() => ({ authEnable: { tokenSecret: newTokenSecret() } })),
  '/v3/auth/disable': change(() => ({ authDisable: {} })),
  '/v3/auth/status': async (_body, m) => {
    const state = await readState(m)
    const out: Json = { header: header(m), authRevision: String(state.revision) }
    if (state.enabled) out.enabled = true
    return out
  },
  '/v3/auth/authenticate': async (body, m, _path, ctx) => {
    const o = asObject(body, 'authenticate request')
    const name = stringField(o, 'name')
    const password = stringField(o, 'password')
    const state = await readState(m)
    if (!state.enabled) throw new CairnError('AuthNotEnabled')
    if (!(await gateOf(ctx).checkPassword(name, password))) throw new CairnError('AuthFailed')
    const token = issueToken(m.mvcc.auth.state(), name, Date.now(), gateOf(ctx).options.tokenTtlMs)
    return { header: header(m), token }
  },
  '/v3/auth/user/add': change(async (o, ctx) => {
    const options = asObject(field(o, 'options'), 'options')
    const noPassword = boolField(options, 'no_password') ?? false
    const password = stringField(o, 'password')
    if (!noPassword && password === '') throw new InvalidArgumentError('password: a user needs a password (or options.no_password)')
    return { userAdd: { name: stringField(o, 'name'), passwordHash: noPassword ? '' : await hashed(ctx, password), noPassword } }
  }),
  '/v3/auth/user/get': async (body, m, _path, ctx) => {
    const name = stringField(asObject(body, 'user get request'), 'name')
    // A user may read its own record; anyone else's needs root (etcd's rule).
    if (ctx.principal !== undefined && ctx.principal.user !== name) requireRoot(ctx.principal)
    const state = await readState(m)
    if (name === '') throw new CairnError('UserEmpty')
    const user = state.users.get(name)
    if (user === undefined) throw new CairnError('UserNotFound', name)
    const out: Json = { header: header(m) }
    if (user.roles.length > 0) out.roles = user.roles
    return out
  },
  '/v3/auth/user/list': async (_body, m) => {
    const state = await readState(m)
    const out: Json = { header: header(m) }
    const users = [...state.users.keys()].sort()
    if (users.length > 0) out.users = users
    return out
  },
  '/v3/auth/user/delete': change((o) => ({ userDelete: { name: stringField(o, 'name') } })),
  '/v3/auth/user/changepw': change(async (o, ctx) => {
    const password = stringField(o, 'password')
    if (password === '') throw new InvalidArgumentError('password: must not be empty')
    return { userChangePassword: { name: stringField(o, 'name'), passwordHash: await hashed(ctx, password) } }
  }),
  '/v3/auth/user/grant': change((o) => ({ userGrantRole: { user: stringField(o, 'user'), role: stringField(o, 'role') } })),
  '/v3/auth/user/revoke': change((o) => ({ userRevokeRole: { name: stringField(o, 'name'), role: stringField(o, 'role') } })),
  '/v3/auth/role/add': change((o) => ({ roleAdd: { name: stringField(o, 'name') } })),
  '/v3/auth/role/get': async (body, m, _path, ctx) => {
    const name = stringField(asObject(body, 'role get request'), 'role')
    const state = await readState(m)
    // A user may read the roles it holds; any other role needs root.
    if (ctx.principal !== undefined && !(state.users.get(ctx.principal.user)?.roles.includes(name) ?? false)) requireRoot(ctx.principal)
    if (name === '') throw new CairnError('RoleEmpty')
    const role = state.roles.get(name)
    if (role === undefined) throw new CairnError('RoleNotFound', name)
    const out: Json = { header: header(m) }
    if (role.permissions.length > 0) out.perm = role.permissions.map(encodePermission)
    return out
  },
  '/v3/auth/role/list': async (_body, m) => {
    const state = await readState(m)
    const out: Json = { header: header(m) }
    const roles = [...state.roles.keys()].sort()
    if (roles.length > 0) out.roles = roles
    return out
  },
  '/v3/auth/role/delete': change((o) => ({ roleDelete: { role: stringField(o, 'role') } })),
  '/v3/auth/role/grant': change((o) => ({ roleGrantPermission: { name: stringField(o, 'name'), perm: decodePermission(field(o, 'perm')) } })),
  '/v3/auth/role/revoke': change((o) => {
    const key = bytesField(o, 'key') ?? new Uint8Array()
    const rangeEnd = bytesField(o, 'range_end')
    return { roleRevokePermission: { role: stringField(o, 'role'), key, ...(rangeEnd !== undefined && rangeEnd.length > 0 ? { rangeEnd } : {}) } }
  }),
}
