import { join } from 'node:path'
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
