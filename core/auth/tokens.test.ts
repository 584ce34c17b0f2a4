import type { IncomingMessage } from 'node:http'
import { TLSSocket } from 'node:tls'
import { describe, expect, test } from 'vitest'
import { identityFromRequest } from '../api/auth-gate.ts'
import { CairnError } from '../errors.ts'
import { applyAuthRequest } from './apply.ts'
import { issueToken, verifyToken } from './tokens.ts'
import { emptyAuthState, type AuthState } from './types.ts'

function enabled(secret = 'secret-1'): AuthState {
  return [
    { userAdd: { name: 'root', passwordHash: 'h', noPassword: false } },
    { userGrantRole: { user: 'root', role: 'root' } },
    { userAdd: { name: 'alice', passwordHash: 'h', noPassword: false } },
    { roleAdd: { name: 'app' } },
    { userGrantRole: { user: 'alice', role: 'app' } },
    { authEnable: { tokenSecret: secret } },
  ].reduce((s, r) => applyAuthRequest(s, r as never), emptyAuthState())
}

function refusal(f: () => unknown): string | undefined {
  try {
    f()
  } catch (e) {
    if (e instanceof CairnError) return `${e.code}: ${e.detail}`
    throw e
  }
  return undefined
}

describe('auth tokens (core/auth/tokens.ts)', () => {
  test('a token names its user until it expires', () => {
    const s = enabled()
    const t = issueToken(s, 'alice', 1_000, 300_000)
    expect(verifyToken(s, t, 1_000 + 299_999)).toMatchObject({ user: 'alice', expiresAtMs: 301_000 })
    expect(refusal(() => verifyToken(s, t, 301_000))).toBe('InvalidAuthToken: expired')
  })

  test('a token dies when its user\'s permissions change, not when another user\'s do', () => {
    const s = enabled()
    const t = issueToken(s, 'alice', 0, 300_000)
    const other = applyAuthRequest(s, { userAdd: { name: 'bob', passwordHash: 'h', noPassword: false } })
    expect(verifyToken(other, t, 1).user).toBe('alice')
    const changed = applyAuthRequest(other, { roleGrantPermission: { name: 'app', perm: { permType: 'READ', key: new Uint8Array([1]) } } })
    expect(refusal(() => verifyToken(changed, t, 1))).toBe('InvalidAuthToken: the user or its permissions changed')
    const gone = applyAuthRequest(s, { userDelete: { name: 'alice' } })
    expect(refusal(() => verifyToken(gone, t, 1))).toMatch(/^InvalidAuthToken/)
  })

  test('a forged, altered or foreign token is refused', () => {
    const s = enabled()
    const t = issueToken(s, 'alice', 0, 300_000)
    const [payload, mac] = t.split('.') as [string, string]
    const forged = Buffer.from(JSON.stringify({ u: 'root', r: s.users.get('root')!.revision, e: 10 ** 15 })).toString('base64url')
    expect(refusal(() => verifyToken(s, `${forged}.${mac}`, 1))).toBe('InvalidAuthToken: bad signature')
    expect(refusal(() => verifyToken(s, `${payload}.`, 1))).toBe('InvalidAuthToken: bad signature')
    expect(refusal(() => verifyToken(s, 'garbage', 1))).toBe('InvalidAuthToken: malformed')
    expect(refusal(() => verifyToken(enabled('another-secret'), t, 1))).toBe('InvalidAuthToken: bad signature')
  })
})

function request(headers: Record<string, string>, socket: object = {}): IncomingMessage {
  return { headers, socket } as unknown as IncomingMessage
}

describe('identityFromRequest (core/api/auth-gate.ts)', () => {
  test('reads a token, basic auth, or a verified client certificate\'s common name, in that order', () => {
    expect(identityFromRequest(request({ authorization: 'abc.def' }))).toEqual({ kind: 'token', token: 'abc.def' })
    expect(identityFromRequest(request({ authorization: 'Bearer abc.def' }))).toEqual({ kind: 'token', token: 'abc.def' })
    const basic = 'Basic ' + Buffer.from('alice:pa:ss').toString('base64')
    expect(identityFromRequest(request({ authorization: basic }))).toEqual({ kind: 'basic', user: 'alice', password: 'pa:ss' })
    // A TLS socket as the TLS layer sees one (clientCertCommonName reads verified TLSSockets only).
    const tls = (authorized: boolean) => Object.assign(Object.create(TLSSocket.prototype) as object, { authorized, getPeerCertificate: () => ({ subject: { CN: 'svc' } }) })
    expect(identityFromRequest(request({}, tls(true)))).toEqual({ kind: 'certificate', user: 'svc' })
    expect(identityFromRequest(request({}, tls(false)))).toBeUndefined()
    expect(identityFromRequest(request({ authorization: 'tok' }, tls(true)))).toEqual({ kind: 'token', token: 'tok' })
    expect(identityFromRequest(request({}))).toBeUndefined()
    // A socket that only looks like TLS (not a TLSSocket) names nobody.
    expect(identityFromRequest(request({}, { authorized: true, getPeerCertificate: () => ({ subject: { CN: 'svc' } }) }))).toBeUndefined()
  })
})
