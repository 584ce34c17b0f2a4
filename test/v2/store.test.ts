// The v2 view over an in-memory keyspace: every operation's answer, error and index as etcd 3.4
// gives them (the expected bodies were taken from a real etcd 3.4 with --enable-v2, indexes shifted
// to this store's), concurrency guards, TTL expiry and history watches.

import { describe, expect, it } from 'vitest'
import { V2Error } from '../../core/api/v2/errors.ts'
import { ExpiryLoop } from '../../core/api/v2/expiry.ts'
import { answeredEvent } from '../../core/api/v2/keys-http.ts'
import { bytes } from '../../core/api/v2/layout.ts'
import { parseKeyRequest } from '../../core/api/v2/request.ts'
import type { KeysMethod } from '../../core/api/v2/request.ts'
import { V2Store } from '../../core/api/v2/store.ts'
import { watchEvents } from '../../core/api/v2/watch.ts'
import type { V2Event } from '../../core/api/v2/watch.ts'
import { memoryStore } from './memory-backend.ts'
import type { MemoryV2Backend } from './memory-backend.ts'

interface Answer {
  status: number
  body: unknown
  index: number
}

/** One request as the HTTP layer runs it (minus HTTP): parse, run, answer or error. */
async function call(store: V2Store, method: KeysMethod, path: string, query = '', form?: string): Promise<Answer> {
  try {
    const request = parseKeyRequest({ method, pathSuffix: path, query, formBody: form })
    const op = request.operation
    if (op.type === 'watch') throw new Error('use watchOnce')
    const r = op.type === 'get' ? await store.get(op) : await store.write(op)
    return { status: r.created ? 201 : 200, body: answeredEvent(r, request), index: r.index }
  } catch (e) {
    if (!(e instanceof V2Error)) throw e
    return { status: e.httpStatus, body: e.toBody(), index: e.index }
  }
}

const put = (store: V2Store, path: string, query = '', value?: string) =>
  call(store, 'PUT', path, query, value === undefined ? undefined : `value=${encodeURIComponent(value)}`)

async function watchOnce(backend: MemoryV2Backend, path: string, recursive: boolean, since: number): Promise<V2Event | undefined> {
  const stop = new AbortController()
  let got: V2Event | undefined
  const done = watchEvents(backend, { path, recursive }, since, (e) => ((got = e), false), stop.signal)
  const timer = setTimeout(() => stop.abort(), 200)
  await done
  clearTimeout(timer)
  return got
}

