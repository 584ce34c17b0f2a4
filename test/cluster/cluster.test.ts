import WebSocket from 'ws'
import { afterEach, describe, expect, it } from 'vitest'
import { b64, post, sleep, TestCluster, unb64 } from './harness.ts'

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

async function put(url: string, key: string, value: string): Promise<number> {
  const r = await post(url, '/v3/kv/put', { key: b64(key), value: b64(value) })
  if (r.status !== 200) throw new Error(`put ${key}: ${r.status} ${JSON.stringify(r.body)}`)
  return Number((r.body as { header: { revision: string } }).header.revision)
}

async function get(url: string, key: string, serializable = false): Promise<string | undefined> {
  const r = await post(url, '/v3/kv/range', { key: b64(key), serializable })
  if (r.status !== 200) throw new Error(`get ${key}: ${r.status} ${JSON.stringify(r.body)}`)
  const kvs = (r.body as { kvs?: Array<{ value?: string }> }).kvs
  return kvs?.[0] ? unb64(kvs[0].value) : undefined
}

describe('cairn serve, 3 members', () => {
  it('serves writes through any member, readable from every member', async () => {
    cluster = await TestCluster.start({ size: 3 })
    for (let i = 0; i < 3; i++) await put(cluster.members[i]!.clientUrl, `k${i}`, `v${i}`)
    for (let j = 0; j < 3; j++) {
      for (let i = 0; i < 3; i++) expect(await get(cluster.members[j]!.clientUrl, `k${i}`)).toBe(`v${i}`)
    }
    const metrics = await (await fetch(`${cluster.members[0]!.clientUrl}/metrics`)).text()
    expect(metrics).toMatch(/^cairn_server_has_leader 1$/m)
    expect(Number(/^cairn_disk_wal_fsync_duration_seconds_count (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0)
    expect(metrics).toMatch(/^cairn_network_peers_connected 2$/m)
    expect(metrics).toMatch(/^cairn_http_request_duration_seconds_count\{path="\/v3\/kv\/put"\} \d+$/m)
  })

  it('a watch on a follower sees every write in order', async () => {
    cluster = await TestCluster.start({ size: 3 })
    const leader = await cluster.waitForLeader()
    const follower = (leader + 1) % 3
    const ws = new WebSocket(cluster.members[follower]!.clientUrl.replace('http', 'ws') + '/v3/watch')
    const seen: string[] = []
    await new Promise((r) => ws.once('open', r))
    let created!: () => void
    const isCreated = new Promise<void>((r) => (created = r))
    ws.on('message', (d) => {
      const result = (JSON.parse(String(d)) as { result?: { created?: boolean; events?: Array<{ kv: { value?: string } }> } }).result
      if (result?.created) created()
      for (const e of result?.events ?? []) seen.push(unb64(e.kv.value))
    })
    ws.send(JSON.stringify({ create_request: { key: b64('w/'), range_end: b64('w0') } }))
    await isCreated
    const expected: string[] = []
    for (let i = 0; i < 50; i++) {
      expected.push(String(i))
      await put(cluster.members[i % 3]!.clientUrl, `w/${i % 5}`, String(i))
    }
    const deadline = Date.now() + 20_000
    while (seen.length < expected.length && Date.now() < deadline) await sleep(20)
    ws.close()
    expect(seen).toEqual(expected)
  })

  it('elects a new leader within 3 election timeouts after kill -9 and keeps accepting writes', async () => {
    cluster = await TestCluster.start({ size: 3, electionMs: 500 })
    const leader = await cluster.waitForLeader()
    await put(cluster.members[leader]!.clientUrl, 'before', '1')
    const killedAt = Date.now()
    await cluster.kill(leader)
    const next = await cluster.waitForLeader(5_000, leader)
    const elapsed = Date.now() - killedAt
    expect(next).not.toBe(leader)
    expect(elapsed).toBeLessThan(3 * 500 + 500) // 3 election timeouts, plus polling slack
    await put(cluster.members[next]!.clientUrl, 'after', '2')
    expect(await get(cluster.members[next]!.clientUrl, 'before')).toBe('1')
  })

  it('a restarted member catches up by snapshot after missing compacted entries', async () => {
    cluster = await TestCluster.start({ size: 3, snapshotCount: 50 })
    const leader = await cluster.waitForLeader()
    const victim = (leader + 1) % 3
    await cluster.kill(victim)
    // More than snapshotCount + the catch-up margin, so the leader must send a snapshot.
    for (let i = 0; i < 300; i++) await put(cluster.members[leader]!.clientUrl, `s/${i}`, String(i))
    cluster.startMember(victim)
    await cluster.waitHealthy(victim)
    const deadline = Date.now() + 10_000
    let value: string | undefined
    while (Date.now() < deadline) {
      value = await get(cluster.members[victim]!.clientUrl, 's/299', true).catch(() => undefined)
      if (value === '299') break
      await sleep(100)
    }
    expect(value).toBe('299')
    expect(await get(cluster.members[victim]!.clientUrl, 's/0', true)).toBe('0')
  })

  it('loses no acknowledged write when every member is killed -9 mid-stream', async () => {
    cluster = await TestCluster.start({ size: 3 })
    const leader = await cluster.waitForLeader()
    const acked: number[] = []
    let stop = false
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          await put(cluster!.members[leader]!.clientUrl, `d/${i}`, String(i))
          acked.push(i)
        } catch {
          return
        }
      }
    })()
    await sleep(1500)
    await Promise.all([0, 1, 2].map((i) => cluster!.kill(i)))
    stop = true
    await writer
    expect(acked.length).toBeGreaterThan(10)
    for (let i = 0; i < 3; i++) cluster.startMember(i)
    const next = await cluster.waitForLeader()
    const r = await post(cluster.members[next]!.clientUrl, '/v3/kv/range', { key: b64('d/'), range_end: b64('d0'), count_only: true })
    const count = Number((r.body as { count?: string }).count ?? 0)
    expect(count).toBeGreaterThanOrEqual(acked.length)
    for (const i of acked.slice(-20)) expect(await get(cluster.members[next]!.clientUrl, `d/${i}`)).toBe(String(i))
  })
})
