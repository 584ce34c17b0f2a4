// Checks of request shape and limits, done before anything is proposed or applied. They look only at
// the request, never at the keyspace, so they give the same answer on every member. Order of checks
// follows etcd's (v3rpc/key.go) where etcd has the check, so the same bad request gets the same error.

import {
  EmptyKeyError,
  InvalidArgumentError,
  InvalidSortOptionError,
  KeyTooLargeError,
  LeaseProvidedError,
  LeaseTtlTooLargeError,
  TooManyOpsError,
  ValueProvidedError,
  ValueTooLargeError,
} from '../errors.ts'
import { validateAuthRequest } from '../auth/validate.ts'
import { keyBytesMax, leaseTtlSecondsMax, txnDepthMax, valueBytesMax } from './limits.ts'
import {
  alarmActions,
  alarmTypes,
  compareResults,
  compareTargets,
  sortOrders,
  sortTargets,
  type AlarmRequest,
  type ApplyRequest,
  type Compare,
  type CompactionRequest,
  type DeleteRangeRequest,
  type LeaseGrantRequest,
  type PutRequest,
  type RangeRequest,
  type RequestOp,
  type TxnRequest,
} from './requests.ts'
import { checkTxnIntervals } from './txn-intervals.ts'

export interface ValidationLimits {
  txnOpsMax: number
}

function describe(value: unknown): string {
  if (value instanceof Uint8Array) return `${value.length} bytes`
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  // Never String() an object: one from outside may carry a toString that is not a function.
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object' || typeof value === 'function') return 'an object'
  return String(value)
}

/**
 * A request (or part of one) must be an object before its fields are read: entries come from peers
 * and from disk, and a TypeError here would look like a storage failure and stop the member.
 */
function checkObject(value: unknown, what: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new InvalidArgumentError(`${what} must be an object, got ${describe(value)}`)
  }
}

function checkBytes(value: unknown, field: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new InvalidArgumentError(`${field} must be bytes, got ${describe(value)}`)
}

/** A key: non-empty bytes within keyBytesMax. */
export function checkKey(key: unknown, field = 'key'): asserts key is Uint8Array {
  checkBytes(key, field)
  if (key.length === 0) throw new EmptyKeyError(`${field} is empty`)
  if (key.length > keyBytesMax) throw new KeyTooLargeError(key.length, keyBytesMax)
}

function checkRangeEnd(rangeEnd: unknown): void {
  if (rangeEnd === undefined) return
  checkBytes(rangeEnd, 'range_end')
  if (rangeEnd.length > keyBytesMax) throw new KeyTooLargeError(rangeEnd.length, keyBytesMax)
}

