import { describe, expect, test } from 'vitest'
import { CairnError } from '../errors.ts'
import { MemoryBackend } from '../mvcc/memory-backend.ts'
import { MvccStore } from '../mvcc/store.ts'
import { applyAuthRequest } from './apply.ts'
import { decodeAuthEntries, encodeMeta, encodeRole, encodeUser, authMetaKey, authRoleKey, authUserKey } from './records.ts'
import type { AuthRequest } from './requests.ts'
import { emptyAuthState, type AuthState } from './types.ts'

const b = (s: string) => new TextEncoder().encode(s)

function run(requests: AuthRequest[], from: AuthState = emptyAuthState()): AuthState {
  return requests.reduce(applyAuthRequest, from)
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    if (e instanceof CairnError) return e.code
    throw e
  }
  return undefined
}

const setup: AuthRequest[] = [
  { userAdd: { name: 'root', passwordHash: 'h', noPassword: false } },
  { userAdd: { name: 'alice', passwordHash: 'h', noPassword: false } },
  { roleAdd: { name: 'app' } },
  { roleGrantPermission: { name: 'app', perm: { permType: 'READWRITE', key: b('app/'), rangeEnd: b('app0') } } },
  { userGrantRole: { user: 'alice', role: 'app' } },
]

describe('auth state transitions (core/auth/apply.ts)', () => {
  test('auth enable needs a root user holding the root role (etcd rule)', () => {
    const secret = { authEnable: { tokenSecret: 's' } }
    expect(codeOf(() => run([secret]))).toBe('RootUserNotExist')
    const s = run(setup)
    expect(codeOf(() => applyAuthRequest(s, secret))).toBe('RootRoleNotExist')
    const on = run([{ userGrantRole: { user: 'root', role: 'root' } }, secret], s)
    expect(on.enabled).toBe(true)
    expect(on.tokenSecret).toBe('s')
    // Enabling again is a no-op (the same state object).
    expect(applyAuthRequest(on, secret)).toBe(on)
  })

  test('while enabled, root cannot be deleted nor lose the root role; the root role cannot be deleted', () => {
    const on = run([...setup, { userGrantRole: { user: 'root', role: 'root' } }, { authEnable: { tokenSecret: 's' } }])
    expect(codeOf(() => applyAuthRequest(on, { userDelete: { name: 'root' } }))).toBe('InvalidAuthMgmt')
    expect(codeOf(() => applyAuthRequest(on, { userRevokeRole: { name: 'root', role: 'root' } }))).toBe('InvalidAuthMgmt')
    expect(codeOf(() => applyAuthRequest(on, { roleDelete: { role: 'root' } }))).toBe('InvalidAuthMgmt')
  })

  test('errors are etcd\'s', () => {
    const s = run(setup)
    expect(codeOf(() => applyAuthRequest(s, { userAdd: { name: 'alice', passwordHash: 'h', noPassword: false } }))).toBe('UserAlreadyExists')
    expect(codeOf(() => applyAuthRequest(s, { userAdd: { name: '', passwordHash: 'h', noPassword: false } }))).toBe('UserEmpty')
    expect(codeOf(() => applyAuthRequest(s, { userGrantRole: { user: 'alice', role: 'nope' } }))).toBe('RoleNotFound')
    expect(codeOf(() => applyAuthRequest(s, { userGrantRole: { user: 'bob', role: 'app' } }))).toBe('UserNotFound')
    expect(codeOf(() => applyAuthRequest(s, { userRevokeRole: { name: 'root', role: 'app' } }))).toBe('RoleNotGranted')
    expect(codeOf(() => applyAuthRequest(s, { roleAdd: { name: 'app' } }))).toBe('RoleAlreadyExists')
    expect(codeOf(() => applyAuthRequest(s, { roleRevokePermission: { role: 'app', key: b('app/') } }))).toBe('PermissionNotGranted')
  })

  test('a change to a role moves the revision of exactly its holders (their tokens stop working)', () => {
    const s = run(setup)
    const before = { alice: s.users.get('alice')!.revision, root: s.users.get('root')!.revision }
    const t = applyAuthRequest(s, { roleRevokePermission: { role: 'app', key: b('app/'), rangeEnd: b('app0') } })
    expect(t.revision).toBe(s.revision + 1)
    expect(t.users.get('alice')!.revision).toBe(t.revision)
    expect(t.users.get('alice')!.revision).not.toBe(before.alice)
    expect(t.users.get('root')!.revision).toBe(before.root)
    const d = applyAuthRequest(t, { roleDelete: { role: 'app' } })
    expect(d.users.get('alice')!.roles).toEqual([])
  })

  test('a grant for the same range replaces the permission type', () => {
    const s = run([...setup, { roleGrantPermission: { name: 'app', perm: { permType: 'READ', key: b('app/'), rangeEnd: b('app0') } } }])
    expect(s.roles.get('app')!.permissions.map((p) => p.permType)).toEqual(['READ'])
  })

  test('records round-trip', () => {
    const s = run([...setup, { userGrantRole: { user: 'root', role: 'root' } }, { authEnable: { tokenSecret: 'sec' } }])
    const entries = [
      { key: authMetaKey, value: encodeMeta(s) },
      ...[...s.users.values()].map((u) => ({ key: authUserKey(u.name), value: encodeUser(u) })),
      ...[...s.roles.values()].map((r) => ({ key: authRoleKey(r.name), value: encodeRole(r) })),
    ]
    expect(decodeAuthEntries(entries)).toEqual(s)
  })
})