describe('V2Store get/set/create', () => {
  it('answers the empty root, a set, a listing, and an existing key on create, as etcd', async () => {
    const { store } = await memoryStore()
    expect(await call(store, 'GET', '/')).toEqual({ status: 200, body: { action: 'get', node: { dir: true } }, index: 1 })
    expect(await put(store, '/foo', '', 'bar')).toEqual({
      status: 201,
      body: { action: 'set', node: { key: '/foo', value: 'bar', modifiedIndex: 2, createdIndex: 2 } },
      index: 2,
    })
    expect((await call(store, 'GET', '/')).body).toEqual({
      action: 'get',
      node: { dir: true, nodes: [{ key: '/foo', value: 'bar', modifiedIndex: 2, createdIndex: 2 }] },
    })
    expect(await put(store, '/foo', 'prevExist=false', 'bar')).toEqual({
      status: 412,
      body: { errorCode: 105, message: 'Key already exists', cause: '/foo', index: 2 },
      index: 2,
    })
  })

  it('creates parent directories implicitly and lists them, recursively or not', async () => {
    const { store } = await memoryStore()
    await put(store, '/a/b/c', '', '1')
    expect((await call(store, 'GET', '/a')).body).toEqual({
      action: 'get',
      node: { key: '/a', dir: true, nodes: [{ key: '/a/b', dir: true, modifiedIndex: 2, createdIndex: 2 }], modifiedIndex: 2, createdIndex: 2 },
    })
    expect((await call(store, 'GET', '/a', 'recursive=true&sorted=true')).body).toEqual({
      action: 'get',
      node: {
        key: '/a',
        dir: true,
        nodes: [{ key: '/a/b', dir: true, nodes: [{ key: '/a/b/c', value: '1', modifiedIndex: 2, createdIndex: 2 }], modifiedIndex: 2, createdIndex: 2 }],
        modifiedIndex: 2,
        createdIndex: 2,
      },
    })
  })

  it('lists a large directory with deep children in name order, skipping subtrees', async () => {
    const { store } = await memoryStore()
    for (let i = 0; i < 300; i++) await put(store, `/big/k${String(i).padStart(3, '0')}`, '', 'v')
    await put(store, '/big/k100/deep/er', '', 'x') // fails: k100 is a file
    await put(store, '/big/d/x/y', '', '1')
    await put(store, '/big/d!', '', '2')
    const body = (await call(store, 'GET', '/big')).body as { node: { nodes: { key: string; dir?: boolean }[] } }
    const keys = body.node.nodes.map((n) => n.key)
    expect(keys.length).toBe(302)
    expect(keys.slice(0, 2)).toEqual(['/big/d', '/big/d!'])
    expect(keys[2]).toBe('/big/k000')
    expect([...keys].sort()).toEqual(keys)
  })

  it('reports the first missing or file component of a path, as etcd walks it', async () => {
    const { store } = await memoryStore()
    await put(store, '/foo', '', 'bar')
    expect((await call(store, 'GET', '/nx/y/z')).body).toEqual({ errorCode: 100, message: 'Key not found', cause: '/nx', index: 2 })
    expect((await call(store, 'GET', '/foo/y/z')).body).toEqual({ errorCode: 104, message: 'Not a directory', cause: '/foo', index: 2 })
    expect((await put(store, '/foo/y', '', '1')).status).toBe(400)
    expect((await call(store, 'POST', '/foo', '', 'value=1')).body).toEqual({ errorCode: 104, message: 'Not a directory', cause: '/foo', index: 2 })
  })

  it('keeps the root read only', async () => {
    const { store } = await memoryStore()
    const ro = { errorCode: 107, message: 'Root is read only', cause: '/', index: 1 }
    expect(await put(store, '/', '', 'x')).toEqual({ status: 400, body: ro, index: 1 })
    expect((await call(store, 'DELETE', '/')).body).toEqual(ro)
    expect((await call(store, 'DELETE', '/', 'recursive=true')).body).toEqual(ro)
    expect((await put(store, '/', 'prevValue=x')).body).toEqual(ro)
    expect((await call(store, 'DELETE', '/', 'prevValue=x')).body).toEqual({ errorCode: 102, message: 'Not a file', index: 1 })
  })

  it('set replaces a file (new createdIndex, prevNode) but never a directory', async () => {
    const { store } = await memoryStore()
    await put(store, '/k', '', '1')
    expect(await put(store, '/k', '', '2')).toEqual({
      status: 200,
      body: {
        action: 'set',
        node: { key: '/k', value: '2', modifiedIndex: 3, createdIndex: 3 },
        prevNode: { key: '/k', value: '1', modifiedIndex: 2, createdIndex: 2 },
      },
      index: 3,
    })
    expect((await put(store, '/d', 'dir=true')).body).toEqual({ action: 'set', node: { key: '/d', dir: true, modifiedIndex: 4, createdIndex: 4 } })
    expect((await put(store, '/d', 'dir=true')).body).toEqual({ errorCode: 102, message: 'Not a file', cause: '/d', index: 4 })
    expect((await put(store, '/d', '', '1')).body).toEqual({ errorCode: 102, message: 'Not a file', cause: '/d', index: 4 })
    // A file becomes a directory by set dir=true (etcd replaces files).
    expect((await put(store, '/k', 'dir=true')).body).toMatchObject({ action: 'set', node: { key: '/k', dir: true, createdIndex: 5 } })
  })

  it('answers no node and prevNode with noValueOnSuccess', async () => {
    const { store } = await memoryStore()
    expect((await put(store, '/k', 'noValueOnSuccess=true', '1')).body).toEqual({ action: 'set' })
  })

  it('creates in-order keys named by the index, in a new or existing directory', async () => {
    const { store } = await memoryStore()
    const a = await call(store, 'POST', '/q', '', 'value=j1')
    expect(a).toEqual({
      status: 201,
      body: { action: 'create', node: { key: '/q/00000000000000000002', value: 'j1', modifiedIndex: 2, createdIndex: 2 } },
      index: 2,
    })
    const b = await call(store, 'POST', '/q', 'dir=true')
    expect(b.body).toEqual({ action: 'create', node: { key: '/q/00000000000000000003', dir: true, modifiedIndex: 3, createdIndex: 3 } })
    expect((await call(store, 'POST', '/', '', 'value=r')).body).toMatchObject({ node: { key: '/00000000000000000004' } })
  })

  it('orders in-order keys by commit even when a concurrent POST slips in', async () => {
    const { store, backend } = await memoryStore()
    const otherMember = new V2Store(backend)
    await call(store, 'POST', '/q', '', 'value=first')
    // While our POST is deciding, another member's POST to the same directory commits first.
    backend.beforeTxn = async () => {
      await call(otherMember, 'POST', '/q', '', 'value=concurrent')
    }
    const mine = await call(store, 'POST', '/q', '', 'value=mine')
    const listing = (await call(store, 'GET', '/q', 'sorted=true')).body as { node: { nodes: { key: string; value: string; createdIndex: number }[] } }
    expect(listing.node.nodes.map((n) => n.value)).toEqual(['first', 'concurrent', 'mine'])
    for (const n of listing.node.nodes) expect(Number(n.key.slice(3))).toBeLessThanOrEqual(n.createdIndex)
    expect(mine.status).toBe(201)
  })

  it('leaves hidden keys out of listings but answers them directly', async () => {
    const { store } = await memoryStore()
    await put(store, '/q/a', '', '1')
    await put(store, '/q/_hid', '', 'h')
    await put(store, '/q/_hdir/x', '', 'h')
    expect((await call(store, 'GET', '/q', 'recursive=true')).body).toMatchObject({ node: { nodes: [{ key: '/q/a' }] } })
    expect(((await call(store, 'GET', '/', 'recursive=true')).body as { node: { nodes: unknown[] } }).node.nodes).toHaveLength(1)
    expect((await call(store, 'GET', '/q/_hid')).body).toMatchObject({ node: { key: '/q/_hid', value: 'h' } })
    // Hidden children still make a directory non-empty, as in etcd.
    await put(store, '/e/_only', '', 'x')
    expect((await call(store, 'DELETE', '/e', 'dir=true')).body).toMatchObject({ errorCode: 108 })
  })
})

