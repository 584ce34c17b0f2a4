// Db over one RocksDB directory, through @nxtedition/rocksdb. Facts about the binding that shape this:
// - A write batch is applied on the calling thread (there is no async write), so a batch synced by
//   RocksDB would hold the event loop for one fsync. A synced write here is an unsynced RocksDB write
//   followed by an fdatasync of the write-ahead log on the thread pool (wal-sync.ts).
// - WAL compression is off: it cost CPU on the event loop for every write and our records are small.
// - There is no explicit snapshot handle, but every RocksDB iterator reads from an implicit snapshot
//   taken when it is created. iterate() creates its iterator at the call, so one iteration is one
//   consistent read view: the way to take a snapshot of the keyspace while writes go on.
// - RocksDB replays its write-ahead log on open and drops a torn tail batch whole, so batches are
//   atomic across a crash; our own checksums (record.ts) guard the values themselves.

import { promises as fs } from 'node:fs'
import { RocksLevel } from '@nxtedition/rocksdb'
import type { RocksRange } from '@nxtedition/rocksdb'
import { iterateChunkBytesMax, iterateChunkRowsMax } from './db.ts'
import type { Db, KeyRange, KeyValue, WriteOptions } from './db.ts'
import { WalSync } from './wal-sync.ts'
import type { WriteBatch } from './write-batch.ts'

export interface RocksDbOptions {
  /** Bytes of memtables before RocksDB flushes to a table file; RocksDB's default here is 256 MiB. */
  memtableBytesMax?: number
  /** RocksDB background threads (flush and compaction); default half the cores. */
  backgroundThreads?: number
}

export class RocksDb implements Db {
  private readonly wal: WalSync

  private constructor(
    private readonly level: RocksLevel,
    /** The directory holding the database. */
    readonly path: string,
  ) {
    this.wal = WalSync.forDirectory(path, fs)
  }

  /** How many WAL syncs have completed (a synced write costs at most two; concurrent ones share). */
  get walSyncs(): number {
    return this.wal.syncs
  }

  /** Opens (creating if missing) the database in directory `path`. Fails if another handle holds it. */
  static async open(path: string, options: RocksDbOptions = {}): Promise<RocksDb> {
    const level = new RocksLevel(path, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
    await level.open({
      createIfMissing: true,
      errorIfExists: false,
      walCompression: false,
      ...(options.memtableBytesMax === undefined ? {} : { memtableMemoryBudget: options.memtableBytesMax }),
      ...(options.backgroundThreads === undefined ? {} : { parallelism: options.backgroundThreads }),
    })
    return new RocksDb(level, path)
  }

  /**
   * The underlying @nxtedition/rocksdb handle, for adapters that speak its API directly (core/mvcc's
   * RocksBackend), so the keyspace and the log share this one database. Do not close it directly.
   */
  get handle(): RocksLevel {
    return this.level
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const [value] = await this.level.getMany([key])
    return value
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    const [value] = this.level._getManySync([key], {})
    return value ?? undefined
  }

  async write(batch: WriteBatch, options: WriteOptions): Promise<void> {
    batch.claim()
    await this.level.batch([...batch.ops], { sync: false })
    if (options.sync) await this.wal.sync()
    batch.runAfterWrite()
  }

  iterate(range: KeyRange): AsyncGenerator<KeyValue, void, undefined> {
    // Created here, not inside the generator, so the read view is taken at the call. A generator that
    // is never started keeps its iterator until close(), which releases every open one.
    const iterator = this.level.iterator(rocksRange(range))
    return (async function* () {
      try {
        for (;;) {
          const rows = await iterator.nextv(iterateChunkRowsMax)
          if (rows.length === 0) return
          for (const [key, value] of rows) yield { key, value }
        }
      } finally {
        await iterator.close()
      }
    })()
  }

  iterateSync(range: KeyRange): Generator<KeyValue, void, undefined> {
    const iterator = this.level.iterator(rocksRange(range))
    return (function* () {
      try {
        for (;;) {
          const { rows, finished } = iterator._nextvSync(iterateChunkRowsMax, {})
          for (let i = 0; i + 1 < rows.length; i += 2) yield { key: rows[i]!, value: rows[i + 1]! }
          if (finished) return
        }
      } finally {
        // The native iterator is released synchronously inside close(); only the callback is deferred.
        void iterator.close()
      }
    })()
  }

  async close(): Promise<void> {
    await this.wal.close()
    await this.level.close()
  }
}

function rocksRange(range: KeyRange): RocksRange {
  const out: RocksRange = { highWaterMarkBytes: iterateChunkBytesMax }
  if (range.gte !== undefined) out.gte = range.gte
  if (range.gt !== undefined) out.gt = range.gt
  if (range.lt !== undefined) out.lt = range.lt
  if (range.lte !== undefined) out.lte = range.lte
  if (range.reverse !== undefined) out.reverse = range.reverse
  if (range.limit !== undefined) out.limit = range.limit
  return out
}
