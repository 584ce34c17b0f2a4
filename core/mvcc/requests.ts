// Requests and responses as plain objects mirroring etcd's v3 protobuf messages (etcdserverpb).
// Optional fields take protobuf's zero value when absent. Enums are the protobuf names as strings.

import type { Guard } from '../auth/guard.ts'
import type { AuthRequest, AuthResponse } from '../auth/requests.ts'
import type { KeyValue, ResponseHeader } from './types.ts'

export const sortOrders = ['NONE', 'ASCEND', 'DESCEND'] as const
export type SortOrder = (typeof sortOrders)[number]

export const sortTargets = ['KEY', 'VERSION', 'CREATE', 'MOD', 'VALUE'] as const
export type SortTarget = (typeof sortTargets)[number]

export interface RangeRequest {
  key: Uint8Array
  /** Absent or empty: the single key. "\0": every key >= key. Otherwise [key, rangeEnd). */
  rangeEnd?: Uint8Array
  /** 0 = no limit. */
  limit?: number
  /** 0 = the current revision. */
  revision?: number
  sortOrder?: SortOrder
  sortTarget?: SortTarget
  /** Read locally without consensus: meaningful to the server only. */
  serializable?: boolean
  keysOnly?: boolean
  countOnly?: boolean
  minModRevision?: number
  maxModRevision?: number
  minCreateRevision?: number
  maxCreateRevision?: number
}

export interface RangeResponse {
  header: ResponseHeader
  kvs: KeyValue[]
  /** More keys matched than `limit` allowed. */
  more: boolean
  /** Keys in the range at the read revision; like etcd, the min/max revision filters do not reduce it. */
  count: number
}

export interface PutRequest {
  key: Uint8Array
  value?: Uint8Array
  lease?: number
  prevKv?: boolean
  ignoreValue?: boolean
  ignoreLease?: boolean
}

export interface PutResponse {
  header: ResponseHeader
  prevKv?: KeyValue
}

export interface DeleteRangeRequest {
  key: Uint8Array
  rangeEnd?: Uint8Array
  prevKv?: boolean
}

export interface DeleteRangeResponse {
  header: ResponseHeader
  deleted: number
  prevKvs: KeyValue[]
}

export const compareResults = ['EQUAL', 'GREATER', 'LESS', 'NOT_EQUAL'] as const
export type CompareResult = (typeof compareResults)[number]

export const compareTargets = ['VERSION', 'CREATE', 'MOD', 'VALUE', 'LEASE'] as const
export type CompareTarget = (typeof compareTargets)[number]

/** Compares the `target` field of every key in the range against the operand of the same name. */
export interface Compare {
  result: CompareResult
  target: CompareTarget
  key: Uint8Array
  rangeEnd?: Uint8Array
  version?: number
  createRevision?: number
  modRevision?: number
  value?: Uint8Array
  lease?: number
}

export type RequestOp =
  | { requestRange: RangeRequest }
  | { requestPut: PutRequest }
  | { requestDeleteRange: DeleteRangeRequest }
  | { requestTxn: TxnRequest }

export type ResponseOp =
  | { responseRange: RangeResponse }
  | { responsePut: PutResponse }
  | { responseDeleteRange: DeleteRangeResponse }
  | { responseTxn: TxnResponse }

export interface TxnRequest {
  compare?: Compare[]
  success?: RequestOp[]
  failure?: RequestOp[]
}

export interface TxnResponse {
  header: ResponseHeader
  succeeded: boolean
  responses: ResponseOp[]
}

export interface CompactionRequest {
  revision: number
  /** Answer only once the space is reclaimed: the server awaits MvccStore.compacted() for it. */
  physical?: boolean
}

export interface CompactionResponse {
  header: ResponseHeader
}

/** `id` must be chosen by the proposer (a positive safe integer): the state machine draws no randomness. */
export interface LeaseGrantRequest {
  id: number
  ttl: number
}

export interface LeaseGrantResponse {
  header: ResponseHeader
  id: number
  /** The granted TTL in seconds, after raising it to the minimum. */
  ttl: number
  error: string
}

export interface LeaseRevokeRequest {
  id: number
}

export interface LeaseRevokeResponse {
  header: ResponseHeader
}

export interface LeaseTimeToLiveRequest {
  id: number
  keys?: boolean
}

/** What the keyspace knows of a lease; the server adds the remaining `ttl` from its own clock. */
export interface LeaseTimeToLiveResponse {
  header: ResponseHeader
  id: number
  grantedTtl: number
  keys: Uint8Array[]
}

export interface LeaseStatus {
  id: number
}

export interface LeaseLeasesResponse {
  header: ResponseHeader
  leases: LeaseStatus[]
}

export const alarmActions = ['GET', 'ACTIVATE', 'DEACTIVATE'] as const
export type AlarmAction = (typeof alarmActions)[number]

/** etcd's AlarmType: NOSPACE stops writes that need space, CORRUPT stops every keyspace change. */
export const alarmTypes = ['NONE', 'NOSPACE', 'CORRUPT'] as const
export type AlarmType = (typeof alarmTypes)[number]

/** etcd's AlarmRequest. Alarms are replicated state: ACTIVATE and DEACTIVATE go through the log. */
export interface AlarmRequest {
  action: AlarmAction
  /** The member that raised (or whose alarm is cleared); 0 with GET means every member. */
  memberId: number
  /** NONE with GET lists every alarm; NONE with ACTIVATE does nothing. */
  alarm: AlarmType
}

export interface AlarmMember {
  memberId: number
  alarm: Exclude<AlarmType, 'NONE'>
}

export interface AlarmResponse {
  header: ResponseHeader
  /** GET: the matching alarms; ACTIVATE/DEACTIVATE: the alarm changed (empty if nothing changed). */
  alarms: AlarmMember[]
}

/** A committed Raft entry's payload, as etcd's InternalRaftRequest: exactly one field is set. */
export type ApplyRequest =
  | { put: PutRequest }
  | { deleteRange: DeleteRangeRequest }
  | { txn: TxnRequest }
  | { compaction: CompactionRequest }
  | { leaseGrant: LeaseGrantRequest }
  | { leaseRevoke: LeaseRevokeRequest }
  | { alarm: AlarmRequest }
  /** A change of users, roles or the auth switch: applied by core/auth, stored beside the keyspace. */
  | { auth: AuthRequest }
  /** A write checked against its user's permissions when proposed: applied only if they are unchanged. */
  | { guarded: Guard<GuardedRequest> }

/** The writes that travel guarded (see core/auth/guard.ts); the answer is the inner request's. */
export type GuardedRequest = { put: PutRequest } | { deleteRange: DeleteRangeRequest } | { txn: TxnRequest } | { auth: AuthRequest }
export const guardedKinds = ['put', 'deleteRange', 'txn', 'auth'] as const

export type ApplyResponse =
  | { put: PutResponse }
  | { deleteRange: DeleteRangeResponse }
  | { txn: TxnResponse }
  | { compaction: CompactionResponse }
  | { leaseGrant: LeaseGrantResponse }
  | { leaseRevoke: LeaseRevokeResponse }
  | { alarm: AlarmResponse }
  | { auth: AuthResponse }
