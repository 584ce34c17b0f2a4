// Public entry point of the Cairn client.

export { Client } from './client.ts'
export type { ClientOptions } from './client.ts'
export { KV, Txn } from './kv.ts'
export { compare, op } from './txn.ts'
export type { Comparison, CompareOperator, TxnOp } from './txn.ts'
export { Lease, LeaseKeepAlive } from './lease.ts'
export type { KeepAliveOptions } from './lease.ts'
export { Cluster } from './cluster.ts'
export { Maintenance } from './maintenance.ts'
export { Auth } from './auth.ts'
export type { AuthStatus, Permission, PermissionType } from './auth.ts'
export { Watch, WATCH_QUEUE_RESPONSES_MAX } from './watch.ts'
export type { WatchEvent, WatchFilter, WatchOptions, WatchResponse } from './watch.ts'
export { Transport, normalizeEndpoint, CALL_TIMEOUT_MS_DEFAULT, DIAL_TIMEOUT_MS_DEFAULT } from './transport.ts'
export type { CallOptions, TransportOptions } from './transport.ts'
export type { ClientTls } from '../tls/fetch.ts'
export { loadClientTls } from './tls-files.ts'
export type { ClientTlsFiles } from './tls-files.ts'
export { prefixEnd, toBytes, toText } from './bytes.ts'
export type { Bytes } from './bytes.ts'
export {
  BadResponseError,
  CanceledError,
  ClientError,
  ClosedError,
  DeadlineExceededError,
  LeaseExpiredError,
  OutcomeUnknownError,
  UnavailableError,
  UnimplementedError,
} from './errors.ts'
export type { ClientErrorCode } from './errors.ts'
export { CairnError, CompactedError } from '../errors.ts'
export type * from './types.ts'