/** An optional non-negative safe integer. */
function checkCount(value: unknown, field: string): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${field} must be a non-negative integer, got ${describe(value)}`)
  }
}

function checkFlag(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(`${field} must be a boolean, got ${describe(value)}`)
  }
}

function isOneOf<T extends string>(value: unknown, allowed: readonly T[]): value is T {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value)
}

/** A lease ID as the keyspace stores it: a positive safe integer (0 means "no lease" where allowed). */
export function checkLeaseId(id: unknown, field = 'lease', allowZero = false): void {
  checkCount(id, field)
  if (allowZero && (id === undefined || id === 0)) return
  if (id === undefined || id === 0) throw new InvalidArgumentError(`${field} must be a positive integer`)
}

export function validateRangeRequest(request: RangeRequest): void {
  checkObject(request, 'range request')
  checkKey(request.key)
  checkRangeEnd(request.rangeEnd)
  if (request.sortOrder !== undefined && !isOneOf(request.sortOrder, sortOrders)) {
    throw new InvalidSortOptionError(`sort_order ${describe(request.sortOrder)}`)
  }
  if (request.sortTarget !== undefined && !isOneOf(request.sortTarget, sortTargets)) {
    throw new InvalidSortOptionError(`sort_target ${describe(request.sortTarget)}`)
  }
  checkCount(request.limit, 'limit')
  checkCount(request.revision, 'revision')
  checkCount(request.minModRevision, 'min_mod_revision')
  checkCount(request.maxModRevision, 'max_mod_revision')
  checkCount(request.minCreateRevision, 'min_create_revision')
  checkCount(request.maxCreateRevision, 'max_create_revision')
  for (const flag of ['serializable', 'keysOnly', 'countOnly'] as const) checkFlag(request[flag], flag)
}

export function validatePutRequest(request: PutRequest): void {
  checkObject(request, 'put request')
  checkKey(request.key)
  if (request.value !== undefined) {
    checkBytes(request.value, 'value')
    if (request.value.length > valueBytesMax) throw new ValueTooLargeError(request.value.length, valueBytesMax)
  }
  checkLeaseId(request.lease, 'lease', true)
  for (const flag of ['prevKv', 'ignoreValue', 'ignoreLease'] as const) checkFlag(request[flag], flag)
  if (request.ignoreValue === true && request.value !== undefined && request.value.length > 0) {
    throw new ValueProvidedError()
  }
  if (request.ignoreLease === true && request.lease !== undefined && request.lease !== 0) throw new LeaseProvidedError()
}

export function validateDeleteRangeRequest(request: DeleteRangeRequest): void {
  checkObject(request, 'delete range request')
  checkKey(request.key)
  checkRangeEnd(request.rangeEnd)
  checkFlag(request.prevKv, 'prevKv')
}

function validateCompare(compare: Compare): void {
  checkObject(compare, 'compare')
  checkKey(compare.key)
  checkRangeEnd(compare.rangeEnd)
  if (!isOneOf(compare.result, compareResults)) throw new InvalidArgumentError(`compare result ${describe(compare.result)}`)
  if (!isOneOf(compare.target, compareTargets)) throw new InvalidArgumentError(`compare target ${describe(compare.target)}`)
  checkCount(compare.version, 'compare version')
  checkCount(compare.createRevision, 'compare create_revision')
  checkCount(compare.modRevision, 'compare mod_revision')
  checkCount(compare.lease, 'compare lease')
  if (compare.value !== undefined) checkBytes(compare.value, 'compare value')
}

function validateRequestOp(op: RequestOp, limits: ValidationLimits, depth: number): void {
  if (typeof op !== 'object' || op === null) throw new InvalidArgumentError(`txn operation must be an object, got ${describe(op)}`)
  const fields = Object.keys(op)
  if (fields.length !== 1) throw new InvalidArgumentError(`txn operation must set exactly one request, got [${fields.join(', ')}]`)
  if ('requestRange' in op) validateRangeRequest(op.requestRange)
  else if ('requestPut' in op) validatePutRequest(op.requestPut)
  else if ('requestDeleteRange' in op) validateDeleteRangeRequest(op.requestDeleteRange)
  else if ('requestTxn' in op) validateTxnShape(op.requestTxn, limits, depth + 1)
  else throw new InvalidArgumentError(`unknown txn operation ${fields[0]}`)
}

function checkList(list: unknown, field: string): void {
  if (list !== undefined && !Array.isArray(list)) throw new InvalidArgumentError(`${field} must be a list`)
}

function validateTxnShape(request: TxnRequest, limits: ValidationLimits, depth: number): void {
  checkObject(request, 'txn')
  if (depth > txnDepthMax) throw new InvalidArgumentError(`txns nested deeper than ${txnDepthMax}`)
  checkList(request.compare, 'compare')
  checkList(request.success, 'success')
  checkList(request.failure, 'failure')
  const compare = request.compare ?? []
  const success = request.success ?? []
  const failure = request.failure ?? []
  const count = Math.max(compare.length, success.length, failure.length)
  if (count > limits.txnOpsMax) throw new TooManyOpsError(count, limits.txnOpsMax)
  for (const c of compare) validateCompare(c)
  for (const op of success) validateRequestOp(op, limits, depth)
  for (const op of failure) validateRequestOp(op, limits, depth)
}

export function validateTxnRequest(request: TxnRequest, limits: ValidationLimits): void {
  validateTxnShape(request, limits, 0)
  // After the shape checks, as etcd does, so a malformed request cannot make this pass quadratic.
  checkTxnIntervals(request.success ?? [])
  checkTxnIntervals(request.failure ?? [])
}

export function validateCompactionRequest(request: CompactionRequest): void {
  checkObject(request, 'compaction request')
  checkCount(request.revision, 'revision')
  checkFlag(request.physical, 'physical')
}

export function validateLeaseGrantRequest(request: LeaseGrantRequest): void {
  checkObject(request, 'lease grant request')
  checkLeaseId(request.id, 'ID')
  checkCount(request.ttl, 'TTL')
  if (request.ttl > leaseTtlSecondsMax) throw new LeaseTtlTooLargeError(request.ttl, leaseTtlSecondsMax)
}

export function validateAlarmRequest(request: AlarmRequest): void {
  checkObject(request, 'alarm request')
  if (!isOneOf(request.action, alarmActions)) throw new InvalidArgumentError(`alarm action ${describe(request.action)}`)
  if (!isOneOf(request.alarm, alarmTypes)) throw new InvalidArgumentError(`alarm type ${describe(request.alarm)}`)
  checkCount(request.memberId, 'memberID')
  if (request.memberId === undefined) throw new InvalidArgumentError('memberID is required')
}

/** Validates whichever request the entry carries. Throws a CairnError. */
export function validateApplyRequest(request: ApplyRequest, limits: ValidationLimits): void {
  checkObject(request, 'request')
  const fields = Object.keys(request)
  if (fields.length !== 1) throw new InvalidArgumentError(`request must set exactly one field, got [${fields.join(', ')}]`)
  if ('put' in request) validatePutRequest(request.put)
  else if ('deleteRange' in request) validateDeleteRangeRequest(request.deleteRange)
  else if ('txn' in request) validateTxnRequest(request.txn, limits)
  else if ('compaction' in request) validateCompactionRequest(request.compaction)
  else if ('leaseGrant' in request) validateLeaseGrantRequest(request.leaseGrant)
  else if ('leaseRevoke' in request) {
    checkObject(request.leaseRevoke, 'lease revoke request')
    checkLeaseId(request.leaseRevoke.id, 'ID')
  }
  else if ('alarm' in request) validateAlarmRequest(request.alarm)
  else if ('auth' in request) validateAuthRequest(request.auth)
  else if ('guarded' in request) {
    checkObject(request.guarded, 'guarded request')
    validateApplyRequest(request.guarded.request, limits)
  }
  else throw new InvalidArgumentError(`unknown request ${fields[0]}`)
}
