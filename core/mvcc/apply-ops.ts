// What each request does to the keyspace, inside one WriteTxn. Deterministic: the outcome depends
// only on the request and the stored state, so every member computes the same answer. A CairnError
// thrown here means "refused, nothing changed" — the caller drops the WriteTxn.
//
// A txn runs in etcd's three steps: evaluate all compares (nested ones too) against the state before
// the txn, check the chosen operations (puts first, then reads — etcd's order, which decides which
// error is reported when several apply), then execute them. Execution fails in one corner only: etcd's
// duplicate-key check ignores deletes with range_end "\0", so a txn may delete a key and then put it
// with ignore_value/ignore_lease. etcd panics there; we refuse the entry (nothing is written).

import {
  CompactedError,
  FutureRevisionError,
  KeyNotFoundError,
  LeaseExistsError,
  LeaseNotFoundError,
} from '../errors.ts'
import type { KvBackend } from './backend.ts'
import { emptyBytes } from './bytes.ts'
import { evaluateCompares } from './compare.ts'
import { toInterval } from './interval.ts'
import { rangeScansReverse, runRange } from './range.ts'
import type {
  ApplyRequest,
  ApplyResponse,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantRequest,
  LeaseGrantResponse,
  LeaseRevokeRequest,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from './requests.ts'
import { openScanAt } from './scan.ts'
import type { KeyValue } from './types.ts'
import type { WriteTxn } from './write-txn.ts'

export interface ApplyContext {
  txn: WriteTxn
  backend: KvBackend
  /** Compact revision before this entry. */
  compactRevision: number
  leaseTtlSecondsMin: number
}

async function checkPut(context: ApplyContext, request: PutRequest): Promise<void> {
  if (request.ignoreValue === true || request.ignoreLease === true) {
    if ((await context.txn.get(request.key)) === undefined) throw new KeyNotFoundError()
  }
  const lease = request.lease ?? 0
  if (lease !== 0 && (await context.txn.lease(lease)) === undefined) throw new LeaseNotFoundError(lease)
}

async function executePut(context: ApplyContext, request: PutRequest): Promise<PutResponse> {
  const { txn } = context
  const current = await txn.get(request.key)
  if (current === undefined && (request.ignoreValue === true || request.ignoreLease === true)) throw new KeyNotFoundError()
  const value = request.ignoreValue === true ? (current?.value ?? emptyBytes) : (request.value ?? emptyBytes).slice()
  const lease = request.ignoreLease === true ? (current?.lease ?? 0) : (request.lease ?? 0)
  const prev = await txn.put(request.key.slice(), value, lease)
  const response: PutResponse = { header: { revision: txn.visibleRevision } }
  if (request.prevKv === true && prev !== undefined) response.prevKv = prev
  return response
}

async function executeDeleteRange(context: ApplyContext, request: DeleteRangeRequest): Promise<DeleteRangeResponse> {
  const { txn } = context
  const doomed: KeyValue[] = []
  for await (const kv of txn.scan(toInterval(request.key, request.rangeEnd), false)) doomed.push(kv)
  for (const kv of doomed) txn.delete(kv)
  return { header: { revision: txn.visibleRevision }, deleted: doomed.length, prevKvs: request.prevKv === true ? doomed : [] }
}

function checkRange(context: ApplyContext, request: RangeRequest): void {
  const revision = request.revision ?? 0
  if (revision === 0) return
  if (revision > context.txn.baseRevision) throw new FutureRevisionError(revision, context.txn.baseRevision)
  if (revision < context.compactRevision) throw new CompactedError(context.compactRevision)
}

async function executeRange(context: ApplyContext, request: RangeRequest): Promise<RangeResponse> {
  const { txn } = context
  const reverse = rangeScansReverse(request)
  const interval = toInterval(request.key, request.rangeEnd)
  const revision = request.revision ?? 0
  // An explicit revision reads committed state, so it does not see this txn's own changes.
  const scan =
    revision === 0 ? txn.scan(interval, reverse) : openScanAt(context.backend, interval, revision, txn.baseRevision, reverse)
  return runRange(request, scan, txn.visibleRevision)
}

/** Which branch each txn takes: the top one, then its nested txns in order, depth first. */
interface TxnPlan {
  succeeded: boolean
  nested: TxnPlan[]
}

function branch(request: TxnRequest, succeeded: boolean): RequestOp[] {
  return (succeeded ? request.success : request.failure) ?? []
}

async function planTxn(context: ApplyContext, request: TxnRequest): Promise<TxnPlan> {
  const succeeded = await evaluateCompares(context.txn, request.compare ?? [])
  const nested: TxnPlan[] = []
  for (const op of branch(request, succeeded)) {
    if ('requestTxn' in op) nested.push(await planTxn(context, op.requestTxn))
  }
  return { succeeded, nested }
}

async function checkPlan(context: ApplyContext, request: TxnRequest, plan: TxnPlan, kind: 'put' | 'range'): Promise<void> {
  let nested = 0
  for (const op of branch(request, plan.succeeded)) {
    if ('requestTxn' in op) await checkPlan(context, op.requestTxn, plan.nested[nested++]!, kind)
    else if (kind === 'put' && 'requestPut' in op) await checkPut(context, op.requestPut)
    else if (kind === 'range' && 'requestRange' in op) checkRange(context, op.requestRange)
  }
}

async function executeTxn(context: ApplyContext, request: TxnRequest, plan: TxnPlan): Promise<TxnResponse> {
  let nested = 0
  const responses: ResponseOp[] = []
  for (const op of branch(request, plan.succeeded)) {
    if ('requestRange' in op) responses.push({ responseRange: await executeRange(context, op.requestRange) })
    else if ('requestPut' in op) responses.push({ responsePut: await executePut(context, op.requestPut) })
    else if ('requestDeleteRange' in op) {
      responses.push({ responseDeleteRange: await executeDeleteRange(context, op.requestDeleteRange) })
    } else responses.push({ responseTxn: await executeTxn(context, op.requestTxn, plan.nested[nested++]!) })
  }
  return { header: { revision: context.txn.visibleRevision }, succeeded: plan.succeeded, responses }
}

async function applyTxn(context: ApplyContext, request: TxnRequest): Promise<TxnResponse> {
  const plan = await planTxn(context, request)
  await checkPlan(context, request, plan, 'put')
  await checkPlan(context, request, plan, 'range')
  return executeTxn(context, request, plan)
}

function applyCompaction(context: ApplyContext, request: CompactionRequest): CompactionResponse {
  const { txn } = context
  if (request.revision <= context.compactRevision) throw new CompactedError(context.compactRevision)
  if (request.revision > txn.baseRevision) throw new FutureRevisionError(request.revision, txn.baseRevision)
  txn.compact(request.revision)
  return { header: { revision: txn.baseRevision } }
}

async function applyLeaseGrant(context: ApplyContext, request: LeaseGrantRequest): Promise<LeaseGrantResponse> {
  const { txn } = context
  if ((await txn.lease(request.id)) !== undefined) throw new LeaseExistsError(request.id)
  const ttl = Math.max(request.ttl, context.leaseTtlSecondsMin)
  txn.grantLease(request.id, { ttl })
  return { header: { revision: txn.visibleRevision }, id: request.id, ttl, error: '' }
}

async function applyLeaseRevoke(context: ApplyContext, request: LeaseRevokeRequest): Promise<LeaseRevokeResponse> {
  const { txn } = context
  if ((await txn.lease(request.id)) === undefined) throw new LeaseNotFoundError(request.id)
  for (const key of await txn.leaseKeys(request.id)) {
    const kv = await txn.get(key)
    if (kv !== undefined) txn.delete(kv)
  }
  txn.removeLease(request.id)
  return { header: { revision: txn.visibleRevision } }
}

/** The requests that change the keyspace (what applyToTxn applies). */
export type KeyspaceRequest = Exclude<ApplyRequest, { alarm: unknown } | { auth: unknown } | { guarded: unknown }>

/**
 * Applies one validated request to `context.txn`. Throws a CairnError if it is refused. Alarm entries
 * change the alarm table and auth entries the auth state, not the keyspace: the store applies them
 * (alarms.ts, core/auth/auth-store.ts), and unwraps guarded entries before they get here.
 */
export async function applyToTxn(context: ApplyContext, request: KeyspaceRequest): Promise<ApplyResponse> {
  if ('put' in request) {
    await checkPut(context, request.put)
    return { put: await executePut(context, request.put) }
  }
  if ('deleteRange' in request) return { deleteRange: await executeDeleteRange(context, request.deleteRange) }
  if ('txn' in request) return { txn: await applyTxn(context, request.txn) }
  if ('compaction' in request) return { compaction: applyCompaction(context, request.compaction) }
  if ('leaseGrant' in request) return { leaseGrant: await applyLeaseGrant(context, request.leaseGrant) }
  return { leaseRevoke: await applyLeaseRevoke(context, request.leaseRevoke) }
}
