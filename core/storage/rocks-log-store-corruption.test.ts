// A damaged store must refuse to open, saying where: each case damages one record through the raw
// Db of a closed RocksDB, reopens it, and checks the CorruptionError's family and position.

import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { Db } from './db.ts'
import { CorruptionError } from './errors.ts'
import type { RecordFamily } from './errors.ts'
import { entryKey, formatKey, hardStateKey, logOffsetKey, snapshotDataKey, snapshotMetaKey } from './keys.ts'
import { entriesFrom } from './log-store-conformance.ts'
import { RocksDb } from './rocks-db.ts'
import { RocksLogStore } from './rocks-log-store.ts'
import { makeTempDir, removeTempDir } from './testdata/temp-dir.ts'
import { WriteBatch } from './write-batch.ts'
import { CorruptDataError } from '../errors.ts'
import { emptyConfState } from '../raft/types.ts'

const dbOptions = { memtableBytesMax: 4 * 1024 * 1024, backgroundThreads: 1 }

describe('RocksLogStore.open() on a damaged store', () => {
  let dir = ''
  let path = ''

  beforeEach(async () => {
    dir = await makeTempDir('corruption')
    path = join(dir, 'db')
    const db = await RocksDb.open(path, dbOptions)
    const store = await RocksLogStore.open(db)
    await store.save({ entries: entriesFrom(1, 10, 1), hardState: { term: 1, vote: 1, commit: 10 } }, true)
    await store.createSnapshot(6, { ...emptyConfState(), voters: [1] }, new Uint8Array(2.5 * 1024 * 1024).fill(7))
    await store.compact(3)
    await store.close()
    await db.close()
  })

  afterEach(async () => {
    await removeTempDir(dir)
  })

  /** Damages the closed store through a raw Db, then reopens it and returns the error. */
  async function openDamaged(damage: (db: Db) => Promise<void>): Promise<CorruptionError> {
    const raw = await RocksDb.open(path, dbOptions)
    await damage(raw)
    await raw.close()
    const db = await RocksDb.open(path, dbOptions)
    try {
      await RocksLogStore.open(db)
    } catch (error) {
      if (error instanceof CorruptionError) return error
      throw error
    } finally {
      await db.close()
    }
    throw new Error('the damaged store opened')
  }

  async function rewrite(db: Db, key: Uint8Array, change: (value: Uint8Array) => Uint8Array): Promise<void> {
    const value = await db.get(key)
    if (value === undefined) throw new Error('no such record')
    await db.write(new WriteBatch().put(key, change(Uint8Array.from(value))), { sync: true })
  }

  async function remove(db: Db, key: Uint8Array): Promise<void> {
    await db.write(new WriteBatch().del(key), { sync: true })
  }

  function flipByte(at: number) {
    return (value: Uint8Array) => {
      value[Math.min(at, value.length - 1)]! ^= 0x10
      return value
    }
  }

  const expectAt = (error: CorruptionError, family: RecordFamily, position: number | undefined, reason: RegExp) => {
    expect({ family: error.family, position: error.position }).toEqual({ family, position })
    expect(error.reason).toMatch(reason)
    expect(error.code).toBe('CorruptData')
  }

  it('opens cleanly when nothing is damaged', async () => {
    const db = await RocksDb.open(path, dbOptions)
    const store = await RocksLogStore.open(db)
    expect([store.firstIndex(), store.lastIndex(), store.snapshot().metadata.index]).toEqual([4, 10, 6])
    await db.close()
  })

  it('reports a flipped byte in an entry at its index', async () => {
    const error = await openDamaged((db) => rewrite(db, entryKey(5), flipByte(8)))
    expectAt(error, 'entry', 5, /checksum/)
    expect(error.detail).toMatch(/^raft log store entry at 5: checksum mismatch/)
    expect(error).toBeInstanceOf(CorruptDataError)
  })

  it('reports a torn entry', async () => {
    expectAt(await openDamaged((db) => rewrite(db, entryKey(7), (v) => v.subarray(0, 3))), 'entry', 7, /torn/)
  })

  it('reports an entry copied under another index', async () => {
    const error = await openDamaged(async (db) => rewrite(db, entryKey(5), () => db.getSync(entryKey(4))!))
    expectAt(error, 'entry', 5, /checksum/)
  })

  it('reports a missing entry in the middle of the log', async () => {
    expectAt(await openDamaged((db) => remove(db, entryKey(5))), 'entry', 5, /missing/)
  })

  it('reports a lost log offset as a gap at the start of the log', async () => {
    expectAt(await openDamaged((db) => remove(db, logOffsetKey)), 'entry', 1, /missing/)
  })

  it('reports a commit beyond the last stored entry', async () => {
    expectAt(await openDamaged((db) => remove(db, entryKey(10))), 'hard-state', undefined, /commit 10 .* last entry 9/)
  })

  it('reports a damaged hard state', async () => {
    expectAt(await openDamaged((db) => rewrite(db, hardStateKey, flipByte(20))), 'hard-state', undefined, /checksum/)
  })

  it('reports damaged snapshot metadata', async () => {
    expectAt(await openDamaged((db) => rewrite(db, snapshotMetaKey, flipByte(6))), 'snapshot-meta', undefined, /checksum/)
  })

  it('reports a missing snapshot chunk', async () => {
    expectAt(await openDamaged((db) => remove(db, snapshotDataKey(1))), 'snapshot-data', 1, /missing/)
  })

  it('reports a missing format record', async () => {
    expectAt(await openDamaged((db) => remove(db, formatKey)), 'format', undefined, /missing/)
  })

  it('reports unknown keys among the log records', async () => {
    const unknown = new TextEncoder().encode('rz')
    const error = await openDamaged((db) => db.write(new WriteBatch().put(unknown, new Uint8Array(1)), { sync: true }))
    expectAt(error, 'log', undefined, /unknown key 727a/)
  })
})
