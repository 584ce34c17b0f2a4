// Model-based tests: random operation sequences against the store and a naive reference model,
// comparing every answer — on the in-memory backend, and on RocksDB with close/reopen in between.

import fc from 'fast-check'
import { afterAll, describe, test } from 'vitest'
import { MemoryBackend } from './memory-backend.ts'
import { RocksBackend } from './rocks-backend.ts'
import { MvccStore } from './store.ts'
import { modelOpArb, runModel } from './testing/model-driver.ts'
import { makeTempDir, openRocks, removeDir, type OpenableRocks } from './testing/rocks-fixture.ts'

describe('MvccStore against the reference model', () => {
  test('MemoryBackend: random put/delete/txn/range/compact/lease sequences answer as the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(modelOpArb({ reopen: false }), { minLength: 1, maxLength: 60, size: 'max' }), async (ops) => {
        const store = await MvccStore.open(new MemoryBackend())
        await runModel(ops, { store: () => store })
        await store.close()
      }),
      { numRuns: 200 },
    )
  })

  test('MemoryBackend: reopening the same backend keeps every answer', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(modelOpArb({ reopen: true }), { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
        const backend = new MemoryBackend()
        let store = await MvccStore.open(backend)
        await runModel(ops, {
          store: () => store,
          reopen: async () => {
            await store.close()
            store = await MvccStore.open(backend)
          },
        })
        await store.close()
      }),
      { numRuns: 100 },
    )
  })

  const dirs: string[] = []
  afterAll(() => dirs.forEach(removeDir))

  test('RocksBackend: random sequences with close/reopen of the database answer as the model', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(modelOpArb({ reopen: true }), { minLength: 1, maxLength: 40, size: 'max' }), async (ops) => {
        const dir = makeTempDir('model')
        dirs.push(dir)
        let db: OpenableRocks = await openRocks(dir)
        let store = await MvccStore.open(new RocksBackend(db))
        try {
          await runModel(ops, {
            store: () => store,
            reopen: async () => {
              await store.close()
              await db.close()
              db = await openRocks(dir)
              store = await MvccStore.open(new RocksBackend(db))
            },
          })
        } finally {
          await store.close()
          await db.close()
          removeDir(dir)
        }
      }),
      { numRuns: 25 },
    )
  })
})
