import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { verifySnapshotFile } from '../../core/server/snapshot-file.ts'
import { restoreSnapshotInto } from './restore.ts'
import { b64, post, sleep, TestCluster, unb64 } from './harness.ts'

const clusters: TestCluster[] = []
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop()
})

type Kv = { key: string; value?: string; create_revision?: string; mod_revision?: string; version?: string }

async function all(url: string, revision?: number): Promise<Kv[]> {
  const r = await post(url, '/v3/kv/range', { key: b64('\0'), range_end: b64('\0'), ...(revision ? { revision } : {}) }, 20_000)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return ((r.body as { kvs?: Kv[] }).kvs ?? []).map((kv) => ({ ...kv, key: unb64(kv.key), value: unb64(kv.value) }))
}

describe('backup and restore', () => {
  it('saves a snapshot under load and restores it into a new 3-member cluster with every key and revision', async () => {
    const source = await TestCluster.start({ size: 3 })
    clusters.push(source)
    const leader = await source.waitForLeader()
    const url = source.members[leader]!.clientUrl
    for (let i = 0; i < 300; i++) await post(url, '/v3/kv/put', { key: b64(`k/${i % 120}`), value: b64(`v${i}`) })
    let writing = true
    const writer = (async () => {
      for (let i = 0; writing; i++) await post(url, '/v3/kv/put', { key: b64(`live/${i}`), value: b64(String(i)) }).catch(() => undefined)
    })()
    const res = await fetch(`${url}/v3/maintenance/snapshot`)
    expect(res.status).toBe(200)
    const file = join(source.root, 'backup.snap')
    await writeFile(file, Buffer.from(await res.arrayBuffer()))
    writing = false
    await writer
    const status = await verifySnapshotFile(file)
    expect(status.keys).toBeGreaterThanOrEqual(120)
    const expected = await all(url, status.revision)
    expect(expected.length).toBe(status.keys)

    const target = await TestCluster.allocate({ size: 3 })
    clusters.push(target)
    for (let i = 0; i < target.members.length; i++) await restoreSnapshotInto(target, i, file)
    for (let i = 0; i < 3; i++) target.startMember(i)
    const newLeader = await target.waitForLeader()
    await sleep(300)
    const restored = await all(target.members[newLeader]!.clientUrl)
    expect(restored).toEqual(expected)
    // The restored cluster goes on from the snapshot's revision.
    const put = await post(target.members[newLeader]!.clientUrl, '/v3/kv/put', { key: b64('after'), value: b64('1') })
    expect(Number((put.body as { header: { revision: string } }).header.revision)).toBe(status.revision + 1)
  })

  it('refuses a truncated or damaged snapshot file', async () => {
    const c = await TestCluster.start({ size: 1 })
    clusters.push(c)
    await post(c.members[0]!.clientUrl, '/v3/kv/put', { key: b64('a'), value: b64('b') })
    const bytes = Buffer.from(await (await fetch(`${c.members[0]!.clientUrl}/v3/maintenance/snapshot`)).arrayBuffer())
    const truncated = join(c.root, 'truncated.snap')
    await writeFile(truncated, bytes.subarray(0, bytes.length - 10))
    await expect(verifySnapshotFile(truncated)).rejects.toThrow()
    const flipped = Buffer.from(bytes)
    flipped[20] = flipped[20]! ^ 0xff
    const damaged = join(c.root, 'damaged.snap')
    await writeFile(damaged, flipped)
    await expect(verifySnapshotFile(damaged)).rejects.toThrow()
    const good = join(c.root, 'good.snap')
    await writeFile(good, bytes)
    await expect(verifySnapshotFile(good)).resolves.toMatchObject({ keys: 1 })
  })
})
