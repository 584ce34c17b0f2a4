// The auth state of one member: kept in memory for the permission checks of every request, stored
// under its own prefix in the member's backend, and changed only by applied log entries. The keyspace
// store (core/mvcc/store.ts) calls prepare() inside apply and writes the returned ops in the same batch
// as the entry's applied index, then commit(); snapshots carry the prefix, and load() runs after a
// restore.

import type { BackendOp, KvBackend } from '../mvcc/backend.ts'
import { entriesOf } from '../mvcc/backend.ts'
import { applyAuthRequest } from './apply.ts'
import { authBounds, authMetaKey, authRoleKey, authUserKey, decodeAuthEntries, encodeMeta, encodeRole, encodeUser } from './records.ts'
import type { AuthRequest, AuthResponse } from './requests.ts'
import type { AuthState } from './types.ts'
import { emptyAuthState } from './types.ts'
import { validateAuthRequest } from './validate.ts'

export interface PreparedAuthChange {
  ops: BackendOp[]
  response: AuthResponse
  /** Makes the change visible in memory; call once the ops are written. */
  commit(): void
}

export class AuthStore {
  private current: AuthState = emptyAuthState()
  private readonly listeners = new Set<(state: AuthState) => void>()

  /** The applied state (replaced, never mutated, by each change). */
  state(): AuthState {
    return this.current
  }

  /** Told after every change (and after load), synchronously. */
  subscribe(listener: (state: AuthState) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  async load(backend: KvBackend): Promise<void> {
    const entries: Array<{ key: Uint8Array; value: Uint8Array }> = []
    for await (const e of entriesOf(backend.iterate(authBounds))) entries.push(e)
    this.set(entries.length === 0 ? emptyAuthState() : decodeAuthEntries(entries))
  }

  /** Computes the change; throws CairnError (deterministic refusal) without changing anything. */
  prepare(request: unknown): PreparedAuthChange {
    validateAuthRequest(request)
    const before = this.current
    const after = applyAuthRequest(before, request as AuthRequest)
    return { ops: diffOps(before, after), response: { authRevision: after.revision }, commit: () => this.set(after) }
  }

  private set(state: AuthState): void {
    this.current = state
    for (const l of this.listeners) l(state)
  }
}

function diffOps(before: AuthState, after: AuthState): BackendOp[] {
  if (before === after) return []
  const ops: BackendOp[] = [{ type: 'put', key: authMetaKey, value: encodeMeta(after) }]
  for (const [name, u] of after.users) if (before.users.get(name) !== u) ops.push({ type: 'put', key: authUserKey(name), value: encodeUser(u) })
  for (const name of before.users.keys()) if (!after.users.has(name)) ops.push({ type: 'del', key: authUserKey(name) })
  for (const [name, r] of after.roles) if (before.roles.get(name) !== r) ops.push({ type: 'put', key: authRoleKey(name), value: encodeRole(r) })
  for (const name of before.roles.keys()) if (!after.roles.has(name)) ops.push({ type: 'del', key: authRoleKey(name) })
  return ops
}
