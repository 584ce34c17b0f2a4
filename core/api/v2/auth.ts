// Auth on the v2 API once auth is enabled (etcd's v2 auth, simplified onto the v3 users and roles):
// credentials come as HTTP basic auth (what `etcdctl --username user:password` sends) or as a v3
// token, and a v2 key path is checked as the v3 key of the same bytes: reading /a/b needs read on
// "/a/b" and on the prefix "/a/b/" (its children, recursive reads and waits), writing needs write on
// them (POST creates a child, so needs the prefix). Cluster paths need any user to read and root to
// change. A refusal answers etcd v2's 401 {"message":"Insufficient credentials"}.

import type { IncomingMessage } from 'node:http'
import type { KeyAccess } from '../../auth/permissions.ts'
import { CairnError } from '../../errors.ts'
import { prefixEnd, utf8 } from '../../mvcc/bytes.ts'
import type { AuthGate, Principal } from '../auth-gate.ts'
import { requireAccess, requireRoot } from '../auth-gate.ts'
import { keysPrefix } from './keys-http.ts'

function cleanKey(raw: string): string {
  let decoded: string
  try {
    decoded = decodeURIComponent(raw)
  } catch {
    decoded = raw
  }
  const parts = decoded.split('/').filter((p) => p !== '' && p !== '.')
  return '/' + parts.join('/')
}

/** The accesses a v2 keys request needs. */
export function v2KeyAccesses(method: string, rawPath: string): KeyAccess[] {
  const key = cleanKey(rawPath.slice(keysPrefix.length))
  const keyBytes = utf8(key)
  const children = utf8(key === '/' ? '/' : key + '/')
  const access = method === 'GET' || method === 'HEAD' ? 'read' : 'write'
  const below: KeyAccess = { access, key: children, rangeEnd: prefixEnd(children) }
  if (method === 'POST') return [below]
  return [{ access, key: keyBytes }, below]
}

/**
 * The principal a request is made for (undefined while auth is off). Throws CairnError (AuthRequired,
 * InvalidAuthToken, PermissionDenied) when the request is refused.
 */
export async function authorizeV2(gate: AuthGate | undefined, req: IncomingMessage, rawPath: string): Promise<Principal | undefined> {
  if (gate === undefined || !gate.enabled()) return undefined
  const principal: Principal | undefined = await gate.authenticate(req)
  const method = req.method ?? 'GET'
  if (rawPath === keysPrefix || rawPath.startsWith(keysPrefix + '/')) requireAccess(principal, v2KeyAccesses(method, rawPath))
  else if (method !== 'GET' && method !== 'HEAD') requireRoot(principal)
  return principal
}

export function isAuthRefusal(e: unknown): e is CairnError {
  return e instanceof CairnError && (e.code === 'AuthRequired' || e.code === 'InvalidAuthToken' || e.code === 'PermissionDenied')
}
