import { describe, expect, test } from 'vitest'
import { CompactedError, FutureRevisionError } from '../errors.ts'
import { prefixEnd } from './bytes.ts'
import { historyBounds } from './layout.ts'
import { txnOpsMaxDefault } from './limits.ts'
import type { RangeRequest, RequestOp } from './requests.ts'
import type { KvBackend } from './backend.ts'
import { MemoryBackend } from './memory-backend.ts'
import { RocksBackend } from './rocks-backend.ts'
import { MvccStore } from './store.ts'
import { b, expectCode, TestStore, text } from './testing/helpers.ts'
import { makeTempDir, openRocks, removeDir } from './testing/rocks-fixture.ts'

const all = { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) }

describe('MvccStore revisions and key metadata', () => {
  test('an empty store is at revision 1 and the first write gets revision 2', async () => {
    const t = await TestStore.create()
    expect(t.store.currentRevision()).toBe(1)
    expect((await t.store.range(all)).header.revision).toBe(1)
    expect(await t.put('a', '1')).toBe(2)
    expect(t.store.currentRevision()).toBe(2)
  })

  test('version counts changes from 1, create_revision stays, delete resets both', async () => {
    const t = await TestStore.create()
    await t.put('k', 'v1')
    await t.put('k', 'v2')
    expect(await t.get('k')).toMatchObject({ createRevision: 2, modRevision: 3, version: 2 })
    await t.ok({ deleteRange: { key: b('k') } })
    expect(await t.get('k')).toBeUndefined()
    await t.put('k', 'v3')
    expect(await t.get('k')).toMatchObject({ createRevision: 5, modRevision: 5, version: 1 })
  })
})

describe('MvccStore put', () => {
  test('put answers the previous key-value when prev_kv is set', async () => {
    const t = await TestStore.create()
    await t.put('k', 'old')
    const r = await t.ok({ put: { key: b('k'), value: b('new'), prevKv: true } })
    expect('put' in r && text(r.put.prevKv?.value)).toBe('old')
  })

  test('ignore_value keeps the value and ignore_lease keeps the lease', async () => {
    const t = await TestStore.create()
    await t.ok({ leaseGrant: { id: 7, ttl: 10 } })
    await t.put('k', 'v', 7)
    await t.ok({ put: { key: b('k'), ignoreValue: true, lease: 0 } })
    expect(await t.get('k')).toMatchObject({ lease: 0, version: 2 })
    expect(text((await t.get('k'))!.value)).toBe('v')
    await t.ok({ put: { key: b('k'), value: b('w'), ignoreLease: true } })
    expect(await t.get('k')).toMatchObject({ lease: 0, version: 3 })
  })

  test('ignore_value on a missing key is refused with KeyNotFound', async () => {
    const t = await TestStore.create()
    expect(await t.refused({ put: { key: b('k'), ignoreValue: true } })).toBe('KeyNotFound')
    expect(await t.refused({ put: { key: b('k'), value: b('v'), ignoreLease: true } })).toBe('KeyNotFound')
  })

  test('put with an unknown lease is refused with LeaseNotFound', async () => {
    const t = await TestStore.create()
    expect(await t.refused({ put: { key: b('k'), value: b('v'), lease: 9 } })).toBe('LeaseNotFound')
    expect(t.store.currentRevision()).toBe(1)
  })
})

describe('MvccStore latest', () => {
  const backends: [string, () => Promise<{ backend: KvBackend; done: () => Promise<void> }>][] = [
    ['MemoryBackend', async () => ({ backend: new MemoryBackend(), done: async () => undefined })],
    [
      'RocksBackend',
      async () => {
        const dir = makeTempDir('latest')
        const db = await openRocks(dir)
        return { backend: new RocksBackend(db), done: async () => (await db.close(), removeDir(dir)) }
      },
    ],
  ]
  test.each(backends)('%s: answers every key as of one revision, also while writes are applied', async (_, open) => {
    const { backend, done } = await open()
    try {
      // Point reads that take a turn of the event loop each, so an apply could slip in between them.
      const slowGets = new Proxy(backend, {
        get: (target, prop, receiver) =>
          prop === 'get'
            ? async (key: Uint8Array) => (await new Promise((resolve) => setImmediate(resolve)), target.get(key))
            : Reflect.get(target, prop, receiver),
      })
      const store = await MvccStore.open(slowGets)
      let index = 0
      const both = (v: string) => store.apply(++index, { txn: { compare: [], success: ['a', 'b'].map((k) => ({ requestPut: { key: b(k), value: b(v) } })), failure: [] } })
      await both('1')
      const reads = []
      const writes = []
      for (let i = 2; i <= 20; i++) {
        reads.push(store.latest([b('a'), b('none'), b('b')]))
        writes.push(both(String(i)))
      }
      await Promise.all(writes)
      for (const { revision, kvs } of await Promise.all(reads)) {
        expect(kvs[1]).toBeUndefined()
        // Both keys change in each txn: a read across two writes would show two values.
        expect(text(kvs[0]!.value)).toBe(text(kvs[2]!.value))
        expect(kvs[0]!.modRevision).toBe(revision)
      }
      expect((await store.latest([b('a')])).revision).toBe(store.currentRevision())
      await store.close()
    } finally {
      await done()
    }
  })
})

