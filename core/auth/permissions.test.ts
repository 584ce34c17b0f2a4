import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import type { TxnRequest } from '../mvcc/requests.ts'
import { applyAuthRequest } from './apply.ts'
import { coveredBy, isAllowed, mergeIntervals, txnAccesses, userPermissions, type KeyAccess } from './permissions.ts'
import type { AuthRequest } from './requests.ts'
import { emptyAuthState, type AuthState, type Permission, type PermissionType } from './types.ts'

const te = new TextEncoder()
const b = (s: string) => te.encode(s)
const zero = Uint8Array.of(0)

function stateWith(perms: Permission[], roles: string[] = ['r']): AuthState {
  let s = emptyAuthState()
  const apply = (r: AuthRequest) => (s = applyAuthRequest(s, r))
  apply({ userAdd: { name: 'u', passwordHash: 'h', noPassword: false } })
  apply({ roleAdd: { name: 'r' } })
  for (const perm of perms) apply({ roleGrantPermission: { name: 'r', perm } })
  for (const role of roles) apply({ userGrantRole: { user: 'u', role } })
  return s
}

const can = (s: AuthState, access: KeyAccess['access'], key: string, rangeEnd?: Uint8Array | string) =>
  isAllowed(userPermissions(s, 'u'), { access, key: b(key), rangeEnd: typeof rangeEnd === 'string' ? b(rangeEnd) : rangeEnd })

describe('permission checker (core/auth/permissions.ts)', () => {
  test('a single-key grant allows that key only', () => {
    const s = stateWith([{ permType: 'READ', key: b('foo') }])
    expect(can(s, 'read', 'foo')).toBe(true)
    expect(can(s, 'read', 'foo0')).toBe(false)
    expect(can(s, 'read', 'fo')).toBe(false)
    expect(can(s, 'write', 'foo')).toBe(false)
    expect(can(s, 'read', 'foo', 'fop')).toBe(false) // [foo, fop) holds more than foo
  })

  test('a prefix grant allows every key and sub-range under the prefix, and nothing past it', () => {
    const s = stateWith([{ permType: 'READWRITE', key: b('app/'), rangeEnd: b('app0') }])
    expect(can(s, 'write', 'app/x')).toBe(true)
    expect(can(s, 'read', 'app/', 'app0')).toBe(true)
    expect(can(s, 'read', 'app/a', 'app/b')).toBe(true)
    expect(can(s, 'read', 'app/', 'app1')).toBe(false)
    expect(can(s, 'read', 'app')).toBe(false)
    expect(can(s, 'read', 'app/', zero)).toBe(false) // from-key reaches past the prefix
  })

  test('a from-key grant allows everything from its key on', () => {
    const s = stateWith([{ permType: 'WRITE', key: b('m'), rangeEnd: zero }])
    expect(can(s, 'write', 'zzz')).toBe(true)
    expect(can(s, 'write', 'm', zero)).toBe(true)
    expect(can(s, 'write', 'l', zero)).toBe(false)
    expect(can(s, 'read', 'zzz')).toBe(false)
  })

  test('adjacent grants merge, so a range spanning both is allowed', () => {
    const s = stateWith([
      { permType: 'READ', key: b('a'), rangeEnd: b('c') },
      { permType: 'READWRITE', key: b('c'), rangeEnd: b('e') },
    ])
    expect(can(s, 'read', 'a', 'e')).toBe(true)
    expect(can(s, 'read', 'a', 'f')).toBe(false)
    expect(can(s, 'write', 'a', 'd')).toBe(false)
  })

  test('the root role allows everything; no role allows nothing', () => {
    expect(can(stateWith([], ['root']), 'write', '', zero)).toBe(true)
    expect(can(stateWith([], []), 'read', 'x')).toBe(false)
  })

  test('a txn is allowed only if every compare and every op of both branches is (nested too)', () => {
    const s = stateWith([
      { permType: 'READWRITE', key: b('ok/'), rangeEnd: b('ok0') },
      { permType: 'READ', key: b('ro') },
    ])
    const p = userPermissions(s, 'u')
    const allowed = (t: TxnRequest) => txnAccesses(t).every((n) => isAllowed(p, n))
    const put = (k: string) => ({ requestPut: { key: b(k), value: b('v') } })
    expect(allowed({ compare: [{ key: b('ro'), target: 'VERSION', result: 'EQUAL', version: 0 }], success: [put('ok/1')], failure: [put('ok/2')] })).toBe(true)
    expect(allowed({ success: [put('ok/1')], failure: [put('ro')] })).toBe(false) // the failure branch writes a read-only key
    expect(allowed({ compare: [{ key: b('secret'), target: 'VERSION', result: 'EQUAL', version: 0 }], success: [] })).toBe(false)
    expect(allowed({ success: [{ requestTxn: { failure: [{ requestRange: { key: b('secret') } }] } }] })).toBe(false)
    expect(allowed({ success: [{ requestDeleteRange: { key: b('ok/'), rangeEnd: b('ok0'), prevKv: true } }] })).toBe(true)
  })

  // A naive model: keys over the bytes 0-3 up to length 3, and "allowed" means every key of the range
  // lies inside some grant, checked key by key. Grants and requests use bytes 0-2 only, so the model's
  // keys stand for every real key (a longer key compares to each boundary as its 3-byte prefix does,
  // and any byte above 2 as byte 3).
  test('agrees with a key-by-key model on random grants and requests', () => {
    const alphabet = ['\x00', '\x01', '\x02']
    const keys: string[] = ['']
    for (let len = 1; len <= 3; len++) for (const k of keys.filter((x) => x.length === len - 1)) for (const c of [...alphabet, '\x03']) keys.push(k + c)
    const word = fc.array(fc.constantFrom(...alphabet), { maxLength: 3 }).map((xs) => xs.join(''))
    const end = fc.oneof(fc.constant<string | undefined>(undefined), fc.constant('\0'), word)
    const perm = fc.record({ permType: fc.constantFrom<PermissionType>('READ', 'WRITE', 'READWRITE'), key: word, end })
    const inRange = (k: string, key: string, e: string | undefined) => (e === undefined || e === '' ? k === key : e === '\0' ? k >= key : k >= key && k < e)
    fc.assert(
      fc.property(fc.array(perm, { maxLength: 4 }), word, end, fc.constantFrom<'read' | 'write'>('read', 'write'), (perms, key, e, access) => {
        const s = stateWith(perms.map((p) => ({ permType: p.permType, key: b(p.key), ...(p.end !== undefined ? { rangeEnd: b(p.end) } : {}) })))
        // A grant for the same range as an earlier one replaces it (etcd): the last one counts.
        const effective = perms.filter((p, i) => !perms.slice(i + 1).some((q) => q.key === p.key && (q.end ?? '') === (p.end ?? '')))
        const expected = keys
          .filter((k) => inRange(k, key, e))
          .every((k) =>
            effective.some((p) => (p.permType === 'READWRITE' || p.permType === (access === 'read' ? 'READ' : 'WRITE')) && inRange(k, p.key, p.end)),
          )
        expect(can(s, access, key, e)).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })

  test('mergeIntervals and coveredBy: an empty request range is always covered', () => {
    const merged = mergeIntervals([{ start: b('b'), end: b('c') }])
    expect(coveredBy(merged, { start: b('x'), end: b('a') })).toBe(true)
    expect(coveredBy([], { start: b('a'), end: b('b') })).toBe(false)
  })
})