describe('V2Store update, compare-and-swap, delete', () => {
  it('update keeps createdIndex and needs the key; ttl= with prevExist=true removes a TTL', async () => {
    const { store } = await memoryStore()
    expect((await put(store, '/zz', 'prevExist=true', '1')).body).toEqual({ errorCode: 100, message: 'Key not found', cause: '/zz', index: 1 })
    await put(store, '/k', 'ttl=5', '1')
    const r = await put(store, '/k', 'prevExist=true&ttl=', '2')
    expect(r.body).toEqual({
      action: 'update',
      node: { key: '/k', value: '2', modifiedIndex: 3, createdIndex: 2 },
      prevNode: { key: '/k', value: '1', expiration: '2026-01-02T03:04:10.6Z', ttl: 5, modifiedIndex: 2, createdIndex: 2 },
    })
    expect(r.status).toBe(200)
  })

  it('compare-and-swap checks value and index with etcd causes', async () => {
    const { store } = await memoryStore()
    await put(store, '/foo', '', '1')
    expect((await put(store, '/foo', 'prevValue=zz', '2')).body).toEqual({ errorCode: 101, message: 'Compare failed', cause: '[zz != 1]', index: 2 })
    expect((await put(store, '/foo', 'prevIndex=1', '2')).body).toEqual({ errorCode: 101, message: 'Compare failed', cause: '[1 != 2]', index: 2 })
    expect((await put(store, '/foo', 'prevIndex=1&prevValue=zz', '2')).body).toMatchObject({ cause: '[zz != 1] [1 != 2]' })
    expect((await put(store, '/foo', 'prevIndex=1&prevValue=zz', '2')).status).toBe(412)
    expect(await put(store, '/foo', 'prevValue=1&prevIndex=2', '2')).toEqual({
      status: 200,
      body: {
        action: 'compareAndSwap',
        node: { key: '/foo', value: '2', modifiedIndex: 3, createdIndex: 2 },
        prevNode: { key: '/foo', value: '1', modifiedIndex: 2, createdIndex: 2 },
      },
      index: 3,
    })
    expect((await put(store, '/nope', 'prevValue=a', '1')).body).toMatchObject({ errorCode: 100, cause: '/nope' })
    await put(store, '/d', 'dir=true')
    expect((await put(store, '/d', 'prevValue=a', '1')).body).toMatchObject({ errorCode: 102, cause: '/d' })
  })

  it('a compare-and-swap whose guard fails (concurrent write) is decided again', async () => {
    const { store, backend } = await memoryStore()
    await put(store, '/foo', '', '1')
    backend.beforeTxn = async () => {
      await put(new V2Store(backend), '/foo', '', 'changed')
    }
    expect((await put(store, '/foo', 'prevValue=1', '2')).body).toEqual({ errorCode: 101, message: 'Compare failed', cause: '[1 != changed]', index: 3 })
  })

  it('deletes files, empty directories, and whole trees; compare-and-delete checks', async () => {
    const { store } = await memoryStore()
    await put(store, '/a/b/c', '', '1')
    expect((await call(store, 'DELETE', '/a')).body).toEqual({ errorCode: 102, message: 'Not a file', cause: '/a', index: 2 })
    expect((await call(store, 'DELETE', '/a', 'dir=true')).body).toEqual({ errorCode: 108, message: 'Directory not empty', cause: '/a', index: 2 })
    expect(await call(store, 'DELETE', '/a', 'recursive=true')).toEqual({
      status: 200,
      body: {
        action: 'delete',
        node: { key: '/a', dir: true, modifiedIndex: 3, createdIndex: 2 },
        prevNode: { key: '/a', dir: true, modifiedIndex: 2, createdIndex: 2 },
      },
      index: 3,
    })
    expect((await call(store, 'GET', '/a/b/c')).body).toMatchObject({ errorCode: 100, cause: '/a' })
    await put(store, '/f', '', 'v')
    expect((await call(store, 'DELETE', '/f', 'prevValue=x')).body).toMatchObject({ errorCode: 101, cause: '[x != v]' })
    expect((await call(store, 'DELETE', '/f', 'prevIndex=4&prevValue=v')).body).toEqual({
      action: 'compareAndDelete',
      node: { key: '/f', modifiedIndex: 5, createdIndex: 4 },
      prevNode: { key: '/f', value: 'v', modifiedIndex: 4, createdIndex: 4 },
    })
    await put(store, '/e', 'dir=true')
    expect((await call(store, 'DELETE', '/e', 'dir=true')).body).toMatchObject({ action: 'delete', node: { key: '/e', dir: true } })
  })

  it('answers stale-looking errors only after confirming them with a barrier', async () => {
    const { store, backend } = await memoryStore()
    await call(store, 'GET', '/missing')
    expect(backend.barriers).toBe(0) // reads need none
    await put(store, '/missing', 'prevExist=true', '1')
    expect(backend.barriers).toBe(1)
  })
})