describe('auth state in the keyspace store (MvccStore + AuthStore)', () => {
  test('is applied through apply(), refused deterministically, kept across reopen and carried by snapshots', async () => {
    const backend = new MemoryBackend()
    const store = await MvccStore.open(backend)
    let index = 0
    for (const r of setup) expect((await store.apply(++index, { auth: r })).status).toBe('applied')
    const refused = await store.apply(++index, { auth: { roleAdd: { name: 'app' } } })
    expect(refused.status).toBe('refused')
    expect(store.appliedIndex()).toBe(index)
    // A malformed entry from the log is refused, not a crash.
    expect((await store.apply(++index, { auth: { userAdd: { name: 7 } } } as never)).status).toBe('refused')
    await store.apply(++index, { put: { key: b('k'), value: b('v') } })
    const state = store.auth.state()
    expect(state.users.get('alice')!.roles).toEqual(['app'])
    // Auth changes take no keyspace revision (as in etcd).
    expect(store.currentRevision()).toBe(2)

    const reopened = await MvccStore.open(backend)
    expect(reopened.auth.state()).toEqual(state)

    const snapshot = await store.snapshot()
    const target = await MvccStore.open(new MemoryBackend())
    await target.apply(1, { auth: { userAdd: { name: 'stale', passwordHash: 'h', noPassword: false } } })
    await target.restore(snapshot.chunks)
    expect(target.auth.state()).toEqual(state)
    expect(target.auth.state().users.has('stale')).toBe(false)
  })

  test('a guarded write applies only while its user\'s permissions are unchanged (etcd\'s auth revision check)', async () => {
    const store = await MvccStore.open(new MemoryBackend())
    let index = 0
    const enable: AuthRequest[] = [...setup, { userGrantRole: { user: 'root', role: 'root' } }, { authEnable: { tokenSecret: 's' } }]
    for (const r of enable) expect((await store.apply(++index, { auth: r })).status).toBe('applied')
    const revision = store.auth.state().users.get('alice')!.revision
    const put = (v: string) => ({ guarded: { user: 'alice', userRevision: revision, request: { put: { key: b('app/1'), value: b(v) } } } })
    const ok = await store.apply(++index, put('1'))
    expect(ok).toMatchObject({ status: 'applied', response: { put: {} } })
    // The role loses its grant while a write checked before is in flight: the write is refused.
    await store.apply(++index, { auth: { roleRevokePermission: { role: 'app', key: b('app/'), rangeEnd: b('app0') } } })
    const stale = await store.apply(++index, put('2'))
    expect(stale.status === 'refused' && stale.error.code).toBe('AuthOldRevision')
    expect((await store.range({ key: b('app/1') })).kvs.map((kv) => new TextDecoder().decode(kv.value))).toEqual(['1'])
    // With auth off there is nothing to check.
    await store.apply(++index, { auth: { authDisable: {} } })
    expect((await store.apply(++index, put('3'))).status).toBe('applied')
    // An auth change guarded by a user whose permissions changed meanwhile is refused too.
    await store.apply(++index, { auth: { userGrantRole: { user: 'root', role: 'root' } } })
    await store.apply(++index, { auth: { authEnable: { tokenSecret: 's2' } } })
    const staleAdmin = await store.apply(++index, { guarded: { user: 'alice', userRevision: revision, request: { auth: { roleAdd: { name: 'x' } } } } })
    expect(staleAdmin.status === 'refused' && staleAdmin.error.code).toBe('AuthOldRevision')
    expect(store.auth.state().roles.has('x')).toBe(false)
    // A guard around anything but put, deleteRange, txn or auth is refused.
    const bad = await store.apply(++index, { guarded: { user: 'alice', userRevision: revision, request: { compaction: { revision: 1 } } } } as never)
    expect(bad.status === 'refused' && bad.error.code).toBe('InvalidArgument')
  })
})
