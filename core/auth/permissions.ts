// The pure permission checker: which keys a user may read or write, and whether a request stays
// inside them. A user's grants (the union over its roles) are merged into sorted, disjoint intervals;
// a request's range is allowed only when one merged interval contains it whole (etcd's
// range-permission cache does the same). The root role may do anything.

import { compareBytes } from '../mvcc/bytes.ts'
import { intervalIsEmpty, toInterval, type KeyInterval } from '../mvcc/interval.ts'
import type { DeleteRangeRequest, PutRequest, RequestOp, TxnRequest } from '../mvcc/requests.ts'
import type { Access, AuthState, Permission } from './types.ts'
import { rootRole } from './types.ts'

/** What one user may touch. Intervals are sorted by start and disjoint (touching ones merged). */
export interface UserPermissions {
  root: boolean
  read: KeyInterval[]
  write: KeyInterval[]
}

/** A key or range a request needs, in etcd's (key, range_end) convention. */
export interface KeyAccess {
  access: Access
  key: Uint8Array
  rangeEnd?: Uint8Array | undefined
}

function endAtOrAfter(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a === undefined || compareBytes(a, b) >= 0
}

/** Sorts and merges intervals so that containment can be checked against one of them. */
export function mergeIntervals(intervals: KeyInterval[]): KeyInterval[] {
  const sorted = intervals.filter((i) => !intervalIsEmpty(i)).sort((a, b) => compareBytes(a.start, b.start))
  const out: KeyInterval[] = []
  for (const next of sorted) {
    const last = out[out.length - 1]
    if (last !== undefined && endAtOrAfter(last.end, next.start)) {
      if (last.end !== undefined && (next.end === undefined || compareBytes(next.end, last.end) > 0)) last.end = next.end
      continue
    }
    out.push({ start: next.start, end: next.end })
  }
  return out
}

/** True when `interval` lies inside one of the merged intervals (an empty interval always does). */
export function coveredBy(merged: KeyInterval[], interval: KeyInterval): boolean {
  if (intervalIsEmpty(interval)) return true
  for (const m of merged) {
    if (compareBytes(m.start, interval.start) > 0) return false
    if (m.end === undefined) return true
    if (interval.end !== undefined && compareBytes(interval.end, m.end) <= 0) return true
  }
  return false
}

function grantsAccess(p: Permission, access: Access): boolean {
  return p.permType === 'READWRITE' || (access === 'read' ? p.permType === 'READ' : p.permType === 'WRITE')
}

/** The merged grants of a user (nothing for an unknown user). */
export function userPermissions(state: AuthState, userName: string): UserPermissions {
  const user = state.users.get(userName)
  if (user === undefined) return { root: false, read: [], write: [] }
  const read: KeyInterval[] = []
  const write: KeyInterval[] = []
  for (const roleName of user.roles) {
    const role = state.roles.get(roleName)
    if (role === undefined) continue
    for (const p of role.permissions) {
      const interval = toInterval(p.key, p.rangeEnd)
      if (grantsAccess(p, 'read')) read.push(interval)
      if (grantsAccess(p, 'write')) write.push(interval)
    }
  }
  return { root: user.roles.includes(rootRole), read: mergeIntervals(read), write: mergeIntervals(write) }
}

export function isAllowed(perms: UserPermissions, need: KeyAccess): boolean {
  if (perms.root) return true
  return coveredBy(need.access === 'read' ? perms.read : perms.write, toInterval(need.key, need.rangeEnd))
}

export function allAllowed(perms: UserPermissions, needs: Iterable<KeyAccess>): boolean {
  for (const need of needs) if (!isAllowed(perms, need)) return false
  return true
}

/**
 * Everything a txn touches: every compare is a read, and both branches count, nested txns too,
 * whichever branch would run — so the answer does not depend on the data (etcd checks the same).
 */
export function txnAccesses(txn: TxnRequest): KeyAccess[] {
  const out: KeyAccess[] = []
  const visit = (t: TxnRequest): void => {
    for (const c of t.compare ?? []) out.push({ access: 'read', key: c.key, rangeEnd: c.rangeEnd })
    for (const op of [...(t.success ?? []), ...(t.failure ?? [])]) visitOp(op)
  }
  const visitOp = (op: RequestOp): void => {
    if ('requestRange' in op) out.push({ access: 'read', key: op.requestRange.key, rangeEnd: op.requestRange.rangeEnd })
    else if ('requestPut' in op) out.push(...putAccesses(op.requestPut))
    else if ('requestDeleteRange' in op) out.push(...deleteAccesses(op.requestDeleteRange))
    else visit(op.requestTxn)
  }
  visit(txn)
  return out
}

/** A put writes its key; with prev_kv it also reads it (etcd checks both). */
export function putAccesses(put: PutRequest): KeyAccess[] {
  const out: KeyAccess[] = [{ access: 'write', key: put.key }]
  if (put.prevKv === true) out.push({ access: 'read', key: put.key })
  return out
}

/** A delete writes its range; with prev_kv it also returns (reads) what it deleted. */
export function deleteAccesses(del: DeleteRangeRequest): KeyAccess[] {
  const out: KeyAccess[] = [{ access: 'write', key: del.key, rangeEnd: del.rangeEnd }]
  if (del.prevKv === true) out.push({ access: 'read', key: del.key, rangeEnd: del.rangeEnd })
  return out
}
