// Public entry of the revisioned keyspace. See docs/mvcc.md.

export type { BackendEntry, BackendIterator, BackendOp, IterateOptions, KvBackend } from './backend.ts'
export { MemoryBackend } from './memory-backend.ts'
export { RocksBackend, type RocksDbHandle } from './rocks-backend.ts'
export {
  MvccStore,
  type ApplyOutcome,
  type HistoryRead,
  type KeyspaceSnapshot,
  type LeaseInfo,
  type MvccStoreOptions,
  type StoreListener,
} from './store.ts'
export type * from './requests.ts'
export { AlarmTable, needsSpace } from './alarms.ts'
export { SpaceUsage } from './space-usage.ts'
export { alarmActions, alarmTypes, compareResults, compareTargets, sortOrders, sortTargets } from './requests.ts'
export type { Event, EventType, KeyValue, ResponseHeader, RevisionEvents } from './types.ts'
export { WatchHub, watcherBufferEventsMaxDefault, ringEventsMaxDefault, type WatchHubOptions } from './watch-hub.ts'
export { Watcher } from './watcher.ts'
export { EventEncoder, eventWithoutPrevKv } from './watch-encode.ts'
export { watchFilterTypes, type WatchCreateRequest, type WatchFilterType, type WatchResponse, type WatchSource } from './watch-types.ts'
export {
  validateApplyRequest,
  validateDeleteRangeRequest,
  validatePutRequest,
  validateRangeRequest,
  validateTxnRequest,
  type ValidationLimits,
} from './validate.ts'
export * from './limits.ts'
export type { RangeStream } from './range.ts'
export { decodeSnapshot, encodeSnapshot, type SnapshotHeader } from './snapshot-stream.ts'
export { prefixEnd } from './bytes.ts'
