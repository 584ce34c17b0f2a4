import { afterEach, describe, expect, it } from 'vitest'
import { b64, post, TestCluster } from './harness.ts'

const clusters: TestCluster[] = []
afterEach(async () => {
  for (const c of clusters.splice(0)) await c.stop()
})

describe('discovery bootstrapping', () => {
  it('bootstraps a 3-member cluster through a discovery URL served by a separate 1-member Cairn', async () => {
    const service = await TestCluster.start({ size: 1 })
    clusters.push(service)
    await service.waitHealthy(0)
    const res = await fetch(`${service.members[0]!.clientUrl}/new?size=3`)
    expect(res.status).toBe(200)
    const url = (await res.text()).trim()
    expect(url).toMatch(/\/v2\/keys\/_etcd\/registry\/[0-9a-f]{32}$/)

    const cluster = await TestCluster.allocate({ size: 4 })
    clusters.push(cluster)
    for (const m of cluster.members) m.extraArgs = ['--discovery', url]
    for (let i = 0; i < 3; i++) cluster.startMember(i)
    const leader = await cluster.waitForLeader(30_000)
    const list = await post(cluster.members[leader]!.clientUrl, '/v3/cluster/member/list', {})
    const members = (list.body as { members: Array<{ name: string; peerURLs: string[] }> }).members
    expect(members.map((m) => m.name).sort()).toEqual(['m1', 'm2', 'm3'])
    const put = await post(cluster.members[(leader + 1) % 3]!.clientUrl, '/v3/kv/put', { key: b64('k'), value: b64('v') })
    expect(put.status).toBe(200)

    // A fourth member finds the cluster full and stops with a clear message.
    cluster.startMember(3)
    expect(await cluster.waitExit(3, 20_000)).toBe(1)
    expect(cluster.members[3]!.stderr).toMatch(/cluster is full/)
  })

  it('refuses a bad size', async () => {
    const service = await TestCluster.start({ size: 1 })
    clusters.push(service)
    const res = await fetch(`${service.members[0]!.clientUrl}/new?size=abc`)
    expect(res.status).toBe(400)
  })
})
