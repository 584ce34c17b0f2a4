// The write buffer must read exactly like the backend would after the same writes: checked against
// a MemoryBackend written directly, and applyBatch against apply() one entry at a time.

import fc from 'fast-check'
import { afterAll, describe, expect, test } from 'vitest'
import type { BackendOp, KvBackend } from './backend.ts'
import { entriesOf } from './backend.ts'
import { bytesToBinaryString } from './bytes.ts'
import { MemoryBackend } from './memory-backend.ts'
import { RocksBackend } from './rocks-backend.ts'
import { StagedBackend } from './staged-backend.ts'
import { MvccStore } from './store.ts'
import { applyArb, normalize, recordEvents, snapshotHex } from './testing/model-driver.ts'
import { makeTempDir, openRocks, removeDir } from './testing/rocks-fixture.ts'

const keyArb = fc.uint8Array({ minLength: 1, maxLength: 3, max: 4 })
const opArb: fc.Arbitrary<BackendOp> = fc.oneof(
  fc.record({ type: fc.constant('put' as const), key: keyArb, value: fc.uint8Array({ maxLength: 2 }) }),
  fc.record({ type: fc.constant('del' as const), key: keyArb }),
)

async function dump(backend: KvBackend, gte: Uint8Array, lt: Uint8Array, reverse: boolean): Promise<string[]> {
  const out: string[] = []
  for await (const e of entriesOf(backend.iterate({ gte, lt, reverse }))) out.push(`${bytesToBinaryString(e.key)}=${bytesToBinaryString(e.value)}`)
  return out
}

describe('StagedBackend', () => {
  test('reads (get and iterate both ways) match the backend written directly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 30 }),
        fc.array(opArb, { maxLength: 30 }),
        keyArb,
        keyArb,
        fc.boolean(),
        async (committed, staged, a, b, reverse) => {
          const direct = new MemoryBackend()
          const base = new MemoryBackend()
          await direct.write(committed)
          await base.write(committed)
          const layer = new StagedBackend(base)
          await layer.write(staged)
          await direct.write(staged)
          const [gte, lt] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a]
          expect(await dump(layer, gte, lt, reverse)).toEqual(await dump(direct, gte, lt, reverse))
          expect(await dump(layer, new Uint8Array([0]), new Uint8Array([255]), reverse)).toEqual(
            await dump(direct, new Uint8Array([0]), new Uint8Array([255]), reverse),
          )
          for (const op of [...committed, ...staged]) expect(await layer.get(op.key)).toEqual(await direct.get(op.key))
          await layer.flush()
          expect(layer.size).toBe(0)
          expect(await dump(base, new Uint8Array([0]), new Uint8Array([255]), false)).toEqual(
            await dump(direct, new Uint8Array([0]), new Uint8Array([255]), false),
          )
        },
      ),
      { numRuns: 400 },
    )
  })

  test('an iterator keeps the view of its creation across later staged writes', async () => {
    const layer = new StagedBackend(new MemoryBackend())
    await layer.write([{ type: 'put', key: new Uint8Array([1]), value: new Uint8Array([1]) }])
    const iterator = layer.iterate({ gte: new Uint8Array([0]), lt: new Uint8Array([9]) })
    await layer.write([{ type: 'put', key: new Uint8Array([2]), value: new Uint8Array([2]) }])
    const seen = []
    for await (const e of entriesOf(iterator)) seen.push([...e.key])
    expect(seen).toEqual([[1]])
  })
})

describe('MvccStore.applyBatch', () => {
  const dirs: string[] = []
  afterAll(() => dirs.forEach(removeDir))

  for (const kind of ['memory', 'rocksdb'] as const) {
    test(`${kind}: applying in groups answers, notifies and stores exactly as one at a time`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(applyArb, { minLength: 1, maxLength: 40 }), fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1 }), async (requests, sizes) => {
          const backend = async (): Promise<KvBackend> => {
            if (kind === 'memory') return new MemoryBackend()
            const dir = makeTempDir('staged')
            dirs.push(dir)
            return new RocksBackend(await openRocks(dir))
          }
          const single = await MvccStore.open(await backend())
          const grouped = await MvccStore.open(await backend())
          const singleEvents = recordEvents(single)
          const groupedEvents = recordEvents(grouped)
          const singleOutcomes: unknown[] = []
          for (const [i, request] of requests.entries()) singleOutcomes.push(normalize(await single.apply(i + 1, request)))
          const groupedOutcomes: unknown[] = []
          let next = 0
          for (let g = 0; next < requests.length; g++) {
            const size = sizes[g % sizes.length]!
            const items = requests.slice(next, next + size).map((request, j) => ({ index: next + j + 1, request }))
            next += items.length
            for (const o of await grouped.applyBatch(items)) groupedOutcomes.push(normalize(o))
          }
          expect(groupedOutcomes).toEqual(singleOutcomes)
          expect(groupedEvents).toEqual(singleEvents)
          expect(grouped.appliedIndex()).toBe(single.appliedIndex())
          expect(await snapshotHex(grouped)).toEqual(await snapshotHex(single))
          await single.close()
          await grouped.close()
        }),
        { numRuns: kind === 'memory' ? 200 : 30 },
      )
    })
  }
})