describe('V2Store with auth on', () => {
  it('refuses a write checked for a user whose permissions changed before it was applied', async () => {
    const { store, backend } = await memoryStore()
    const app = { permType: 'READWRITE' as const, key: bytes('/app'), rangeEnd: bytes('/app0') }
    for (const r of [
      { userAdd: { name: 'root', passwordHash: 'h', noPassword: false } },
      { userGrantRole: { user: 'root', role: 'root' } },
      { userAdd: { name: 'alice', passwordHash: 'h', noPassword: false } },
      { roleAdd: { name: 'app' } },
      { roleGrantPermission: { name: 'app', perm: app } },
      { userGrantRole: { user: 'alice', role: 'app' } },
      { authEnable: { tokenSecret: 's' } },
    ]) {
      await backend.auth(r)
    }
    const alice = () => ({ user: 'alice', revision: backend.mvcc.auth.state().users.get('alice')!.revision })
    const set = (value: string, as: { user: string; revision: number }) => store.write({ type: 'set', path: '/app/k', dir: false, value, refresh: false }, as)
    await set('1', alice())
    // Checked while alice may write; her role loses the grant before the write is applied.
    const checked = alice()
    backend.beforeTxn = () => backend.auth({ roleRevokePermission: { role: 'app', key: app.key, rangeEnd: app.rangeEnd } })
    await expect(set('2', checked)).rejects.toMatchObject({ code: 'AuthOldRevision' })
    expect((await call(store, 'GET', '/app/k')).body).toMatchObject({ node: { value: '1' } })
  })
})

