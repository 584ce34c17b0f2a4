// KvBackend over an already opened @nxtedition/rocksdb database, so the keyspace shares the member's
// one RocksDB with the raft log store. Only the few calls used are typed here (the package ships no
// types); they are the abstract-level API the package implements.
//
// RocksDB gives the view contract for free: an iterator reads an implicit snapshot taken when it is
// created, and db.iterator() creates it synchronously on an open database.

import type { BackendEntry, BackendIterator, BackendOp, IterateOptions, KvBackend } from './backend.ts'
import { iteratorBatchEntries } from './limits.ts'

interface EncodingOptions {
  keyEncoding: 'buffer'
  valueEncoding: 'buffer'
}

export interface RocksIteratorHandle {
  nextv(size: number): Promise<Array<[Uint8Array, Uint8Array]>>
  /** Up to `size` pairs as a flat [key, value, key, value…] array, read on the calling thread. */
  _nextvSync(size: number, options: object): { rows: Uint8Array[]; finished: boolean }
  close(): Promise<void>
}

/** The subset of @nxtedition/rocksdb's RocksLevel this adapter calls. */
export interface RocksDbHandle {
  readonly status: string
  getMany(keys: Uint8Array[], options: EncodingOptions): Promise<Array<Uint8Array | undefined>>
  /** The same read on the calling thread (undefined for a missing key; null only with a read timeout). */
  _getManySync(keys: Uint8Array[], options: object): Array<Uint8Array | undefined | null>
  iterator(options: EncodingOptions & { gte: Uint8Array; lt: Uint8Array; reverse: boolean }): RocksIteratorHandle
  batch(
    ops: Array<{ type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }>,
    options: EncodingOptions & { sync: boolean },
  ): Promise<void>
}

const binary: EncodingOptions = { keyEncoding: 'buffer', valueEncoding: 'buffer' }
const noOptions = {}

export class RocksBackend implements KvBackend {
  constructor(private readonly db: RocksDbHandle) {
    if (db.status !== 'open') throw new Error(`RocksBackend needs an open database, status is ${db.status}`)
  }

  // A point read on the calling thread: the keys apply reads are hot (memtable or block cache), and a
  // trip through the thread pool per key cost more than the read itself (measured: ~15 % of the
  // leader's CPU under put load went to scheduling async gets).
  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const [value] = this.db._getManySync([key], noOptions)
    return value ?? undefined
  }

  iterate(options: IterateOptions): BackendIterator {
    const iterator = this.db.iterator({ ...binary, gte: options.gte, lt: options.lt, reverse: options.reverse === true })
    let closed = false
    const close = async (): Promise<void> => {
      if (closed) return
      closed = true
      await iterator.close()
    }
    if (options.few === true) {
      return {
        next: async () => {
          if (closed) return []
          const { rows, finished } = iterator._nextvSync(iteratorBatchEntries, noOptions)
          const entries: BackendEntry[] = []
          for (let i = 0; i + 1 < rows.length; i += 2) entries.push({ key: rows[i]!, value: rows[i + 1]! })
          if (finished && entries.length === 0) await close()
          return entries
        },
        close,
      }
    }
    return {
      next: async () => {
        if (closed) return []
        const rows = await iterator.nextv(iteratorBatchEntries)
        if (rows.length === 0) await close()
        return rows.map(([key, value]): BackendEntry => ({ key, value }))
      },
      close,
    }
  }

  async write(ops: BackendOp[], options?: { sync?: boolean }): Promise<void> {
    if (ops.length === 0) return
    await this.db.batch(ops, { ...binary, sync: options?.sync === true })
  }
}
