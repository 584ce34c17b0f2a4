import { afterAll, describe, expect, test } from 'vitest'
import { binaryStringToBytes } from './bytes.ts'
import { snapshotChunkBytesMax } from './limits.ts'
import { MemoryBackend } from './memory-backend.ts'
import { RocksBackend } from './rocks-backend.ts'
import { decodeSnapshot } from './snapshot-stream.ts'
import { MvccStore } from './store.ts'
import { normalize } from './testing/model-driver.ts'
import { b, expectCode, TestStore } from './testing/helpers.ts'
import { makeTempDir, openRocks, removeDir } from './testing/rocks-fixture.ts'

async function collect<T>(chunks: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const chunk of chunks) out.push(chunk)
  return out
}

async function* stream(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks
}

const all = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }

/** Everything observable about a store, for comparing two of them. */
async function observe(store: MvccStore): Promise<unknown> {
  const ranges = []
  for (let revision = store.compactRevision() || 1; revision <= store.currentRevision(); revision++) {
    ranges.push(await store.range({ ...all, revision }))
  }
  return normalize({
    applied: store.appliedIndex(),
    revision: store.currentRevision(),
    compact: store.compactRevision(),
    ranges,
    history: await store.readHistory(store.compactRevision(), 1_000_000),
    leases: await store.leases(),
    attached: await Promise.all((await store.leases()).leases.map(({ id }) => store.leaseTimeToLive({ id, keys: true }))),
  })
}

async function populated(): Promise<TestStore> {
  const t = await TestStore.create()
  await t.ok({ leaseGrant: { id: 1, ttl: 10 } })
  await t.ok({ leaseGrant: { id: 2, ttl: 20 } })
  for (let i = 0; i < 40; i++) await t.put(`key/${i % 13}`, `value ${i}`, i % 3 === 0 ? 1 : 0)
  await t.ok({ deleteRange: { key: b('key/1'), rangeEnd: b('key/3') } })
  await t.ok({ compaction: { revision: 20 } })
  await t.put('\u00ff', 'last', 2)
  return t
}

const dirs: string[] = []
afterAll(() => dirs.forEach(removeDir))

describe('keyspace snapshots', () => {
  test('a snapshot restored into an empty memory backend answers exactly as the original', async () => {
    const t = await populated()
    const snapshot = await t.store.snapshot()
    expect(snapshot).toMatchObject({ appliedIndex: t.store.appliedIndex(), revision: t.store.currentRevision(), compactRevision: 20 })
    const restored = await MvccStore.restore(new MemoryBackend(), snapshot.chunks)
    expect(await observe(restored)).toEqual(await observe(t.store))
  })

  test('round trip through RocksDB, and the restored store keeps applying after a reopen', async () => {
    const t = await populated()
    const dir = makeTempDir('snapshot')
    dirs.push(dir)
    let db = await openRocks(dir)
    const restored = await MvccStore.restore(new RocksBackend(db), (await t.store.snapshot()).chunks)
    expect(await observe(restored)).toEqual(await observe(t.store))
    await restored.close()
    await db.close()
    db = await openRocks(dir)
    const reopened = await MvccStore.open(new RocksBackend(db))
    expect(await observe(reopened)).toEqual(await observe(t.store))
    const index = t.store.appliedIndex() + 1
    await reopened.apply(index, { leaseRevoke: { id: 1 } })
    await t.store.apply(index, { leaseRevoke: { id: 1 } })
    expect(await observe(reopened)).toEqual(await observe(t.store))
    await reopened.close()
    await db.close()
  })

  test('the snapshot is the state when it was taken, though writes go on while it streams', async () => {
    const t = await populated()
    const before = await observe(t.store)
    const snapshot = await t.store.snapshot()
    for (let i = 0; i < 20; i++) await t.put(`later/${i}`, 'x')
    await t.ok({ compaction: { revision: 30 } })
    await t.store.compacted()
    const restored = await MvccStore.restore(new MemoryBackend(), snapshot.chunks)
    expect(await observe(restored)).toEqual(before)
  })

  test('chunks stay within the bound and records may span them', async () => {
    const t = await TestStore.create()
    const big = new Uint8Array(1200 * 1024).fill(7)
    await t.ok({ put: { key: b('big1'), value: big } })
    await t.ok({ put: { key: b('big1'), value: big } })
    await t.ok({ put: { key: b('big2'), value: big } })
    const chunks = await collect((await t.store.snapshot()).chunks)
    expect(chunks.length).toBeGreaterThan(3)
    expect(chunks.every((c) => c.length <= snapshotChunkBytesMax)).toBe(true)
    // A transport may re-cut the stream anywhere.
    const whole = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0))
    let offset = 0
    for (const c of chunks) whole.set(c, (offset += c.length) - c.length)
    const recut: Uint8Array[] = []
    for (let i = 0; i < whole.length; i += 77_777) recut.push(whole.subarray(i, i + 77_777))
    const restored = await MvccStore.restore(new MemoryBackend(), stream(recut))
    const value = (await restored.range({ key: b('big1') })).kvs[0]!.value
    expect(value.length === big.length && value.every((x) => x === 7)).toBe(true)
  })

  test('a damaged or truncated stream is refused as corrupt', async () => {
    const t = await populated()
    const chunks = await collect((await t.store.snapshot()).chunks)
    const bytes = chunks[0]!.slice()
    bytes[bytes.length >> 1]! ^= 0x10
    await expectCode(MvccStore.restore(new MemoryBackend(), stream([bytes])), 'CorruptData')
    await expectCode(MvccStore.restore(new MemoryBackend(), stream([chunks[0]!.subarray(0, chunks[0]!.length - 3)])), 'CorruptData')
    await expectCode(MvccStore.restore(new MemoryBackend(), stream([binaryStringToBytes('CAIRNKV\u0002')])), 'CorruptData')
    await expect(collect(decodeSnapshot(stream([chunks[0]!, new Uint8Array([1])])))).rejects.toMatchObject({ code: 'CorruptData' })
  })

  test('restore replaces existing state; an interrupted restore keeps the store from opening', async () => {
    const source = await populated()
    const target = await TestStore.create()
    await target.put('stale', 'x')
    await target.store.restore((await source.store.snapshot()).chunks)
    expect(await observe(target.store)).toEqual(await observe(source.store))

    const backend = new MemoryBackend()
    const half = await MvccStore.open(backend)
    const chunks = await collect((await source.store.snapshot()).chunks)
    await expectCode(half.restore(stream([chunks[0]!.subarray(0, 200)])), 'CorruptData')
    await expectCode(MvccStore.open(backend), 'CorruptData')
    const again = await MvccStore.restore(backend, stream(chunks))
    expect(await observe(again)).toEqual(await observe(source.store))
  })
})
