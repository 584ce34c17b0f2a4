// Db in memory: the twin of RocksDb for tests and the simulator. Same contract, plus a model of what
// a machine crash loses: writes made without `sync` after the last synced one.
//
// Kept simple on purpose: a sorted array of keys (binary search, O(n) insert) and an iteration that
// copies its range up front to get a consistent view. Fine for tests; not a production store.

import type { Db, KeyRange, KeyValue, WriteOptions } from './db.ts'
import type { BatchOp, WriteBatch } from './write-batch.ts'

type Table = Map<string, Uint8Array>

/**
 * Unsynced batches kept apart for crashCopy. Past this many, the oldest is treated as written back
 * by the OS (as a real kernel eventually would), which keeps the model's memory bounded.
 */
export const unsyncedBatchesMax = 10_000

/** Bytes to a string whose UTF-16 order is the bytes' order (one char per byte). */
function keyString(key: Uint8Array): string {
  let out = ''
  for (const b of key) out += String.fromCharCode(b)
  return out
}

function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length)
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i)
  return out
}

export class MemoryDb implements Db {
  private readonly table: Table
  private sortedKeys: string[]
  // What a machine crash would keep: the state after the last synced write, and the batches since.
  private durable: Table
  private unsyncedBatches: BatchOp[][] = []
  private closed = false

  constructor(initial: Table = new Map()) {
    this.table = new Map(initial)
    this.sortedKeys = [...this.table.keys()].sort()
    this.durable = new Map(initial)
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.getSync(key)
  }

  getSync(key: Uint8Array): Uint8Array | undefined {
    this.assertOpen()
    // A copy, as RocksDB hands out fresh buffers: a caller changing it must not change the store.
    const value = this.table.get(keyString(key))
    return value === undefined ? undefined : copyBytes(value)
  }

  async write(batch: WriteBatch, options: WriteOptions): Promise<void> {
    this.assertOpen()
    batch.claim()
    // Copies, so a caller reusing its buffers cannot change what was "stored".
    const ops = batch.ops.map((op): BatchOp => (op.type === 'put' ? { ...op, value: copyBytes(op.value) } : op))
    for (const op of ops) this.apply(op)
    this.unsyncedBatches.push(ops)
    if (this.unsyncedBatches.length > unsyncedBatchesMax) applyTo(this.durable, this.unsyncedBatches.shift()!)
    if (options.sync) {
      for (const pending of this.unsyncedBatches) applyTo(this.durable, pending)
      this.unsyncedBatches = []
    }
    batch.runAfterWrite()
  }

  async discardRange(gte: Uint8Array, lt: Uint8Array): Promise<void> {
    // Unsynced like any write: a crash copy may or may not keep it, which is what callers rely on.
    const ops = this.collect({ gte, lt }).map(({ key }): BatchOp => ({ type: 'del', key }))
    for (const op of ops) this.apply(op)
    this.unsyncedBatches.push(ops)
    if (this.unsyncedBatches.length > unsyncedBatchesMax) applyTo(this.durable, this.unsyncedBatches.shift()!)
  }

  iterate(range: KeyRange): AsyncGenerator<KeyValue, void, undefined> {
    const rows = this.collect(range)
    return (async function* () {
      yield* rows
    })()
  }

  iterateSync(range: KeyRange): Generator<KeyValue, void, undefined> {
    const rows = this.collect(range)
    return (function* () {
      yield* rows
    })()
  }

  async close(): Promise<void> {
    this.assertOpen()
    this.closed = true
  }

  /**
   * A new MemoryDb holding what survives a machine crash now: every synced write, plus the first
   * `keepUnsyncedBatches` batches written since (the OS may have flushed some of them; RocksDB's log
   * keeps a prefix, never a hole). This Db is left as it was.
   */
  crashCopy(keepUnsyncedBatches = 0): MemoryDb {
    const table = new Map(this.durable)
    for (const ops of this.unsyncedBatches.slice(0, keepUnsyncedBatches)) applyTo(table, ops)
    return new MemoryDb(table)
  }

  /** Batches written without sync since the last synced one. */
  get unsyncedBatchCount(): number {
    return this.unsyncedBatches.length
  }

  private apply(op: BatchOp): void {
    const key = keyString(op.key)
    const existed = this.table.has(key)
    if (op.type === 'put') {
      this.table.set(key, op.value)
      if (!existed) this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 0, key)
    } else if (existed) {
      this.table.delete(key)
      this.sortedKeys.splice(lowerBound(this.sortedKeys, key), 1)
    }
  }

  private collect(range: KeyRange): KeyValue[] {
    this.assertOpen()
    let start = 0
    let end = this.sortedKeys.length
    if (range.gte !== undefined) start = lowerBound(this.sortedKeys, keyString(range.gte))
    if (range.gt !== undefined) start = Math.max(start, upperBound(this.sortedKeys, keyString(range.gt)))
    if (range.lt !== undefined) end = lowerBound(this.sortedKeys, keyString(range.lt))
    if (range.lte !== undefined) end = Math.min(end, upperBound(this.sortedKeys, keyString(range.lte)))
    const keys = this.sortedKeys.slice(start, Math.max(start, end))
    if (range.reverse === true) keys.reverse()
    const limited = range.limit === undefined || range.limit < 0 ? keys : keys.slice(0, range.limit)
    return limited.map((key) => ({ key: keyBytes(key), value: copyBytes(this.table.get(key)!) }))
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('MemoryDb is closed')
  }
}

/** A plain copy (Buffer.prototype.slice would return a view). */
function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length)
  out.set(bytes)
  return out
}

function applyTo(table: Table, ops: BatchOp[]): void {
  for (const op of ops) {
    if (op.type === 'put') table.set(keyString(op.key), op.value)
    else table.delete(keyString(op.key))
  }
}

/** First position whose key is >= `key`. */
function lowerBound(keys: string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! < key) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** First position whose key is > `key`. */
function upperBound(keys: string[], key: string): number {
  let lo = 0
  let hi = keys.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (keys[mid]! <= key) lo = mid + 1
    else hi = mid
  }
  return lo
}
