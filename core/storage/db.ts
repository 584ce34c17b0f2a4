// The narrow view of an ordered key-value store that everything persistent in a member goes through:
// point reads, atomic write batches (optionally fsynced), and ordered range scans. RocksDb is the real
// one, MemoryDb the twin for tests and the simulator. Keys and values are bytes; keys.ts says which
// prefixes belong to whom, so the Raft log store and the keyspace share one Db and one write path.

import type { WriteBatch } from './write-batch.ts'

/** A range of keys in byte order. Without bounds it covers every key. */
export interface KeyRange {
  gte?: Uint8Array
  gt?: Uint8Array
  lt?: Uint8Array
  lte?: Uint8Array
  /** Largest key first. */
  reverse?: boolean
  /** At most this many pairs. */
  limit?: number
}

export interface KeyValue {
  key: Uint8Array
  value: Uint8Array
}

export interface WriteOptions {
  /**
   * Wait until the batch is on stable storage (fsync of RocksDB's write-ahead log). Without it the
   * batch survives a process crash but not a machine crash; a later synced batch makes it durable too.
   */
  sync: boolean
}

export interface Db {
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /** As get, on the calling thread: cheap for one key, but blocks the event loop while it reads. */
  getSync(key: Uint8Array): Uint8Array | undefined
  /**
   * Applies every operation of `batch` atomically, in order (a later op on the same key wins), then
   * runs the batch's afterWrite callbacks. A crash leaves all of the batch or none of it.
   */
  write(batch: WriteBatch, options: WriteOptions): Promise<void>
  /**
   * Deletes every key in [gte, lt) in one step, outside the journal and without waiting for the disk,
   * however many keys the range holds. Only for records whose return after a crash is harmless: the
   * Raft log's compacted prefix, which the loader skips and the next compaction deletes again.
   */
  discardRange(gte: Uint8Array, lt: Uint8Array): Promise<void>
  /**
   * Pairs in `range`, in key order, from one consistent view taken when the iteration starts: writes
   * made while iterating are not seen. Reads in bounded chunks, so a huge range costs bounded memory.
   * Leaving the loop early (break, throw) releases the view.
   */
  iterate(range: KeyRange): AsyncGenerator<KeyValue, void, undefined>
  /** As iterate, on the calling thread; each chunk read blocks the event loop. */
  iterateSync(range: KeyRange): Generator<KeyValue, void, undefined>
  /** Closes the store; pending iterations must be finished first. Further calls throw. */
  close(): Promise<void>
}

/** Chunk sizes for range scans: rows and bytes fetched per step. */
export const iterateChunkRowsMax = 1000
export const iterateChunkBytesMax = 4 * 1024 * 1024
