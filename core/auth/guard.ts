// The apply-time half of a permission check (etcd's auth revision check). A write or an auth change
// is checked against the user's permissions when proposed, then travels as `guarded` with the user's
// permission revision of that moment. If the user's permissions changed before the entry is applied,
// every member refuses it alike (AuthOldRevision) and the client retries with a fresh check — so a
// change can never slip in under permissions revoked while it was in flight.

import { CairnError, InvalidArgumentError } from '../errors.ts'
import type { AuthState } from './types.ts'

export interface Guard<R> {
  user: string
  /** The user's permission revision when the request was checked. */
  userRevision: number
  request: R
}

/** The guarded request if it may still be applied; throws AuthOldRevision (or InvalidArgument for a bad shape). */
export function unguard<R extends object>(state: AuthState, guard: Guard<R>, kinds: readonly string[]): R {
  if (typeof guard !== 'object' || guard === null || typeof guard.user !== 'string' || typeof guard.userRevision !== 'number') {
    throw new InvalidArgumentError('guarded: expected {user, userRevision, request}')
  }
  const request = guard.request as unknown
  if (typeof request !== 'object' || request === null || Object.keys(request).length !== 1 || !kinds.includes(Object.keys(request)[0]!)) {
    throw new InvalidArgumentError(`guarded: the request must be one of ${kinds.join(', ')}`)
  }
  // Auth turned off meanwhile: nothing left to check (etcd applies unchecked when auth is disabled).
  if (!state.enabled) return guard.request
  if (state.users.get(guard.user)?.revision !== guard.userRevision) throw new CairnError('AuthOldRevision', `${guard.user}'s permissions changed`)
  return guard.request
}
