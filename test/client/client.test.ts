// The client against a real 3-member cluster (one cluster for the whole file): KV with every range
// option, the Txn builder, watches (including resume after the endpoint in use is killed mid-stream, and
// compaction), leases (keep-alive surviving a leader change, loss reported), cluster and maintenance.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, compare, CompactedError, LeaseExpiredError, op, toText, UnimplementedError } from '../../core/client/index.ts'
import type { WatchResponse } from '../../core/client/index.ts'
import { sleep, TestCluster } from '../cluster/harness.ts'

let cluster: TestCluster
let client: Client
const urls = () => cluster.members.map((m) => m.clientUrl)

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
  client = new Client({ endpoints: urls() })
}, 120_000)

afterAll(async () => {
  client?.close()
  await cluster?.stop()
})

const texts = (kvs: { key: Uint8Array }[]) => kvs.map((kv) => toText(kv.key))

describe('KV', () => {
  it('put/get with strings and bytes, prefix, fromKey, range end, limit, sort, keysOnly, countOnly, revision', async () => {
    const first = await client.put('kv/a', '1')
    await client.put('kv/b', new Uint8Array([0, 255]))
    await client.put('kv/c', '3')
    await client.put('kv/a', '11')
    const a = await client.get('kv/a')
    expect(toText(a.kvs[0]!.value)).toBe('11')
    expect(a.kvs[0]!.version).toBe(2)
    expect(a.kvs[0]!.createRevision).toBe(first.header.revision)
    expect([...(await client.get('kv/b')).kvs[0]!.value]).toEqual([0, 255])
    expect(texts((await client.get('kv/', { prefix: true })).kvs)).toEqual(['kv/a', 'kv/b', 'kv/c'])
    expect(texts((await client.get('kv/b', { fromKey: true })).kvs)).toContain('kv/c')
    expect(texts((await client.get('kv/a', { end: 'kv/c' })).kvs)).toEqual(['kv/a', 'kv/b'])
    const limited = await client.get('kv/', { prefix: true, limit: 1 })
    expect(limited.more).toBe(true)
    expect(limited.count).toBe(3)
    const byMod = await client.get('kv/', { prefix: true, sortTarget: 'MOD', sortOrder: 'DESCEND' })
    expect(texts(byMod.kvs)).toEqual(['kv/a', 'kv/c', 'kv/b'])
    const keysOnly = await client.get('kv/', { prefix: true, keysOnly: true })
    expect(keysOnly.kvs.every((kv) => kv.value.length === 0)).toBe(true)
    const countOnly = await client.get('kv/', { prefix: true, countOnly: true })
    expect(countOnly.kvs).toHaveLength(0)
    expect(countOnly.count).toBe(3)
    const old = await client.get('kv/a', { revision: first.header.revision })
    expect(toText(old.kvs[0]!.value)).toBe('1')
    const serial = await client.get('kv/a', { serializable: true })
    expect(serial.kvs).toHaveLength(1)
    expect((await client.get('kv/missing')).kvs).toEqual([])
  })

  it('put with prevKv, delete with prevKv, and compaction makes old revisions unreadable', async () => {
    const p = await client.put('del/x', 'v1')
    const p2 = await client.put('del/x', 'v2', { prevKv: true })
    expect(toText(p2.prevKv!.value)).toBe('v1')
    await client.put('del/y', 'y')
    const d = await client.delete('del/', { prefix: true, prevKv: true })
    expect(d.deleted).toBe(2)
    expect(texts(d.prevKvs)).toEqual(['del/x', 'del/y'])
    await client.compact(p2.header.revision)
    const err = await client.get('del/x', { revision: p.header.revision }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CompactedError)
  })
})

describe('Txn', () => {
  it('runs then/else by the compares, with typed results and nested txns', async () => {
    const create = () =>
      client
        .txn()
        .if(compare.createRevision('txn/lock', '=', 0))
        .then(op.put('txn/lock', 'me'), op.get('txn/lock'))
        .else(op.get('txn/lock'))
        .commit()
    const first = await create()
    expect(first.succeeded).toBe(true)
    expect(first.responses.map((r) => r.kind)).toEqual(['put', 'range'])
    const second = await create()
    expect(second.succeeded).toBe(false)
    const r = second.responses[0]!
    expect(r.kind === 'range' && toText(r.range.kvs[0]!.value)).toBe('me')
    const nested = await client
      .txn()
      .if(compare.value('txn/lock', '=', 'me'), compare.version('txn/lock', '>', 0))
      .then(op.txn([compare.modRevision('txn/lock', '<', 1)], [op.put('txn/no', '1')], [op.delete('txn/lock', { prevKv: true })]))
      .commit()
    expect(nested.succeeded).toBe(true)
    const inner = nested.responses[0]!
    expect(inner.kind).toBe('txn')
    if (inner.kind === 'txn') {
      expect(inner.txn.succeeded).toBe(false)
      const del = inner.txn.responses[0]!
      expect(del.kind === 'delete' && del.delete.deleted).toBe(1)
    }
  })
})

