import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { describeDbConformance } from './db-conformance.ts'
import { MemoryDb, unsyncedBatchesMax } from './memory-db.ts'
import { RocksDb } from './rocks-db.ts'
import { makeTempDir, removeTempDir } from './testdata/temp-dir.ts'
import { WriteBatch } from './write-batch.ts'

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

describe('MemoryDb.crashCopy()', () => {
  const text = (s: string) => new TextEncoder().encode(s)
  const put = (key: string, value: string) => new WriteBatch().put(text(key), text(value))

  it('keeps synced writes and the chosen prefix of later unsynced ones', async () => {
    const db = new MemoryDb()
    await db.write(put('a', '1'), { sync: false })
    await db.write(put('b', '1'), { sync: true }) // makes 'a' durable too
    await db.write(put('a', '2'), { sync: false })
    await db.write(new WriteBatch().del(text('b')), { sync: false })
    expect(db.unsyncedBatchCount).toBe(2)
    const keys = async (copy: MemoryDb) => {
      const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
      const out: string[] = []
      for await (const { key, value } of copy.iterate({})) out.push(`${decode(key)}${decode(value)}`)
      return out.join(',')
    }
    expect(await keys(db.crashCopy())).toBe('a1,b1')
    expect(await keys(db.crashCopy(1))).toBe('a2,b1')
    expect(await keys(db.crashCopy(2))).toBe('a2')
    expect(await keys(db)).toBe('a2')
  })

  it('treats the oldest unsynced batches as written back once too many pile up', async () => {
    const db = new MemoryDb()
    for (let i = 0; i <= unsyncedBatchesMax; i++) await db.write(put(`k${i}`, 'v'), { sync: false })
    expect(db.unsyncedBatchCount).toBe(unsyncedBatchesMax)
    expect(db.crashCopy().getSync(text('k0'))).toBeDefined()
    expect(db.crashCopy().getSync(text('k1'))).toBeUndefined()
  })
})
