import { join } from 'node:path'
import { describeDbConformance } from './db-conformance.ts'
import { MemoryDb } from './memory-db.ts'
import { RocksDb } from './rocks-db.ts'
import { makeTempDir, removeTempDir } from './testdata/temp-dir.ts'

describeDbConformance('RocksDb', async () => {
  const dir = await makeTempDir('db')
  const db = await RocksDb.open(join(dir, 'db'), { memtableBytesMax: 4 * 1024 * 1024, backgroundThreads: 1 })
  return {
    db,
    async cleanup() {
      await db.close().catch(() => undefined)
      await removeTempDir(dir)
    },
  }
})

describeDbConformance('MemoryDb', async () => {
  const db = new MemoryDb()
  return { db, async cleanup() {} }
})
