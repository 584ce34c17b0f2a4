// One conformance suite for both KvBackend implementations.

import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest'
import type { BackendIterator, KvBackend } from './backend.ts'
import { MemoryBackend } from './memory-backend.ts'
import { RocksBackend } from './rocks-backend.ts'
import { makeTempDir, openRocks, removeDir, type OpenableRocks } from './testing/rocks-fixture.ts'

const k = (...bytes: number[]) => new Uint8Array(bytes)

async function drain(iterator: BackendIterator): Promise<number[][]> {
  const out: number[][] = []
  for (let batch = await iterator.next(); batch.length > 0; batch = await iterator.next()) {
    for (const entry of batch) out.push([...entry.key])
  }
  return out
}

interface Fixture {
  open(): Promise<KvBackend>
  close(): Promise<void>
}

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

const fixtures: Record<string, () => Fixture> = {
  MemoryBackend: () => ({ open: async () => new MemoryBackend(), close: async () => {} }),
  RocksBackend: () => {
    let db: OpenableRocks | undefined
    return {
      open: async () => {
        const dir = makeTempDir('backend')
        dirs.push(dir)
        db = await openRocks(dir)
        return new RocksBackend(db)
      },
      close: async () => db?.close(),
    }
  },
}

for (const [name, makeFixture] of Object.entries(fixtures)) {
  describe(`${name} conformance`, () => {
    let fixture: Fixture
    let backend: KvBackend
    beforeEach(async () => {
      fixture = makeFixture()
      backend = await fixture.open()
    })
    afterEach(async () => fixture.close())

    test('get answers what was written and undefined for a missing key', async () => {
      await backend.write([{ type: 'put', key: k(1, 2), value: k(9) }])
      expect([...((await backend.get(k(1, 2))) ?? [])]).toEqual([9])
      expect(await backend.get(k(1))).toBeUndefined()
      await backend.write([{ type: 'del', key: k(1, 2) }])
      expect(await backend.get(k(1, 2))).toBeUndefined()
    })

    test('a batch applies its ops in order', async () => {
      await backend.write([
        { type: 'put', key: k(5), value: k(1) },
        { type: 'del', key: k(5) },
        { type: 'put', key: k(6), value: k(1) },
        { type: 'put', key: k(6), value: k(2) },
      ])
      expect(await backend.get(k(5))).toBeUndefined()
      expect([...((await backend.get(k(6))) ?? [])]).toEqual([2])
    })

    // `few` reads on the calling thread (RocksBackend); the contract is the same.
    for (const few of [false, true]) {
      const mode = few ? ' (few: on the calling thread)' : ''
      test(`iterate walks [gte, lt) in unsigned byte order, both ways${mode}`, async () => {
        const keys = [k(0), k(0, 0), k(1), k(1, 0xff), k(0x7f), k(0x80), k(0xff), k(0xff, 0)]
        await backend.write(keys.map((key) => ({ type: 'put' as const, key, value: k() })))
        expect(await drain(backend.iterate({ few, gte: k(0), lt: k(0xff, 0xff) }))).toEqual([[0], [0, 0], [1], [1, 0xff], [0x7f], [0x80], [0xff], [0xff, 0]])
        expect(await drain(backend.iterate({ few, gte: k(1), lt: k(0x80), reverse: true }))).toEqual([[0x7f], [1, 0xff], [1]])
        expect(await drain(backend.iterate({ few, gte: k(2), lt: k(3) }))).toEqual([])
      })

      test(`an iterator keeps the view it was opened with while writes go on${mode}`, async () => {
        await backend.write(Array.from({ length: 600 }, (_, i) => ({ type: 'put' as const, key: k(1, i >> 8, i & 0xff), value: k(1) })))
        const iterator = backend.iterate({ few, gte: k(1), lt: k(2) })
        const sibling = backend.iterate({ few, gte: k(1), lt: k(2), reverse: true })
        await backend.write([
          { type: 'del', key: k(1, 0, 0) },
          { type: 'put', key: k(1, 9, 9), value: k(1) },
        ])
        const seen = await drain(iterator)
        expect(seen.length).toBe(600)
        expect(seen[0]).toEqual([1, 0, 0])
        expect((await drain(sibling)).length).toBe(600)
        expect((await drain(backend.iterate({ few, gte: k(1), lt: k(2) }))).length).toBe(600)
      })

      test(`an iterator may be closed early, and closing twice is harmless${mode}`, async () => {
        await backend.write(Array.from({ length: 300 }, (_, i) => ({ type: 'put' as const, key: k(3, i >> 8, i & 0xff), value: k() })))
        const iterator = backend.iterate({ few, gte: k(3), lt: k(4) })
        expect((await iterator.next()).length).toBeGreaterThan(0)
        await iterator.close()
        await iterator.close()
        expect(await iterator.next()).toEqual([])
      })
    }
  })
}
