import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { entryIndexOf, entryKey, entryPrefix, prefixRange } from './keys.ts'
import { entriesFrom } from './log-store-conformance.ts'
import { encodeEntry } from './raft-records.ts'
import { WriteBatch } from './write-batch.ts'
import { emptyConfState } from '../raft/types.ts'
import { describeLogStoreConformance } from './log-store-conformance.ts'
import type { LogStoreHarness } from './log-store-conformance.ts'
import type { Db } from './db.ts'
import type { LogStore } from './log-store.ts'
import { MemoryDb } from './memory-db.ts'
import { RocksDb } from './rocks-db.ts'
import { RocksLogStore } from './rocks-log-store.ts'
import { makeTempDir, removeTempDir } from './testdata/temp-dir.ts'

/** Small memtables: many databases are opened in these tests. */
const testDbOptions = { memtableBytesMax: 4 * 1024 * 1024, backgroundThreads: 1 }

describeLogStoreConformance('RocksLogStore over RocksDb', async () => {
  const dir = await makeTempDir('log-store')
  const path = join(dir, 'db')
  let db: Db = await RocksDb.open(path, testDbOptions)
  let store: LogStore = await RocksLogStore.open(db)
  const harness: LogStoreHarness = {
    store,
    writeBatch: (batch) => db.write(batch, { sync: false }),
    async reopen() {
      await store.close()
      await db.close()
      db = await RocksDb.open(path, testDbOptions)
      store = await RocksLogStore.open(db)
      return store
    },
    async cleanup() {
      await db.close().catch(() => undefined)
      await removeTempDir(dir)
    },
  }
  return harness
})

describeLogStoreConformance('RocksLogStore over MemoryDb', async () => {
  let db = new MemoryDb()
  let store: LogStore = await RocksLogStore.open(db)
  return {
    store,
    writeBatch: (batch) => db.write(batch, { sync: false }),
    async reopen() {
      await store.close()
      // What a machine crash right now would keep: everything, since every save here is synced last.
      db = db.crashCopy(db.unsyncedBatchCount)
      store = await RocksLogStore.open(db)
      return store
    },
    async cleanup() {},
  }
})

describe('RocksLogStore compaction', () => {
  const rawEntryIndexes = async (db: Db) => {
    const out: number[] = []
    for await (const { key } of db.iterate(prefixRange(entryPrefix))) out.push(entryIndexOf(key)!)
    return out
  }

  /** A store holding entries 1-20 with a snapshot at 15, compacted through `through`. */
  const compactedStore = async (db: Db, through: number) => {
    const store = await RocksLogStore.open(db)
    await store.save({ entries: entriesFrom(1, 20, 1), hardState: { term: 1, vote: 1, commit: 20 } }, true)
    await store.createSnapshot(15, { ...emptyConfState(), voters: [1] }, new Uint8Array())
    await store.compact(through)
    return store
  }

  it('deletes the compacted prefix from the Db', async () => {
    const db = new MemoryDb()
    await compactedStore(db, 12)
    expect(await rawEntryIndexes(db)).toEqual([13, 14, 15, 16, 17, 18, 19, 20])
  })

  it('skips entries a crash left below the offset, and the next compaction deletes them', async () => {
    const db = new MemoryDb()
    const store = await compactedStore(db, 8)
    await store.save({ entries: entriesFrom(21, 21, 1) }, true) // the offset's batch is now durable
    // As if a crash had undone the range deletion but kept the offset's batch.
    const crashed = new MemoryDb()
    for await (const { key, value } of db.iterate({})) await crashed.write(new WriteBatch().put(key, value), { sync: true })
    for (const entry of entriesFrom(1, 8, 1)) {
      await crashed.write(new WriteBatch().put(entryKey(entry.index), encodeEntry(entry)), { sync: true })
    }
    expect((await rawEntryIndexes(crashed)).slice(0, 9)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])

    const reopened = await RocksLogStore.open(crashed)
    expect(reopened.firstIndex()).toBe(9)
    expect(reopened.lastIndex()).toBe(21)
    expect(reopened.entries(9, 22, Infinity).map((e) => e.index)).toEqual(entriesFrom(9, 21, 1).map((e) => e.index))
    await reopened.compact(10)
    expect(await rawEntryIndexes(crashed)).toEqual(entriesFrom(11, 21, 1).map((e) => e.index))
  })
})
