// --quota-backend-bytes on a real 3-member cluster: filling the keyspace past the quota raises a
// NOSPACE alarm through the log, every member then refuses writes that need space (and keeps doing so
// after a restart) while reads, deletes and compaction go on; `cairn alarm disarm` after freeing space
// lets writes through again.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { cairn } from '../cli/run.ts'
import { b64, post, sleep, TestCluster } from './harness.ts'

vi.setConfig({ testTimeout: 120_000 })

const QUOTA = 1024 * 1024
const NOSPACE = 'etcdserver: mvcc: database space exceeded'
let cluster: TestCluster
let endpoints = ''

beforeAll(async () => {
  // A small snapshot count, so a member that misses a few thousand entries catches up by snapshot.
  cluster = await TestCluster.start({ size: 3, snapshotCount: 50, extraArgs: ['--quota-backend-bytes', String(QUOTA)] })
  for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
  endpoints = cluster.members.map((m) => m.clientUrl).join(',')
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
})

const url = (i: number) => cluster.members[i]!.clientUrl
const put = (i: number, key: string, value: string) => post(url(i), '/v3/kv/put', { key: b64(key), value: b64(value) })

async function alarms(i: number): Promise<unknown[]> {
  const r = await post(url(i), '/v3/maintenance/alarm', { action: 'GET' })
  expect(r.status).toBe(200)
  return ((r.body as { alarms?: unknown[] }).alarms ?? []) as unknown[]
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

describe('backend quota and the NOSPACE alarm', () => {
  it('a write past the quota raises NOSPACE on every member, which then refuse writes but serve reads, deletes and compaction', async () => {
    const value = 'x'.repeat(64 * 1024)
    let refused: { status: number; body: unknown } | undefined
    let written = 0
    for (let n = 0; n < 100 && !refused; n++) {
      const r = await put(0, `big/${n}`, value)
      if (r.status === 200) written++
      else refused = r
    }
    // Each 64 KiB put counts twice (live key and history event): the 1 MiB quota holds 7 of them.
    expect(written).toBeGreaterThanOrEqual(6)
    expect(written).toBeLessThanOrEqual(8)
    expect(refused).toMatchObject({ status: 429, body: { error: NOSPACE, code: 8 } })
    const memberId = ((await post(url(0), '/v3/maintenance/status', {})).body as { header: { member_id: string } }).header.member_id
    for (let i = 0; i < 3; i++) {
      await waitFor(async () => (await alarms(i)).length === 1, `the alarm on member ${i}`)
      expect(await alarms(i)).toEqual([{ memberID: memberId, alarm: 'NOSPACE' }])
      const status = (await post(url(i), '/v3/maintenance/status', {})).body as { errors?: string[]; dbSizeInUse: string }
      expect(status.errors).toEqual([`memberID:${memberId} alarm:NOSPACE `])
      expect(Number(status.dbSizeInUse)).toBeGreaterThan(QUOTA - 2 * 64 * 1024)
      expect(await put(i, 'small', '1')).toMatchObject({ status: 429, body: { error: NOSPACE } })
      const txn = await post(url(i), '/v3/kv/txn', { success: [{ request_put: { key: b64('t'), value: b64('1') } }] })
      expect(txn).toMatchObject({ status: 429, body: { error: NOSPACE } })
      const grant = await post(url(i), '/v3/lease/grant', { TTL: '10' })
      expect(grant).toMatchObject({ status: 429, body: { error: NOSPACE } })
      const range = await post(url(i), '/v3/kv/range', { key: b64('big/'), range_end: b64('big0'), count_only: true })
      expect(range).toMatchObject({ status: 200, body: { count: String(written) } })
    }
    // Deletes and read-only txns are still accepted.
    expect((await post(url(1), '/v3/kv/deleterange', { key: b64('big/0') })).status).toBe(200)
    expect((await post(url(2), '/v3/kv/txn', { success: [{ request_range: { key: b64('big/1') } }] })).status).toBe(200)
  })

  it('the alarm survives a restart of a member', async () => {
    await cluster.kill(2)
    cluster.startMember(2)
    await cluster.waitHealthy(2)
    expect(await alarms(2)).toHaveLength(1)
    expect(await put(2, 'small', '1')).toMatchObject({ status: 429 })
  })

  it('disarming while still over the quota lets the next write raise the alarm again', async () => {
    const disarm = await cairn(['alarm', 'disarm'], { endpoints })
    expect(disarm.code).toBe(0)
    expect(disarm.stdout).toMatch(/^memberID:\d+ alarm:NOSPACE \n$/)
    expect(await put(0, 'big/again', 'x'.repeat(64 * 1024))).toMatchObject({ status: 429, body: { error: NOSPACE } })
    expect(await alarms(0)).toHaveLength(1)
  })

  it('a member that catches up by snapshot gets the alarm with it', async () => {
    const leader = await cluster.waitForLeader()
    const lagging = (leader + 1) % 3
    await cluster.kill(lagging)
    // Deletes are allowed under the alarm: enough entries that the log is compacted past the alarm.
    const other = 3 - leader - lagging
    for (let n = 0; n < 5200; n += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, k) => post(url(k % 2 ? leader : other), '/v3/kv/deleterange', { key: b64(`none/${n + k}`) })))
    }
    cluster.startMember(lagging)
    await cluster.waitHealthy(lagging)
    await waitFor(async () => cluster.members[lagging]!.stderr.includes('restored snapshot from leader'), 'the snapshot restore')
    // A restore replaces the whole keyspace state, alarms included: the alarm it shows came in the snapshot.
    expect(await alarms(lagging)).toHaveLength(1)
    expect(await put(lagging, 'small', '1')).toMatchObject({ status: 429, body: { error: NOSPACE } })
  })

  it('after deleting and compacting, `cairn alarm disarm` clears the alarm and every member accepts writes', async () => {
    const del = await post(url(0), '/v3/kv/deleterange', { key: b64('big/'), range_end: b64('big0') })
    expect(del.status).toBe(200)
    const revision = (del.body as { header: { revision: string } }).header.revision
    expect((await post(url(0), '/v3/kv/compaction', { revision, physical: true })).status).toBe(200)
    const defrag = await cairn(['defrag', '--cluster'], { endpoints })
    expect(defrag.code).toBe(0)
    expect(defrag.stdout.match(/^Finished defragmenting etcd member\[http:\/\/127\.0\.0\.1:\d+\]$/gm)).toHaveLength(3)
    const list = await cairn(['alarm', 'list'], { endpoints })
    expect(list.stdout).toMatch(/alarm:NOSPACE/)
    expect((await cairn(['alarm', 'disarm'], { endpoints })).code).toBe(0)
    for (let i = 0; i < 3; i++) {
      await waitFor(async () => (await alarms(i)).length === 0, `the alarm to clear on member ${i}`)
      expect(await put(i, `after/${i}`, 'ok')).toMatchObject({ status: 200 })
    }
    expect(await cairn(['alarm', 'list'], { endpoints })).toMatchObject({ code: 0, stdout: '' })
  })
})
