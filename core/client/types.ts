// What the client returns: etcd's v3 messages as plain objects with camelCase names, bytes as
// Uint8Array, 64-bit numbers as JS numbers (Cairn keeps revisions and IDs below 2^53).

import type { CompareResult, CompareTarget, SortOrder, SortTarget } from '../mvcc/requests.ts'
import type { Bytes } from './bytes.ts'
import type { CallOptions } from './transport.ts'

export type { CompareResult, CompareTarget, SortOrder, SortTarget }

export interface ResponseHeader {
  clusterId: number
  memberId: number
  revision: number
  raftTerm: number
}

export interface KeyValue {
  key: Uint8Array
  value: Uint8Array
  createRevision: number
  modRevision: number
  version: number
  /** 0 when the key is not attached to a lease. */
  lease: number
}

/** Which keys an operation covers: one key, a prefix, every key from a key on, or [key, end). */
export interface KeyRange {
  /** Exclusive end of the range. */
  end?: Bytes
  /** Every key that starts with the key (an empty key: every key). */
  prefix?: boolean
  /** Every key >= the key (an empty key: every key). */
  fromKey?: boolean
}

export interface RangeOptions extends KeyRange {
  /** Most keys to return; 0 = no limit. */
  limit?: number
  /** Read at this revision; 0 = the latest. */
  revision?: number
  sortOrder?: SortOrder
  sortTarget?: SortTarget
  /** Read the member's local state at once instead of a linearizable read. */
  serializable?: boolean
  keysOnly?: boolean
  countOnly?: boolean
  minModRevision?: number
  maxModRevision?: number
  minCreateRevision?: number
  maxCreateRevision?: number
}

export interface RangeResult {
  header: ResponseHeader
  kvs: KeyValue[]
  /** More keys matched than the limit allowed. */
  more: boolean
  /** Keys in the range (the min/max revision filters do not reduce it, as in etcd). */
  count: number
}

export interface PutOptions {
  lease?: number
  prevKv?: boolean
  /** Keep the current value (change only the lease). */
  ignoreValue?: boolean
  /** Keep the current lease. */
  ignoreLease?: boolean
}

export interface PutResult {
  header: ResponseHeader
  prevKv?: KeyValue
}

export interface DeleteOptions extends KeyRange {
  prevKv?: boolean
}

export interface DeleteResult {
  header: ResponseHeader
  deleted: number
  prevKvs: KeyValue[]
}

export type OpResult =
  | { kind: 'range'; range: RangeResult }
  | { kind: 'put'; put: PutResult }
  | { kind: 'delete'; delete: DeleteResult }
  | { kind: 'txn'; txn: TxnResult }

export interface TxnResult {
  header: ResponseHeader
  succeeded: boolean
  responses: OpResult[]
}

export interface CompactResult {
  header: ResponseHeader
}

export interface LeaseGrantResult {
  header: ResponseHeader
  id: number
  /** Granted TTL in seconds (the server may raise it to its minimum). */
  ttl: number
}

export interface LeaseKeepAliveResult {
  header: ResponseHeader
  id: number
  /** TTL the lease was refreshed to, in seconds; 0 when the lease no longer exists. */
  ttl: number
}

export interface LeaseTimeToLiveResult {
  header: ResponseHeader
  id: number
  /** Remaining seconds; -1 when the lease does not exist (expired or revoked). */
  ttl: number
  grantedTtl: number
  keys: Uint8Array[]
}

export interface LeaseListResult {
  header: ResponseHeader
  leases: number[]
}

export interface Member {
  id: number
  /** Empty while the member has not started (joined but never published its name). */
  name: string
  peerUrls: string[]
  clientUrls: string[]
  isLearner: boolean
}

export interface MemberListResult {
  header: ResponseHeader
  members: Member[]
}

export interface MemberAddResult {
  header: ResponseHeader
  member: Member
  members: Member[]
}

export interface StatusResult {
  header: ResponseHeader
  version: string
  dbSize: number
  dbSizeInUse: number
  leader: number
  raftIndex: number
  raftTerm: number
  raftAppliedIndex: number
  isLearner: boolean
  errors: string[]
}

export interface AlarmInfo {
  memberId: number
  alarm: 'NOSPACE' | 'CORRUPT'
}

export interface AlarmsResult {
  header: ResponseHeader
  alarms: AlarmInfo[]
}

export interface HealthResult {
  health: boolean
  reason: string
}

export type WithCall<T> = T & CallOptions
