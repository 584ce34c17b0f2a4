// Public entry point of core/storage: one RocksDB per member (Db), the Raft log store on top of it,
// and their in-memory twins. Everything else in this directory is private to it.

export type { Db, KeyRange, KeyValue, WriteOptions } from './db.ts'
export { iterateChunkBytesMax, iterateChunkRowsMax } from './db.ts'
export { RocksDb } from './rocks-db.ts'
export type { RocksDbOptions } from './rocks-db.ts'
export { MemoryDb, unsyncedBatchesMax } from './memory-db.ts'
export { WriteBatch, writeBatchBytesMax } from './write-batch.ts'
export type { BatchOp } from './write-batch.ts'
export { CorruptionError } from './errors.ts'
export type { RecordFamily } from './errors.ts'
export { ownerPrefix, prefixRange } from './keys.ts'
export type { LogStore, LogUpdate } from './log-store.ts'
export { snapshotDataBytesMax } from './log-planner.ts'
export { MemoryLogStore } from './memory-log-store.ts'
export { RocksLogStore } from './rocks-log-store.ts'
export { crc32c } from './crc32c.ts'