describe('V2Store under concurrent writers', () => {
  it('gives concurrent POSTs distinct names whose order is their commit order', async () => {
    const { store } = await memoryStore()
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(store, 'POST', '/jobs', '', `value=${i}`)))
    expect(answers.every((a) => a.status === 201)).toBe(true)
    const listing = (await call(store, 'GET', '/jobs', 'sorted=true')).body as { node: { nodes: { key: string; createdIndex: number }[] } }
    const nodes = listing.node.nodes
    expect(new Set(nodes.map((n) => n.key)).size).toBe(20)
    const byIndex = [...nodes].sort((a, b) => a.createdIndex - b.createdIndex)
    expect(byIndex.map((n) => n.key)).toEqual(nodes.map((n) => n.key))
  })

  it('lets exactly one of many concurrent compare-and-swaps on the same value win', async () => {
    const { store } = await memoryStore()
    await put(store, '/counter', '', '0')
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => put(store, '/counter', 'prevValue=0', `w${i}`)))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1)
    expect(answers.filter((a) => a.status === 412)).toHaveLength(9)
  })

  it('does not starve many concurrent writers of one key or one directory', async () => {
    const { store } = await memoryStore()
    const sets = await Promise.all(Array.from({ length: 60 }, (_, i) => put(store, '/same', '', `v${i}`)))
    expect(sets.every((a) => a.status === 200 || a.status === 201)).toBe(true)
    expect(sets.filter((a) => a.status === 201)).toHaveLength(1)
    const posts = await Promise.all(Array.from({ length: 60 }, (_, i) => call(store, 'POST', '/many', '', `value=${i}`)))
    expect(posts.every((a) => a.status === 201)).toBe(true)
  })

  it('creates a directory tree from concurrent writers without orphans or lost nodes', async () => {
    const { store } = await memoryStore()
    const writes = Array.from({ length: 12 }, (_, i) => put(store, `/t/${i % 3}/${i % 2}/k${i}`, '', 'v'))
    const removal = call(store, 'DELETE', '/t/1', 'recursive=true')
    await Promise.all([...writes, removal])
    const tree = (await call(store, 'GET', '/t', 'recursive=true')).body as { node: { nodes?: { key: string; nodes?: { nodes?: unknown[] }[] }[] } }
    // Every stored node hangs under a directory that exists: count files through the tree and the keyspace.
    const files = (n: { nodes?: unknown[]; dir?: boolean }): number =>
      n.nodes === undefined ? (n.dir ? 0 : 1) : n.nodes.reduce<number>((sum, c) => sum + files(c as { nodes?: unknown[]; dir?: boolean }), 0)
    const stored = await store.backend.range({ key: bytes('\u0000v2/k/t/'), rangeEnd: bytes('\u0000v2/k/t0') })
    const storedFiles = stored.kvs.filter((kv) => new TextDecoder().decode(kv.value).startsWith('f')).length
    expect(files(tree.node)).toBe(storedFiles)
  })
})

