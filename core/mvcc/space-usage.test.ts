import { describe, expect, test } from 'vitest'
import { MemoryBackend } from './memory-backend.ts'
import { HistoryBytes, SpaceUsage } from './space-usage.ts'
import { MvccStore } from './store.ts'
import { b, TestStore } from './testing/helpers.ts'

describe('SpaceUsage', () => {
  test('counts live keys and retained history; deletes and compaction free it', async () => {
    const t = await TestStore.create()
    const usage = new SpaceUsage(t.store)
    await usage.ready
    expect(usage.bytes()).toBe(0)
    await t.put('key', 'value!') // live 9 + history 9
    expect(usage.bytes()).toBe(18)
    await t.put('key', 'v') // live 4 + history 9 + 4
    expect(usage.bytes()).toBe(17)
    await t.ok({ deleteRange: { key: b('key') } }) // live 0 + history 9 + 4 + 3
    expect(usage.bytes()).toBe(16)
    await t.ok({ compaction: { revision: t.store.currentRevision() } })
    expect(usage.bytes()).toBe(3) // the delete's event at the compact revision stays
  })

  test('a scan at open counts what incremental counting counted', async () => {
    const backend = new MemoryBackend()
    const store = await MvccStore.open(backend)
    const usage = new SpaceUsage(store)
    let index = 0
    for (let i = 0; i < 50; i++) await store.apply(++index, { put: { key: b(`k${i % 7}`), value: new Uint8Array(i) } })
    await store.apply(++index, { deleteRange: { key: b('k3') } })
    await store.apply(++index, { compaction: { revision: 30 } })
    await store.compacted()
    const counted = usage.bytes()
    usage.close()
    const reopened = await MvccStore.open(backend)
    const scanned = new SpaceUsage(reopened)
    await scanned.ready
    expect(scanned.bytes()).toBe(counted)
    // Writes during a scan are counted once.
    const racing = new SpaceUsage(reopened)
    await reopened.apply(++index, { put: { key: b('new'), value: b('12345') } })
    await racing.ready
    await scanned.ready
    expect(racing.bytes()).toBe(scanned.bytes())
    expect(racing.bytes()).toBe(counted + 16)
  })

  test('a snapshot restore recounts', async () => {
    const source = await TestStore.create()
    await source.put('a', '123')
    const target = await TestStore.create()
    const usage = new SpaceUsage(target.store)
    await target.put('zzzzzzzz', 'zzzzzzzz')
    await target.store.restore((await source.store.snapshot()).chunks)
    await usage.ready
    expect(usage.bytes()).toBe(8)
  })
})

describe('HistoryBytes', () => {
  test('stays exact for short histories and bounded for long ones', () => {
    const h = new HistoryBytes()
    for (let r = 1; r <= 100_000; r++) h.add(r, 10)
    expect(h.total).toBe(1_000_000)
    h.dropBelow(50_001)
    // Within one bucket of the exact 500 000.
    expect(Math.abs(h.total - 500_000)).toBeLessThanOrEqual(10 * 32)
    h.dropBelow(200_000)
    expect(h.total).toBe(0)
  })
})