describe('MvccStore range', () => {
  async function abcde(): Promise<TestStore> {
    const t = await TestStore.create()
    for (const [i, k] of ['a', 'b', 'c', 'd', 'e'].entries()) await t.put(k, `${5 - i}`)
    return t
  }
  const keysOf = async (t: TestStore, request: RangeRequest) => (await t.store.range(request)).kvs.map((kv) => text(kv.key))

  test('single key, [key, range_end), prefix and all keys', async () => {
    const t = await abcde()
    await t.put('ab', 'x')
    expect(await keysOf(t, { key: b('b') })).toEqual(['b'])
    expect(await keysOf(t, { key: b('b'), rangeEnd: b('d') })).toEqual(['b', 'c'])
    expect(await keysOf(t, { key: b('a'), rangeEnd: prefixEnd(b('a'))! })).toEqual(['a', 'ab'])
    expect(await keysOf(t, { key: b('c'), rangeEnd: new Uint8Array([0]) })).toEqual(['c', 'd', 'e'])
    expect(await keysOf(t, all)).toEqual(['a', 'ab', 'b', 'c', 'd', 'e'])
  })

  test('range_end below key answers an empty result, as etcd does', async () => {
    const t = await abcde()
    expect(await t.store.range({ key: b('d'), rangeEnd: b('b') })).toMatchObject({ kvs: [], count: 0, more: false })
  })

  test('limit cuts the answer, sets more, and count is the whole range', async () => {
    const t = await abcde()
    const r = await t.store.range({ ...all, limit: 2 })
    expect(r.kvs.map((kv) => text(kv.key))).toEqual(['a', 'b'])
    expect(r).toMatchObject({ more: true, count: 5 })
    expect(await t.store.range({ ...all, limit: 5 })).toMatchObject({ more: false, count: 5 })
  })

  test('count ignores the min/max revision filters, as etcd does', async () => {
    const t = await abcde()
    const r = await t.store.range({ ...all, minModRevision: 4, maxModRevision: 5 })
    expect(r.kvs.map((kv) => text(kv.key))).toEqual(['c', 'd'])
    expect(r.count).toBe(5)
    expect((await t.store.range({ ...all, minCreateRevision: 5 })).kvs.map((kv) => text(kv.key))).toEqual(['d', 'e'])
    expect((await t.store.range({ ...all, maxCreateRevision: 3 })).kvs.map((kv) => text(kv.key))).toEqual(['a', 'b'])
  })

  test('sorts by every target both ways; a non-key target alone sorts ascending', async () => {
    const t = await abcde()
    expect(await keysOf(t, { ...all, sortOrder: 'DESCEND' })).toEqual(['e', 'd', 'c', 'b', 'a'])
    expect(await keysOf(t, { ...all, sortTarget: 'VALUE' })).toEqual(['e', 'd', 'c', 'b', 'a'])
    expect(await keysOf(t, { ...all, sortTarget: 'MOD', sortOrder: 'DESCEND' })).toEqual(['e', 'd', 'c', 'b', 'a'])
    expect(await keysOf(t, { ...all, sortTarget: 'CREATE', sortOrder: 'ASCEND', limit: 2 })).toEqual(['a', 'b'])
    await t.put('c', 'again')
    expect(await keysOf(t, { ...all, sortTarget: 'VERSION', sortOrder: 'DESCEND', limit: 1 })).toEqual(['c'])
    expect((await t.store.range({ ...all, sortOrder: 'DESCEND', limit: 2 })).more).toBe(true)
  })

  test('keys_only drops values and count_only answers only the count', async () => {
    const t = await abcde()
    const keysOnly = await t.store.range({ ...all, keysOnly: true })
    expect(keysOnly.kvs.every((kv) => kv.value.length === 0)).toBe(true)
    expect(keysOnly.kvs[0]).toMatchObject({ modRevision: 2, version: 1 })
    expect(await t.store.range({ ...all, countOnly: true, limit: 1 })).toMatchObject({ kvs: [], count: 5, more: false })
  })

  test('reads at a past revision see the state then, the header says the current revision', async () => {
    const t = await abcde()
    await t.ok({ deleteRange: { key: b('a'), rangeEnd: b('c') } })
    await t.put('c', 'changed')
    await t.put('z', 'new')
    const past = await t.store.range({ ...all, revision: 4 })
    expect(past.kvs.map((kv) => [text(kv.key), text(kv.value)])).toEqual([['a', '5'], ['b', '4'], ['c', '3']])
    expect(past.header.revision).toBe(9)
    expect(await t.keys(7)).toEqual(['c', 'd', 'e'])
    expect(text((await t.get('c', 7))!.value)).toBe('3')
    expect(await t.keys(1)).toEqual([])
  })

  test('a future revision fails with FutureRevision; below the compact revision with Compacted', async () => {
    const t = await abcde()
    await expectCode(t.store.range({ ...all, revision: 7 }), 'FutureRevision')
    await t.ok({ compaction: { revision: 4 } })
    const error = await t.store.range({ ...all, revision: 3 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CompactedError)
    expect((error as CompactedError).compactRevision).toBe(4)
    expect(await t.keys(4)).toEqual(['a', 'b', 'c'])
  })

  test('a range streams from the view it opened while later entries are applied', async () => {
    const t = await TestStore.create()
    for (let i = 0; i < 600; i++) await t.put(`k${String(i).padStart(4, '0')}`, 'v')
    const pending = t.store.range(all)
    for (let i = 0; i < 50; i++) await t.ok({ deleteRange: { key: b(`k${String(i).padStart(4, '0')}`) } })
    const r = await pending
    expect(r.kvs.length).toBe(600)
    expect(r.header.revision).toBe(601)
    expect((await t.store.range({ ...all, countOnly: true })).count).toBe(550)
  })
})

describe('MvccStore delete_range', () => {
  test('deletes the range in one revision and answers prev_kvs', async () => {
    const t = await TestStore.create()
    await t.put('a', '1')
    await t.put('b', '2')
    await t.put('c', '3')
    const r = await t.ok({ deleteRange: { key: b('a'), rangeEnd: b('c'), prevKv: true } })
    expect('deleteRange' in r && r.deleteRange).toMatchObject({ deleted: 2, header: { revision: 5 } })
    expect('deleteRange' in r && r.deleteRange.prevKvs.map((kv) => text(kv.value))).toEqual(['1', '2'])
    expect(await t.keys()).toEqual(['c'])
  })

  test('deleting nothing consumes no revision', async () => {
    const t = await TestStore.create()
    await t.put('a', '1')
    const r = await t.ok({ deleteRange: { key: b('zz') } })
    expect('deleteRange' in r && r.deleteRange).toMatchObject({ deleted: 0, header: { revision: 2 } })
    expect(t.store.currentRevision()).toBe(2)
  })
})

describe('MvccStore txn', () => {
  test('compares on every target choose the branch', async () => {
    const t = await TestStore.create()
    await t.ok({ leaseGrant: { id: 3, ttl: 10 } })
    await t.put('k', 'm', 3)
    const check = async (compare: object) => {
      const r = await t.ok({ txn: { compare: [{ key: b('k'), ...compare } as never] } })
      return 'txn' in r && r.txn.succeeded
    }
    expect(await check({ target: 'VALUE', result: 'EQUAL', value: b('m') })).toBe(true)
    expect(await check({ target: 'VALUE', result: 'GREATER', value: b('a') })).toBe(true)
    expect(await check({ target: 'VALUE', result: 'LESS', value: b('a') })).toBe(false)
    expect(await check({ target: 'VERSION', result: 'EQUAL', version: 1 })).toBe(true)
    expect(await check({ target: 'CREATE', result: 'NOT_EQUAL', createRevision: 2 })).toBe(false)
    expect(await check({ target: 'MOD', result: 'LESS', modRevision: 3 })).toBe(true)
    expect(await check({ target: 'LEASE', result: 'EQUAL', lease: 3 })).toBe(true)
  })

  test('a missing key compares as zero, except that a VALUE compare fails', async () => {
    const t = await TestStore.create()
    const succeeded = async (compare: object) => {
      const r = await t.ok({ txn: { compare: [{ key: b('nope'), ...compare } as never] } })
      return 'txn' in r && r.txn.succeeded
    }
    expect(await succeeded({ target: 'VERSION', result: 'EQUAL', version: 0 })).toBe(true)
    expect(await succeeded({ target: 'CREATE', result: 'EQUAL' })).toBe(true)
    expect(await succeeded({ target: 'VALUE', result: 'EQUAL', value: new Uint8Array(0) })).toBe(false)
    expect(await succeeded({ target: 'VALUE', result: 'NOT_EQUAL', value: b('x') })).toBe(false)
  })

  test('a range compare needs every key in the range to pass', async () => {
    const t = await TestStore.create()
    await t.put('p/a', '1')
    await t.put('p/b', '1')
    const compare = { key: b('p/'), rangeEnd: prefixEnd(b('p/'))!, target: 'VALUE' as const, result: 'EQUAL' as const, value: b('1') }
    const first = await t.ok({ txn: { compare: [compare] } })
    expect('txn' in first && first.txn.succeeded).toBe(true)
    await t.put('p/c', '2')
    const second = await t.ok({ txn: { compare: [compare] } })
    expect('txn' in second && second.txn.succeeded).toBe(false)
  })

  test('a txn takes one revision for all its writes and its reads see earlier writes', async () => {
    const t = await TestStore.create()
    await t.put('a', 'old')
    const r = await t.ok({
      txn: {
        success: [
          { requestPut: { key: b('a'), value: b('new') } },
          { requestPut: { key: b('b'), value: b('x') } },
          { requestRange: { key: b('a') } },
          { requestRange: { key: b('a'), revision: 2 } },
          { requestDeleteRange: { key: b('zz') } },
        ],
      },
    })
    if (!('txn' in r)) throw new Error('txn response expected')
    expect(r.txn.header.revision).toBe(3)
    const [, , now, before] = r.txn.responses
    expect(now && 'responseRange' in now && text(now.responseRange.kvs[0]!.value)).toBe('new')
    expect(before && 'responseRange' in before && text(before.responseRange.kvs[0]!.value)).toBe('old')
    expect(t.store.currentRevision()).toBe(3)
    expect(await t.get('b')).toMatchObject({ createRevision: 3, modRevision: 3 })
  })

  test('a read-only txn consumes no revision', async () => {
    const t = await TestStore.create()
    await t.put('a', '1')
    await t.ok({ txn: { success: [{ requestRange: { key: b('a') } }] } })
    expect(t.store.currentRevision()).toBe(2)
  })

  test('nested txns run their own branch; nested compares see the state before the txn', async () => {
    const t = await TestStore.create()
    const r = await t.ok({
      txn: {
        success: [
          { requestPut: { key: b('x'), value: b('1') } },
          {
            requestTxn: {
              // x does not exist before the txn, so this compare fails even though x was just put.
              compare: [{ key: b('x'), target: 'VERSION', result: 'GREATER', version: 0 }],
              success: [{ requestPut: { key: b('y'), value: b('then') } }],
              failure: [{ requestPut: { key: b('y'), value: b('else') } }],
            },
          },
        ],
      },
    })
    expect(text((await t.get('y'))!.value)).toBe('else')
    const nested = 'txn' in r ? r.txn.responses[1] : undefined
    expect(nested && 'responseTxn' in nested && nested.responseTxn.succeeded).toBe(false)
  })

  test('put checks run before range checks (etcd reports LeaseNotFound over FutureRevision)', async () => {
    const t = await TestStore.create()
    const code = await t.refused({
      txn: { success: [{ requestRange: { key: b('a'), revision: 50 } }, { requestPut: { key: b('a'), value: b('v'), lease: 4 } }] },
    })
    expect(code).toBe('LeaseNotFound')
  })

  test(`at most ${txnOpsMaxDefault} operations per list; more is refused with TooManyOps`, async () => {
    const t = await TestStore.create()
    const ops = (n: number): RequestOp[] => Array.from({ length: n }, (_, i) => ({ requestPut: { key: b(`k${i}`), value: b('v') } }))
    await t.ok({ txn: { success: ops(txnOpsMaxDefault) } })
    expect(t.store.currentRevision()).toBe(2)
    expect(await t.refused({ txn: { success: ops(txnOpsMaxDefault + 1) } })).toBe('TooManyOps')
    expect(t.store.currentRevision()).toBe(2)
  })

  test('the same key written twice is refused with DuplicateKey and nothing is written', async () => {
    const t = await TestStore.create()
    const code = await t.refused({
      txn: { success: [{ requestPut: { key: b('a'), value: b('1') } }, { requestPut: { key: b('a'), value: b('2') } }] },
    })
    expect(code).toBe('DuplicateKey')
    expect(t.store.currentRevision()).toBe(1)
    expect(t.store.appliedIndex()).toBe(1)
  })

  test('a delete to the end followed by an ignore_value put of a deleted key is refused whole', async () => {
    const t = await TestStore.create()
    await t.put('b', 'v')
    const code = await t.refused({
      txn: {
        success: [
          { requestDeleteRange: { key: b('a'), rangeEnd: new Uint8Array([0]) } },
          { requestPut: { key: b('b'), ignoreValue: true } },
        ],
      },
    })
    expect(code).toBe('KeyNotFound')
    expect(await t.keys()).toEqual(['b'])
    expect(t.store.currentRevision()).toBe(2)
  })
})

describe('MvccStore compaction', () => {
  test('refuses a compacted or future revision, and reclaims history below the compact revision', async () => {
    const t = await TestStore.create()
    for (let i = 0; i < 10; i++) await t.put('k', `${i}`)
    expect(await t.refused({ compaction: { revision: 12 } })).toBe('FutureRevision')
    await t.ok({ compaction: { revision: 6 } })
    expect(t.store.currentRevision()).toBe(11)
    expect(await t.refused({ compaction: { revision: 6 } })).toBe('Compacted')
    await t.store.compacted()
    const remaining: number[] = []
    const iterator = t.backend.iterate(historyBounds(0))
    for (let batch = await iterator.next(); batch.length > 0; batch = await iterator.next()) remaining.push(batch.length)
    expect(remaining.reduce((x, y) => x + y, 0)).toBe(6)
    await expectCode(t.store.readHistory(5), 'Compacted')
    expect((await t.store.readHistory(6)).revisions.map((r) => r.revision)).toEqual([6, 7, 8, 9, 10, 11])
  })
})

describe('MvccStore leases', () => {
  test('grant raises a small TTL to the minimum and refuses an existing ID', async () => {
    const t = await TestStore.create({ leaseTtlSecondsMin: 5 })
    const r = await t.ok({ leaseGrant: { id: 1, ttl: 1 } })
    expect('leaseGrant' in r && r.leaseGrant).toMatchObject({ id: 1, ttl: 5, error: '' })
    expect(await t.refused({ leaseGrant: { id: 1, ttl: 10 } })).toBe('LeaseExists')
    expect(await t.refused({ leaseGrant: { id: 2, ttl: 9_000_000_001 } })).toBe('LeaseTtlTooLarge')
  })

  test('revoke deletes every attached key in one revision', async () => {
    const t = await TestStore.create()
    await t.ok({ leaseGrant: { id: 1, ttl: 10 } })
    await t.put('a', '1', 1)
    await t.put('b', '2', 1)
    await t.put('c', '3')
    await t.ok({ leaseRevoke: { id: 1 } })
    expect(await t.keys()).toEqual(['c'])
    expect(t.store.currentRevision()).toBe(5)
    const history = await t.store.readHistory(5)
    expect(history.revisions[0]!.events.map((e) => [e.type, text(e.kv.key)])).toEqual([['DELETE', 'a'], ['DELETE', 'b']])
    expect(await t.refused({ leaseRevoke: { id: 1 } })).toBe('LeaseNotFound')
  })

  test('moving a key to another lease detaches it from the first', async () => {
    const t = await TestStore.create()
    await t.ok({ leaseGrant: { id: 1, ttl: 10 } })
    await t.ok({ leaseGrant: { id: 2, ttl: 10 } })
    await t.put('a', '1', 1)
    await t.put('a', '2', 2)
    await t.put('b', '1', 1)
    await t.put('b', '2')
    await t.ok({ leaseRevoke: { id: 1 } })
    expect(await t.keys()).toEqual(['a', 'b'])
    await t.ok({ leaseRevoke: { id: 2 } })
    expect(await t.keys()).toEqual(['b'])
  })

  test('time-to-live, keep-alive and the lease list report what the keyspace knows', async () => {
    const t = await TestStore.create()
    await t.ok({ leaseGrant: { id: 5, ttl: 30 } })
    await t.ok({ leaseGrant: { id: 6, ttl: 60 } })
    await t.put('x', '1', 5)
    await t.put('y', '1', 5)
    expect(await t.store.leaseTimeToLive({ id: 5, keys: true })).toMatchObject({ id: 5, grantedTtl: 30 })
    expect((await t.store.leaseTimeToLive({ id: 5, keys: true }))!.keys.map(text)).toEqual(['x', 'y'])
    expect((await t.store.leaseTimeToLive({ id: 5 }))!.keys).toEqual([])
    expect(await t.store.leaseTimeToLive({ id: 99 })).toBeUndefined()
    expect(await t.store.leaseKeepAlive(6)).toEqual({ id: 6, ttl: 60 })
    await expectCode(t.store.leaseKeepAlive(99), 'LeaseNotFound')
    expect((await t.store.leaseLeases()).leases).toEqual([{ id: 5 }, { id: 6 }])
    expect((await t.store.leases()).leases).toEqual([
      { id: 5, ttl: 30 },
      { id: 6, ttl: 60 },
    ])
  })
})

describe('MvccStore apply bookkeeping', () => {
  test('an index at or below the applied index is skipped', async () => {
    const t = await TestStore.create()
    expect((await t.store.apply(3, { put: { key: b('a'), value: b('1') } })).status).toBe('applied')
    expect((await t.store.apply(3, { put: { key: b('a'), value: b('2') } })).status).toBe('skipped')
    expect((await t.store.apply(2, { put: { key: b('a'), value: b('3') } })).status).toBe('skipped')
    expect(text((await t.get('a'))!.value)).toBe('1')
  })

  test('refused and empty entries advance the applied index without a revision', async () => {
    const t = await TestStore.create()
    expect((await t.store.apply(1, { put: { key: new Uint8Array(0) } })).status).toBe('refused')
    expect((await t.store.apply(2, undefined)).status).toBe('applied')
    expect(t.store.appliedIndex()).toBe(2)
    expect(t.store.currentRevision()).toBe(1)
  })

  test('concurrent apply calls run one at a time in call order', async () => {
    const t = await TestStore.create()
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => t.store.apply(i + 1, { put: { key: b('k'), value: b(`${i}`) } })),
    )
    expect(outcomes.every((o) => o.status === 'applied')).toBe(true)
    expect(await t.get('k')).toMatchObject({ version: 20, modRevision: 21 })
    expect(text((await t.get('k'))!.value)).toBe('19')
  })

  test('errors carry what the caller needs: compact and current revisions', async () => {
    const t = await TestStore.create()
    await t.put('a', '1')
    const error = await t.store.range({ key: b('a'), revision: 9 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(FutureRevisionError)
    expect(error).toMatchObject({ revision: 9, currentRevision: 2, httpStatus: 400, grpcCode: 11 })
  })
})

describe('MvccStore rangeStream', () => {
  test('streams key-values while scanning; count and more are final once drained', async () => {
    const t = await TestStore.create()
    for (let i = 0; i < 700; i++) await t.put(`k${String(i).padStart(4, '0')}`, `${i}`)
    const stream = await t.store.rangeStream({ ...all, limit: 650, sortOrder: 'DESCEND' })
    expect(stream.header.revision).toBe(701)
    const first = await stream.kvs.next()
    expect(text(first.value?.key)).toBe('k0699')
    let n = 1
    for await (const _ of stream.kvs) n++
    expect(n).toBe(650)
    expect(stream.summary()).toEqual({ count: 700, more: true })
  })

  test('an abandoned stream releases its view', async () => {
    const t = await TestStore.create()
    for (let i = 0; i < 10; i++) await t.put(`k${i}`, 'v')
    const stream = await t.store.rangeStream(all)
    await stream.kvs.next()
    await stream.kvs.return!()
    expect((await stream.kvs.next()).done).toBe(true)
  })
})
