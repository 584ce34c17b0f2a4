// Types for the parts of @nxtedition/rocksdb (v12, an abstract-level store; it ships no types) that
// rocks-db.ts uses. Checked against the package's index.js, iterator.js and binding.cc.

declare module '@nxtedition/rocksdb' {
  export interface RocksOpenOptions {
    createIfMissing?: boolean
    errorIfExists?: boolean
    /** null disables RocksDB's own LOG file messages. */
    infoLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'header' | null
    /** Bytes of memtables before a flush; default 256 MiB. */
    memtableMemoryBudget?: number
    /** Background threads; default half the cores. */
    parallelism?: number
    walCompression?: boolean
  }

  export interface RocksRange {
    gte?: Uint8Array
    gt?: Uint8Array
    lt?: Uint8Array
    lte?: Uint8Array
    reverse?: boolean
    limit?: number
    /** Stop a chunk once it holds this many bytes. */
    highWaterMarkBytes?: number
    fillCache?: boolean
  }

  export interface RocksIterator {
    /** Up to `size` pairs; an empty array at the end. Runs on the thread pool. */
    nextv(size: number): Promise<Array<[Buffer, Buffer]>>
    /** Up to `size` pairs as a flat [key, value, key, value…] array, on the calling thread. */
    _nextvSync(size: number, options: object): { rows: Buffer[]; finished: boolean }
    close(): Promise<void>
  }

  export interface RocksBatchOp {
    type: 'put' | 'del'
    key: Uint8Array
    value?: Uint8Array
  }

  /** The binding's write batch (chained-batch.js), used without abstract-level's wrapper. */
  export interface RocksChainedBatch {
    _put(key: Uint8Array, value: Uint8Array): void
    _del(key: Uint8Array): void
    /** Applies the batch on the calling thread. */
    _writeSync(options: { sync: boolean }): void
    /** Frees the native batch. */
    _closeSync(): void
  }

  export class RocksLevel {
    constructor(location: string, options: { keyEncoding: 'buffer'; valueEncoding: 'buffer' })
    readonly status: 'opening' | 'open' | 'closing' | 'closed'
    readonly location: string
    open(options?: RocksOpenOptions): Promise<void>
    close(): Promise<void>
    /** undefined for a missing key. */
    getMany(keys: Uint8Array[]): Promise<Array<Buffer | undefined>>
    /** undefined for a missing key, null for a read that timed out (never without a timeout). */
    _getManySync(keys: Uint8Array[], options: object): Array<Buffer | undefined | null>
    /** Note: the binding writes on the calling thread, so a synced batch blocks the event loop for the fsync. */
    batch(ops: RocksBatchOp[], options: { sync: boolean }): Promise<void>
    _chainedBatch(): RocksChainedBatch
    /** Without a limit: one RocksDB DeleteRange of [gte, lt), unsynced, run on the calling thread. */
    _clear(range: { gte: Uint8Array; lt: Uint8Array }): Promise<void>
    iterator(options: RocksRange): RocksIterator
    getProperty(property: string): string
  }
}
