import { describe, expect, test } from 'vitest'
import { MemoryBackend } from './memory-backend.ts'
import { needsSpace } from './alarms.ts'
import type { AlarmRequest, ApplyRequest } from './requests.ts'
import { MvccStore } from './store.ts'
import { b, TestStore, text } from './testing/helpers.ts'

const activate: AlarmRequest = { action: 'ACTIVATE', memberId: 7, alarm: 'NOSPACE' }
const deactivate: AlarmRequest = { action: 'DEACTIVATE', memberId: 7, alarm: 'NOSPACE' }

describe('MvccStore alarms', () => {
  test('ACTIVATE NOSPACE refuses puts, txns with puts and lease grants with NoSpace', async () => {
    const t = await TestStore.create()
    await t.put('a', '1')
    await t.ok({ leaseGrant: { id: 5, ttl: 10 } })
    const r = await t.ok({ alarm: activate })
    expect(r).toMatchObject({ alarm: { alarms: [{ memberId: 7, alarm: 'NOSPACE' }] } })
    expect(await t.refused({ put: { key: b('b'), value: b('2') } })).toBe('NoSpace')
    expect(await t.refused({ txn: { success: [{ requestTxn: { failure: [{ requestPut: { key: b('c') } }] } }] } })).toBe('NoSpace')
    expect(await t.refused({ leaseGrant: { id: 6, ttl: 10 } })).toBe('NoSpace')
    const before = t.store.currentRevision()
    // Reads, deletes, compaction, read-only txns and lease revokes still work.
    await t.ok({ txn: { success: [{ requestRange: { key: b('a') } }] } })
    await t.ok({ deleteRange: { key: b('a') } })
    await t.ok({ compaction: { revision: t.store.currentRevision() } })
    await t.ok({ leaseRevoke: { id: 5 } })
    expect(t.store.currentRevision()).toBe(before + 1)
    expect(await t.keys()).toEqual([])
  })

  test('DEACTIVATE clears the alarm and writes work again; activating twice changes nothing', async () => {
    const t = await TestStore.create()
    await t.ok({ alarm: activate })
    expect(await t.ok({ alarm: activate })).toMatchObject({ alarm: { alarms: [{ memberId: 7, alarm: 'NOSPACE' }] } })
    expect(t.store.alarmList()).toEqual([{ memberId: 7, alarm: 'NOSPACE' }])
    expect(await t.ok({ alarm: { action: 'GET', memberId: 0, alarm: 'NONE' } })).toMatchObject({ alarm: { alarms: [{ memberId: 7 }] } })
    expect(await t.ok({ alarm: deactivate })).toMatchObject({ alarm: { alarms: [{ memberId: 7, alarm: 'NOSPACE' }] } })
    expect(await t.ok({ alarm: deactivate })).toMatchObject({ alarm: { alarms: [] } })
    expect(t.store.alarmList()).toEqual([])
    await t.put('x', 'y')
    expect(text((await t.get('x'))?.value)).toBe('y')
  })

  test('alarms of several members: writes stay refused until every NOSPACE is cleared', async () => {
    const t = await TestStore.create()
    await t.ok({ alarm: activate })
    await t.ok({ alarm: { ...activate, memberId: 3 } })
    expect(t.store.alarmList().map((a) => a.memberId)).toEqual([3, 7])
    await t.ok({ alarm: deactivate })
    expect(await t.refused({ put: { key: b('b'), value: b('2') } })).toBe('NoSpace')
    await t.ok({ alarm: { ...deactivate, memberId: 3 } })
    await t.put('b', '2')
  })

  test('CORRUPT refuses every keyspace change; NONE with ACTIVATE does nothing', async () => {
    const t = await TestStore.create()
    await t.ok({ alarm: { action: 'ACTIVATE', memberId: 1, alarm: 'NONE' } })
    expect(t.store.alarmList()).toEqual([])
    await t.ok({ alarm: { action: 'ACTIVATE', memberId: 1, alarm: 'CORRUPT' } })
    expect(await t.refused({ deleteRange: { key: b('a') } })).toBe('Corrupt')
    expect(await t.refused({ put: { key: b('a') } })).toBe('Corrupt')
    await t.ok({ alarm: { action: 'DEACTIVATE', memberId: 1, alarm: 'CORRUPT' } })
    await t.put('a', '1')
  })

  test('a malformed alarm request is refused with InvalidArgument', async () => {
    const t = await TestStore.create()
    expect(await t.refused({ alarm: { action: 'EXPLODE', memberId: 1, alarm: 'NOSPACE' } as never })).toBe('InvalidArgument')
    expect(await t.refused({ alarm: { action: 'ACTIVATE', memberId: -1, alarm: 'NOSPACE' } })).toBe('InvalidArgument')
    expect(await t.refused({ alarm: { action: 'ACTIVATE', memberId: 1, alarm: 'FIRE' } as never })).toBe('InvalidArgument')
  })

  test('the alarm survives a reopen and travels in snapshots', async () => {
    const backend = new MemoryBackend()
    const store = await MvccStore.open(backend)
    await store.apply(1, { alarm: activate })
    await store.apply(2, { put: { key: b('k'), value: b('v') } })
    await store.close()
    const reopened = await MvccStore.open(backend)
    expect(reopened.alarmList()).toEqual([{ memberId: 7, alarm: 'NOSPACE' }])
    expect((await reopened.apply(3, { put: { key: b('k'), value: b('v') } })).status).toBe('refused')
    const restored = await MvccStore.restore(new MemoryBackend(), (await reopened.snapshot()).chunks)
    expect(restored.alarmList()).toEqual([{ memberId: 7, alarm: 'NOSPACE' }])
    // A snapshot without alarms clears them on the receiver.
    const clean = await TestStore.create()
    await clean.put('z', '1')
    await restored.restore((await clean.store.snapshot()).chunks)
    expect(restored.alarmList()).toEqual([])
  })
})

describe('needsSpace', () => {
  test('puts, lease grants and txns with a put on any branch need space; the rest do not', () => {
    const cases: [ApplyRequest, boolean][] = [
      [{ put: { key: b('a') } }, true],
      [{ leaseGrant: { id: 1, ttl: 5 } }, true],
      [{ txn: { failure: [{ requestPut: { key: b('a') } }] } }, true],
      [{ txn: { success: [{ requestRange: { key: b('a') } }, { requestDeleteRange: { key: b('a') } }] } }, false],
      [{ deleteRange: { key: b('a') } }, false],
      [{ compaction: { revision: 1 } }, false],
      [{ leaseRevoke: { id: 1 } }, false],
    ]
    for (const [request, expected] of cases) expect(needsSpace(request)).toBe(expected)
  })
})
