// Db over one RocksDB directory, through @nxtedition/rocksdb. Facts about the binding that shape this:
// - A write batch is applied on the calling thread (there is no async write), so a batch synced by
//   RocksDB would hold the event loop for one fsync. Every write here is an unsynced RocksDB write,
//   also recorded in the commit journal (journal.ts); a synced write waits for the journal's
//   fdatasync on the thread pool. The journal is a preallocated file, so its syncs are cheap; RocksDB's
//   own WAL is synced only as a barrier when the journal wraps (wal-sync.ts).
// - WAL compression is off: it cost CPU on the event loop for every write and our records are small.
// - There is no explicit snapshot handle, but every RocksDB iterator reads from an implicit snapshot
//   taken when it is created. iterate() creates its iterator at the call, so one iteration is one
//   consistent read view: the way to take a snapshot of the keyspace while writes go on.
// - RocksDB replays its write-ahead log on open and drops a torn tail batch whole, so batches are
//   atomic across a crash; our own checksums (record.ts) guard the values themselves.

import { promises as fs } from 'node:fs'
import { join } from 'node:path'
import { RocksLevel } from '@nxtedition/rocksdb'
import type { RocksRange } from '@nxtedition/rocksdb'
import { iterateChunkBytesMax, iterateChunkRowsMax } from './db.ts'
import type { Db, KeyRange, KeyValue, WriteOptions } from './db.ts'
import { Journal } from './journal.ts'
import { journalSeqKey } from './keys.ts'
import { WalSync } from './wal-sync.ts'
import type { BatchOp, WriteBatch } from './write-batch.ts'

/** The journal's file inside the RocksDB directory (RocksDB leaves files it does not name alone). */
export const journalFileName = 'CAIRN-JOURNAL'

/** What the keyspace adapter (core/mvcc's RocksBackend) needs: reads from RocksDB, writes journaled. */
export interface RocksHandle {
  readonly status: RocksLevel['status']
  getMany: RocksLevel['getMany']
  _getManySync: RocksLevel['_getManySync']
  iterator: RocksLevel['iterator']
  getProperty: RocksLevel['getProperty']
  batch(ops: BatchOp[], options: { sync: boolean }): Promise<void>
}

export interface RocksDbOptions {
  /** Size of the commit journal file (default 8 MiB); smaller only in tests. */
  journalBytes?: number
  /** Bytes of memtables before RocksDB flushes to a table file; RocksDB's default here is 256 MiB. */
  memtableBytesMax?: number
  /** RocksDB background threads (flush and compaction); default half the cores. */
  backgroundThreads?: number
}

export class RocksDb implements Db {
  private journal!: Journal
  private readonly handleAdapter: RocksHandle

  private constructor(
    private readonly level: RocksLevel,
    /** The directory holding the database. */
    readonly path: string,
    private readonly wal: WalSync,
  ) {
    const self = this
    this.handleAdapter = {
      get status() {
        return level.status
      },
      getMany: (keys) => level.getMany(keys),
      _getManySync: (keys, options) => level._getManySync(keys, options),
      iterator: (options) => level.iterator(options),
      getProperty: (name) => level.getProperty(name),
      batch: (ops, options) => self.writeOps(ops, options.sync),
    }
  }

  /** How many RocksDB WAL syncs have completed (barriers when the journal wraps). */
  get walSyncs(): number {
    return this.wal.syncs
  }

  /** How many journal fdatasyncs have completed (a synced write costs at most two; concurrent ones share). */
  get journalSyncs(): number {
    return this.journal.syncs
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
    const wal = WalSync.forDirectory(path, fs)
    const db = new RocksDb(level, path, wal)
    try {
      await db.openJournal(options.journalBytes)
    } catch (e) {
      await wal.close()
      await level.close()
      throw e
    }
    return db
  }

  /** Opens the journal and writes again the batches a crash took from RocksDB but the journal kept. */
  private async openJournal(journalBytes: number | undefined): Promise<void> {
    const stored = this.level._getManySync([journalSeqKey], {})[0]
    const keptSeq = stored ? Number(Buffer.from(stored).readBigUInt64BE(0)) : 0
    const barrier = () => this.wal.sync()
    const { journal, replay } = await Journal.open(join(this.path, journalFileName), keptSeq, barrier, journalBytes)
    this.journal = journal
    for (const record of replay) this.writeBatch(record.ops, record.seq)
    // Everything replayed (and everything RocksDB kept) is made durable before the journal starts over.
    await barrier()
    await journal.start()
  }

