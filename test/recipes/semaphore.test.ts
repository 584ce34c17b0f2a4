// The reboot semaphore against a real 3-member cluster: locksmith's key and value, created with max 1,
// idempotent lock, set-max by difference (negative allowed), `holders: null`, concurrent
// compare-and-swap, groups, and holder liveness (dead holders pruned only when they opted in).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, toText } from '../../core/client/index.ts'
import { NotHolderError, Semaphore, SemaphoreFullError, semaphoreKey } from '../../recipes/semaphore/index.ts'
import { sleep, TestCluster } from '../cluster/harness.ts'

let cluster: TestCluster
let client: Client

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  client = new Client({ endpoints: cluster.members.map((m) => m.clientUrl) })
}, 120_000)

afterAll(async () => {
  client?.close()
  await cluster?.stop()
})

async function stored(group?: string): Promise<unknown> {
  const kv = (await client.get(semaphoreKey(group))).kvs[0]
  return kv && JSON.parse(toText(kv.value))
}

describe('Semaphore', () => {
  it('Semaphore.lock() creates the key with max 1, is idempotent for a holder, refuses when full', async () => {
    const sem = new Semaphore(client, { group: 'basic' })
    expect(await stored('basic')).toBeUndefined()
    await sem.lock('m1')
    expect(await stored('basic')).toEqual({ semaphore: 0, max: 1, holders: ['m1'] })
    expect((await client.get('coreos.com/updateengine/rebootlock/groups/basic/semaphore')).kvs).toHaveLength(1)
    await sem.lock('m1') // already a holder: fine (locksmith#58)
    await expect(sem.lock('m2')).rejects.toThrow(new SemaphoreFullError(0))
    await expect(sem.lock('m2')).rejects.toThrow('semaphore is at 0')
    await expect(sem.unlock('m2')).rejects.toBeInstanceOf(NotHolderError)
    await sem.unlock('m1')
    expect(await stored('basic')).toEqual({ semaphore: 1, max: 1, holders: [] })
    await sem.lock('m2')
    expect(await stored('basic')).toEqual({ semaphore: 0, max: 1, holders: ['m2'] })
  })

  it('Semaphore.setMax() moves the free count by the difference, may go negative, keeps holders', async () => {
    const sem = new Semaphore(client, { group: 'max' })
    await sem.setMax(3)
    await sem.lock('a')
    await sem.lock('b')
    expect(await stored('max')).toEqual({ semaphore: 1, max: 3, holders: ['a', 'b'] })
    await sem.setMax(1)
    expect(await stored('max')).toEqual({ semaphore: -1, max: 1, holders: ['a', 'b'] })
    await expect(sem.lock('c')).rejects.toThrow('semaphore is at -1')
    await sem.unlock('a')
    await sem.unlock('b')
    expect(await stored('max')).toEqual({ semaphore: 1, max: 1, holders: [] })
  })

  it('accepts locksmith\'s "holders": null and the default (group-less) key', async () => {
    await client.put('coreos.com/updateengine/rebootlock/semaphore', '{"semaphore":2,"max":2,"holders":null}')
    const sem = new Semaphore(client)
    const s = await sem.status()
    expect(s.value).toEqual({ semaphore: 2, max: 2, holders: [] })
    await sem.lock('x')
    expect(await stored()).toEqual({ semaphore: 1, max: 2, holders: ['x'] })
    await sem.unlock('x')
  })

  it('escapes group names as locksmith does (Go url.QueryEscape)', async () => {
    const sem = new Semaphore(client, { group: 'a b/c' })
    expect(sem.key).toBe('coreos.com/updateengine/rebootlock/groups/a+b%2Fc/semaphore')
    await sem.lock('q')
    expect(await stored('a b/c')).toEqual({ semaphore: 0, max: 1, holders: ['q'] })
  })

  it('concurrent lock() calls: exactly max succeed (compare-and-swap retried on conflict)', async () => {
    const setup = new Semaphore(client, { group: 'race' })
    await setup.setMax(4)
    const clients = Array.from({ length: 4 }, () => new Client({ endpoints: cluster.members.map((m) => m.clientUrl) }))
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => new Semaphore(clients[i % clients.length]!, { group: 'race' }).lock(`id${i}`)),
    )
    const ok = results.filter((r) => r.status === 'fulfilled').length
    expect(ok).toBe(4)
    for (const r of results) if (r.status === 'rejected') expect((r.reason as Error).message).toBe('semaphore is at 0')
    const v = (await setup.status()).value
    expect(v.semaphore).toBe(0)
    expect(v.holders).toHaveLength(4)
  })

  it('liveness: a holder whose lease is gone is pruned by a participant; holders without liveness are kept', async () => {
    const sem = new Semaphore(client, { group: 'live', pruneDeadHolders: true })
    await sem.setMax(2)
    const lease = await client.lease.grant(1)
    await sem.lock('dies', { lease: lease.id })
    await sem.lock('manual') // no lease: e.g. `cairn lock lock` by an operator
    expect((await sem.status()).dead).toEqual([])
    await expect(sem.lock('waiting')).rejects.toThrow('semaphore is at 0')
    await client.lease.revoke(lease.id)
    expect((await sem.status()).dead).toEqual(['dies'])
    // A participant without liveness does not prune.
    await expect(new Semaphore(client, { group: 'live' }).lock('compat')).rejects.toThrow('semaphore is at 0')
    await sem.lock('waiting')
    expect((await sem.status()).value).toEqual({ semaphore: 0, max: 2, holders: ['manual', 'waiting'] })
    expect((await client.get('coreos.com/updateengine/rebootlock/groups/live/liveness/', { prefix: true })).kvs).toHaveLength(0)
  })

  it('liveness: a lease that expires on its own frees the slot after its TTL', async () => {
    const sem = new Semaphore(client, { group: 'ttl', pruneDeadHolders: true })
    const lease = await client.lease.grant(1)
    await sem.lock('gone', { lease: lease.id })
    await expect(sem.lock('next')).rejects.toThrow('semaphore is at 0')
    const t0 = Date.now()
    for (;;) {
      try {
        await sem.lock('next')
        break
      } catch (e) {
        expect((e as Error).message).toBe('semaphore is at 0')
        expect(Date.now() - t0).toBeLessThan(10_000)
        await sleep(200)
      }
    }
    expect((await sem.status()).value.holders).toEqual(['next'])
  })
})
