// The recent-keys cache must never change what apply does: a store with it (large, or so small that
// it evicts all the time) answers, notifies and stores exactly as a store without it, also after a
// snapshot replaced its keyspace.

import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { MemoryBackend } from './memory-backend.ts'
import { RecentKeys } from './recent-keys.ts'
import { MvccStore } from './store.ts'
import { applyArb, normalize, recordEvents, snapshotHex } from './testing/model-driver.ts'
import type { KeyValue } from './types.ts'

async function* chunksOf(store: MvccStore): AsyncGenerator<Uint8Array> {
  const snap = await store.snapshot()
  yield* snap.chunks
}

describe('RecentKeys in MvccStore', () => {
  for (const [name, bytes] of [['default budget', undefined], ['a budget that evicts constantly (4 of the 8 keys)', 700]] as const) {
    test(`${name}: apply is the same as without the cache`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(applyArb, { minLength: 1, maxLength: 60 }),
          fc.array(applyArb, { maxLength: 30 }),
          fc.integer({ min: 0, max: 60 }),
          async (requests, elsewhere, restoreAt) => {
            const plain = await MvccStore.open(new MemoryBackend(), { recentKeysBytes: 0 })
            const cached = await MvccStore.open(new MemoryBackend(), bytes === undefined ? {} : { recentKeysBytes: bytes })
            const plainEvents = recordEvents(plain)
            const cachedEvents = recordEvents(cached)
            // Another store's keyspace replaces theirs midway: what the cache remembers is then stale.
            const other = await MvccStore.open(new MemoryBackend())
            await other.applyBatch(elsewhere.map((request, j) => ({ index: j + 1, request })))
            let index = 0
            for (const [i, request] of requests.entries()) {
              if (i === restoreAt) {
                await cached.restore(chunksOf(other))
                await plain.restore(chunksOf(other))
                index = 1000
              }
              index++
              const a = normalize(await plain.apply(index, request))
              const b = normalize(await cached.apply(index, request))
              expect(b).toEqual(a)
            }
            expect(cachedEvents).toEqual(plainEvents)
            expect(await snapshotHex(cached)).toEqual(await snapshotHex(plain))
          },
        ),
        { numRuns: 300 },
      )
    })
  }

  test('the eviction queue stays bounded, whether a few hot keys are rewritten or the cache churns', () => {
    const kv = (key: string): KeyValue => ({ key: Buffer.from(key), value: new Uint8Array(10), createRevision: 1, modRevision: 1, version: 1, lease: 0 })
    const hot = new RecentKeys()
    for (let i = 0; i < 50_000; i++) hot.set(`k${i % 10}`, kv(`k${i % 10}`))
    expect(hot.size).toBe(10)
    expect(hot.queueLength).toBeLessThan(2 * 10 + 1024 + 2)
    const churn = new RecentKeys(100 * (160 + 16))
    for (let i = 0; i < 50_000; i++) churn.set(`key${i}`, kv(`key${i}`))
    expect(churn.size).toBeLessThanOrEqual(100)
    expect(churn.queueLength).toBeLessThan(2 * 4096 + 2)
  })

  test('a delete forgets the key, the newest writes stay, and one large value is not kept', () => {
    const kv = (key: string, value: number): KeyValue => ({
      key: Buffer.from(key),
      value: new Uint8Array(value),
      createRevision: 1,
      modRevision: 1,
      version: 1,
      lease: 0,
    })
    const entry = 160 + 2 + 20
    const recent = new RecentKeys(4 * entry)
    for (const k of ['k1', 'k2', 'k3', 'k4']) recent.set(k, kv(k, 20))
    recent.set('k1', kv('k1', 20)) // k1 is now the newest
    recent.set('k5', kv('k5', 20)) // evicts k2, the oldest write
    expect(recent.get('k2')).toBeUndefined()
    for (const k of ['k1', 'k3', 'k4', 'k5']) expect(recent.get(k)).toBeDefined()
    recent.set('k1', undefined)
    expect(recent.get('k1')).toBeUndefined()
    recent.set('big', kv('big', 1000))
    expect(recent.get('big')).toBeUndefined()
    expect(recent.size).toBe(3)
  })
})