  /**
   * The underlying @nxtedition/rocksdb handle, for adapters that speak its API directly (core/mvcc's
   * RocksBackend), so the keyspace and the log share this one database. Do not close it directly.
   */
  get handle(): RocksHandle {
    return this.handleAdapter
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
    await this.writeOps(batch.ops, options.sync)
    batch.runAfterWrite()
  }

  /**
   * Every write of the process goes through here, so the journal holds them all in RocksDB's order:
   * a synced write then covers every earlier write too, as a RocksDB WAL sync would.
   */
  private async writeOps(ops: readonly BatchOp[], sync: boolean): Promise<void> {
    // Numbered, written and journaled in one synchronous step, so the orders cannot differ.
    const seq = this.journal.nextSeq()
    this.writeBatch(ops, seq)
    this.journal.add(seq, ops)
    if (sync) await this.journal.sync()
  }

  /**
   * One unsynced RocksDB write of `ops` and the journal sequence number, on this thread. It builds the
   * binding's batch directly: abstract-level's batch() re-encodes and copies every operation, which
   * showed as a tenth of the apply path's CPU. Keys and values go in as they are (any Uint8Array).
   */
  private writeBatch(ops: readonly BatchOp[], seq: number): void {
    if (this.level.status !== 'open') throw new Error(`RocksDB is ${this.level.status}`)
    const batch = this.level._chainedBatch()
    try {
      for (const op of ops) {
        if (op.type === 'put') batch._put(op.key, op.value)
        else batch._del(op.key)
      }
      batch._put(journalSeqKey, seqValue(seq))
      batch._writeSync(writeUnsynced)
    } finally {
      batch._closeSync()
    }
  }

  /**
   * One RocksDB range deletion (a single tombstone, on this thread): deleting a compacted log prefix
   * key by key cost each member 20-45 ms of event loop per 10,000 entries, all members at once.
   */
  async discardRange(gte: Uint8Array, lt: Uint8Array): Promise<void> {
    if (this.level.status !== 'open') throw new Error(`RocksDB is ${this.level.status}`)
    await this.level._clear({ gte, lt })
  }

  iterate(range: KeyRange): AsyncGenerator<KeyValue, void, undefined> {
    // Created here, not inside the generator, so the read view is taken at the call. A generator that
    // is never started keeps its iterator until close(), which releases every open one.
    const iterator = this.level.iterator(rocksRange(range))
    let left = range.limit ?? Infinity
    return (async function* () {
      try {
        for (;;) {
          const rows = await iterator.nextv(iterateChunkRowsMax)
          if (rows.length === 0) return
          for (const [key, value] of rows) {
            if (isJournalSeqKey(key)) continue
            if (left-- <= 0) return
            yield { key, value }
          }
        }
      } finally {
        await iterator.close()
      }
    })()
  }

  iterateSync(range: KeyRange): Generator<KeyValue, void, undefined> {
    const iterator = this.level.iterator(rocksRange(range))
    let left = range.limit ?? Infinity
    return (function* () {
      try {
        for (;;) {
          const { rows, finished } = iterator._nextvSync(iterateChunkRowsMax, {})
          for (let i = 0; i + 1 < rows.length; i += 2) {
            if (isJournalSeqKey(rows[i]!)) continue
            if (left-- <= 0) return
            yield { key: rows[i]!, value: rows[i + 1]! }
          }
          if (finished) return
        }
      } finally {
        // The native iterator is released synchronously inside close(); only the callback is deferred.
        void iterator.close()
      }
    })()
  }

  async close(): Promise<void> {
    // RocksDB syncs its WAL when it closes, so records still buffered in the journal are safe.
    await this.journal.close()
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
  // One more than asked, in case the journal's key (skipped by the caller) is among them.
  if (range.limit !== undefined) out.limit = range.limit + 1
  return out
}

const writeUnsynced = { sync: false }

function seqValue(seq: number): Buffer {
  const value = Buffer.alloc(8)
  value.writeBigUInt64BE(BigInt(seq))
  return value
}

/** The journal's bookkeeping key is the storage layer's own: iterations do not show it. */
function isJournalSeqKey(key: Uint8Array): boolean {
  return key.byteLength === 1 && key[0] === journalSeqKey[0]
}