describe('Watch', () => {
  it('delivers events in order with prevKv, from a start revision, and ends on cancel', async () => {
    const start = (await client.put('w1/a', '0')).header.revision
    await client.put('w1/a', '1')
    await client.delete('w1/a')
    const w = client.watch('w1/', { prefix: true, prevKv: true, startRevision: start })
    const seen: string[] = []
    for await (const r of w) {
      for (const e of r.events) seen.push(`${e.type} ${toText(e.kv.key)} ${toText(e.kv.value)} prev=${e.prevKv ? toText(e.prevKv.value) : '-'}`)
      if (seen.length === 3) break
    }
    expect(seen).toEqual(['PUT w1/a 0 prev=-', 'PUT w1/a 1 prev=0', 'DELETE w1/a  prev=1'])
    expect(w.isEnded).toBe(true)
  })

  it('surfaces compaction as CompactedError carrying the compact revision', async () => {
    const r1 = await client.put('w2/a', '1')
    const r2 = await client.put('w2/a', '2')
    await client.compact(r2.header.revision)
    const w = client.watch('w2/a', { startRevision: r1.header.revision })
    const err = await (async () => {
      for await (const _ of w) void _
    })().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CompactedError)
    expect((err as CompactedError).compactRevision).toBe(r2.header.revision)
  })

  it('resumes on another endpoint when the member in use is killed mid-stream: no gap, no duplicate', async () => {
    const leader = await cluster.waitForLeader()
    const victim = (leader + 1) % 3
    const others = [0, 1, 2].filter((i) => i !== victim)
    // The watch starts on the victim; writes go through the others.
    const watcher = new Client({ endpoints: [cluster.members[victim]!.clientUrl, ...others.map((i) => cluster.members[i]!.clientUrl)] })
    const writer = new Client({ endpoints: others.map((i) => cluster.members[i]!.clientUrl) })
    const w = watcher.watch('w3/', { prefix: true })
    await w.ready
    const total = 60
    const received: number[] = []
    const revisions: number[] = []
    const consume = (async () => {
      for await (const r of w as AsyncIterable<WatchResponse>) {
        for (const e of r.events) {
          received.push(Number(toText(e.kv.value)))
          revisions.push(e.kv.modRevision)
        }
        if (received.length >= total) break
      }
    })()
    for (let i = 0; i < total; i++) {
      await writer.put(`w3/k${i % 5}`, String(i))
      if (i === 20) await cluster.kill(victim)
    }
    await Promise.race([consume, sleep(20_000).then(() => Promise.reject(new Error(`watch stalled at ${received.length}`)))])
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i))
    for (let i = 1; i < revisions.length; i++) expect(revisions[i]).toBeGreaterThan(revisions[i - 1]!)
    expect(w.resumes).toBeGreaterThanOrEqual(1)
    watcher.close()
    cluster.startMember(victim)
    await cluster.waitHealthy(victim)
  }, 60_000)
})

describe('Lease', () => {
  it('grant, timeToLive with keys, list, keepAliveOnce, revoke', async () => {
    const l = await client.lease.grant(30)
    expect(l.ttl).toBeGreaterThanOrEqual(30)
    await client.put('lease/a', 'x', { lease: l.id })
    const ttl = await client.lease.timeToLive(l.id, { keys: true })
    expect(ttl.grantedTtl).toBe(l.ttl)
    expect(ttl.keys.map(toText)).toEqual(['lease/a'])
    expect((await client.lease.list()).leases).toContain(l.id)
    expect((await client.lease.keepAliveOnce(l.id)).ttl).toBe(l.ttl)
    await client.lease.revoke(l.id)
    expect((await client.get('lease/a')).kvs).toHaveLength(0)
    expect((await client.lease.timeToLive(l.id)).ttl).toBe(-1)
    expect((await client.lease.keepAliveOnce(l.id)).ttl).toBe(0)
  })

  it('keep-alive keeps a lease through a leader change, and reports loss once revoked', async () => {
    const l = await client.lease.grant(5)
    await client.put('lease/b', 'held', { lease: l.id })
    const lost: LeaseExpiredError[] = []
    const keeper = client.lease.keepAlive(l.id, { onLost: (e) => lost.push(e) })
    await sleep(500)
    const leader = await cluster.waitForLeader()
    await cluster.kill(leader)
    await cluster.waitForLeader(15_000, leader)
    // Longer than the TTL: only refreshes through the new leader keep the key.
    await sleep(l.ttl * 1000 + 1000)
    expect(keeper.lossReason?.message).toBeUndefined()
    expect(keeper.isLost).toBe(false)
    expect((await client.get('lease/b')).kvs).toHaveLength(1)
    cluster.startMember(leader)
    await cluster.waitHealthy(leader)
    await client.lease.revoke(l.id)
    const reason = await Promise.race([keeper.lost, sleep(10_000).then(() => undefined)])
    expect(reason).toBeInstanceOf(LeaseExpiredError)
    expect(lost).toHaveLength(1)
  }, 60_000)
})

describe('Cluster and Maintenance', () => {
  it('lists members, reports status and health; membership changes reach the API', async () => {
    // Members publish their names and client URLs through the log shortly after they start.
    let list = await client.cluster.memberList()
    for (let i = 0; i < 100 && list.members.some((m) => m.clientUrls.length === 0); i++) {
      await sleep(100)
      list = await client.cluster.memberList()
    }
    expect(list.members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3'])
    expect(list.members.every((m) => m.clientUrls.length === 1 && m.peerUrls.length === 1)).toBe(true)
    const s = await client.maintenance.status()
    expect(s.leader).toBeGreaterThan(0)
    expect(s.raftAppliedIndex).toBeGreaterThan(0)
    const health = await client.maintenance.health()
    expect(health.health, health.reason).toBe(true)
    let bytes = 0
    for await (const chunk of await client.maintenance.snapshot()) bytes += chunk.byteLength
    expect(bytes).toBeGreaterThan(0)
    // The server may not serve member add yet: either it answers, or the client says it is missing.
    const add = await client.cluster.memberAdd(['http://127.0.0.1:1'], { isLearner: true }).catch((e: unknown) => e)
    if (add instanceof Error) expect(add).toBeInstanceOf(UnimplementedError)
    else await client.cluster.memberRemove((add as { member: { id: number } }).member.id)
  })
})