describe('V2Store TTLs', () => {
  it('shows the remaining ttl, refreshes without changing the value, and expires on the leader tick', async () => {
    const { store, backend, clock } = await memoryStore()
    const set = await put(store, '/t', 'ttl=5', 'v')
    expect(set.body).toEqual({
      action: 'set',
      node: { key: '/t', value: 'v', expiration: '2026-01-02T03:04:10.6Z', ttl: 5, modifiedIndex: 2, createdIndex: 2 },
    })
    clock.advance(1500)
    expect((await call(store, 'GET', '/t')).body).toMatchObject({ node: { ttl: 4 } })
    expect((await put(store, '/t', 'refresh=true&ttl=10&prevExist=true')).body).toMatchObject({ action: 'update', node: { value: 'v', ttl: 10 } })
    expect((await put(store, '/t', 'refresh=true&ttl=10', 'x')).body).toEqual({
      errorCode: 211,
      message: 'Value provided on refresh',
      cause: 'A value was provided on a refresh',
      index: 0,
    })
    const loop = new ExpiryLoop(store, () => true, undefined)
    expect(await loop.tick()).toBe(0)
    clock.advance(10_000)
    expect(await loop.tick()).toBe(1)
    expect((await call(store, 'GET', '/t')).body).toMatchObject({ errorCode: 100 })
    const expired = await watchOnce(backend, '/t', false, 4)
    expect(expired?.json).toEqual({
      action: 'expire',
      node: { key: '/t', modifiedIndex: 4, createdIndex: 2 },
      prevNode: { key: '/t', value: 'v', expiration: '2026-01-02T03:04:17.1Z', modifiedIndex: 3, createdIndex: 2 },
    })
    expect(JSON.parse(JSON.stringify(store.stats.toJson())).expireCount).toBe(1)
  })

  it('expires a directory with its subtree, and drops index entries of nodes deleted with an ancestor', async () => {
    const { store, clock } = await memoryStore()
    await put(store, '/td', 'ttl=1&dir=true')
    await put(store, '/td/in', 'ttl=100', 'v')
    await put(store, '/gone/x', 'ttl=1', 'v')
    await call(store, 'DELETE', '/gone', 'recursive=true')
    clock.advance(2000)
    const loop = new ExpiryLoop(store, () => true, undefined)
    expect(await loop.tick()).toBe(1)
    expect((await call(store, 'GET', '/td/in')).body).toMatchObject({ errorCode: 100, cause: '/td' })
    clock.advance(200_000)
    expect(await loop.tick()).toBe(0) // /td/in's entry is stale: dropped silently
  })

  it('treats ttl=0 as expiring now and an overflowing ttl as permanent, as etcd does', async () => {
    const { store } = await memoryStore()
    expect((await put(store, '/z', 'ttl=0', '1')).body).toEqual({
      action: 'set',
      node: { key: '/z', value: '1', expiration: '2026-01-02T03:04:05.6Z', modifiedIndex: 2, createdIndex: 2 },
    })
    expect((await put(store, '/y', 'ttl=99999999999999999', '1')).body).toEqual({
      action: 'set',
      node: { key: '/y', value: '1', modifiedIndex: 3, createdIndex: 3 },
    })
  })
})

describe('V2Store watches from history', () => {
  it('finds the first matching event at or after an index, recursively and for deleted ancestors', async () => {
    const { store, backend } = await memoryStore()
    await put(store, '/w/a', '', '1') // 2
    await put(store, '/w/_h', '', 'hidden') // 3
    await put(store, '/w/b', 'ttl=30', '2') // 4
    await put(store, '/w/b', 'ttl=30&refresh=true') // 5 (refresh: not reported)
    await call(store, 'DELETE', '/w', 'recursive=true') // 6
    expect((await watchOnce(backend, '/w/a', false, 1))?.index).toBe(2)
    expect((await watchOnce(backend, '/w', true, 3))?.index).toBe(4)
    expect((await watchOnce(backend, '/w/_h', false, 3))?.index).toBe(3)
    expect((await watchOnce(backend, '/w/b', false, 5))?.index).toBe(6)
    const deletedAbove = await watchOnce(backend, '/w/a', false, 3)
    expect(deletedAbove?.json).toEqual({
      action: 'delete',
      node: { key: '/w', dir: true, modifiedIndex: 6, createdIndex: 2 },
      prevNode: { key: '/w', dir: true, modifiedIndex: 2, createdIndex: 2 },
    })
    expect(await watchOnce(backend, '/other', true, 1)).toBeUndefined()
  })

  it('skips revisions that are not v2 writes and waits for the next one', async () => {
    const { store, backend } = await memoryStore()
    await backend.putV3(bytes('plain-v3-key'), bytes('x'))
    const stop = new AbortController()
    const seen: number[] = []
    const done = watchEvents(backend, { path: '/', recursive: true }, 2, (e) => (seen.push(e.index), false), stop.signal)
    await put(store, '/later', '', 'v')
    expect(await done).toBe('stopped')
    expect(seen).toEqual([3])
  })

  it('ends a watch that starts below the compaction', async () => {
    const { store, backend } = await memoryStore()
    await put(store, '/a', '', '1')
    await put(store, '/a', '', '2')
    await backend.compact(3)
    const end = await watchEvents(backend, { path: '/a', recursive: false }, 1, () => false, new AbortController().signal)
    expect(end).toBe('compacted')
  })
})
