import { execFileSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { b64, post, sleep, TestCluster, unb64 } from './harness.ts'

let cluster: TestCluster | undefined
afterEach(async () => {
  await cluster?.stop()
  cluster = undefined
})

interface MemberJson {
  ID: string
  name?: string
  peerURLs?: string[]
  clientURLs?: string[]
  isLearner?: boolean
}

async function members(url: string): Promise<MemberJson[]> {
  const r = await post(url, '/v3/cluster/member/list', {})
  return (r.body as { members: MemberJson[] }).members
}

/** Writes keys w/0, w/1, … until stopped; records the acknowledged ones. */
function writer(c: TestCluster) {
  const acked: number[] = []
  let stop = false
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      for (let attempt = 0; attempt < 50 && !stop; attempt++) {
        const live = c.members.filter((m) => m.proc && m.proc.exitCode === null && m.proc.signalCode === null)
        const m = live[(i + attempt) % live.length]!
        try {
          const r = await post(m.clientUrl, '/v3/kv/put', { key: b64(`w/${i}`), value: b64(String(i)) }, 3000)
          if (r.status === 200) {
            acked.push(i)
            break
          }
        } catch {
          // try another member
        }
        await sleep(50)
      }
    }
  })()
  return {
    acked,
    stop: async () => {
      stop = true
      await done
    },
  }
}

async function addAndStart(c: TestCluster, via: string, learner = false): Promise<number> {
  const i = await c.newJoiner()
  const r = await post(via, '/v3/cluster/member/add', { peerURLs: [c.members[i]!.peerUrl], isLearner: learner }, 15_000)
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  c.startMember(i)
  await c.waitHealthy(i, 20_000)
  // A member counts as started once it has published its name and client URLs through the log (as in
  // etcd); until then the next voter add is refused as "unhealthy cluster".
  for (let tries = 0; tries < 200; tries++) {
    const published = (await members(via)).find((m) => m.peerURLs?.includes(c.members[i]!.peerUrl))?.clientURLs?.length
    if (published) break
    await sleep(100)
  }
  return i
}

async function expectAllAcked(c: TestCluster, i: number, acked: number[]): Promise<void> {
  const url = c.members[i]!.clientUrl
  const r = await post(url, '/v3/kv/range', { key: b64('w/'), range_end: b64('w0'), serializable: true })
  const have = new Set(((r.body as { kvs?: Array<{ key: string }> }).kvs ?? []).map((kv) => unb64(kv.key)))
  const missing = acked.filter((n) => !have.has(`w/${n}`))
  expect(missing, `member ${i} misses acknowledged writes`).toEqual([])
}

describe('cluster lifecycle', () => {
  it('grows 1 → 3 under writes, then removes the leader, losing nothing acknowledged', async () => {
    cluster = await TestCluster.start({ size: 1, snapshotCount: 100 })
    const w = writer(cluster)
    await sleep(500)
    const second = await addAndStart(cluster, cluster.members[0]!.clientUrl)
    await sleep(300)
    const third = await addAndStart(cluster, cluster.members[0]!.clientUrl)
    await sleep(500)
    expect((await members(cluster.members[0]!.clientUrl)).length).toBe(3)

    const leader = await cluster.waitForLeader()
    const leaderId = (await cluster.status(leader))!.memberId
    const other = [0, second, third].find((i) => i !== leader)!
    const r = await post(cluster.members[other]!.clientUrl, '/v3/cluster/member/remove', { ID: leaderId }, 15_000)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(await cluster.waitExit(leader)).toBe(0) // a removed member exits by itself
    await sleep(500)
    await w.stop()
    expect(w.acked.length).toBeGreaterThan(20)
    const remaining = [0, second, third].filter((i) => i !== leader)
    await cluster.waitForLeader(10_000, leader)
    await sleep(500)
    for (const i of remaining) await expectAllAcked(cluster, i, w.acked)
    expect((await members(cluster.members[remaining[0]!]!.clientUrl)).map((m) => m.ID)).not.toContain(leaderId)

    // Restarted with its old data, the removed member refuses to rejoin.
    cluster.startMember(leader)
    expect(await cluster.waitExit(leader)).toBe(1)
    expect(cluster.members[leader]!.stderr).toMatch(/was removed from the cluster/)
  }, 90_000)

  it('grows 3 → 5 and shrinks 5 → 3 under writes, and replaces a killed member, losing nothing acknowledged', async () => {
    cluster = await TestCluster.start({ size: 3, snapshotCount: 100 })
    // etcd's guard rail: a voter is added only when the members running now still make a quorum.
    for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
    const w = writer(cluster)
    const via = () => cluster!.members[0]!.clientUrl
    const fourth = await addAndStart(cluster, via())
    const fifth = await addAndStart(cluster, via())
    expect((await members(via())).length).toBe(5)
    // Shrink: remove two members that are not member 0.
    for (const i of [fourth, 1]) {
      const id = (await cluster.status(i))!.memberId
      const r = await post(via(), '/v3/cluster/member/remove', { ID: id }, 15_000)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      expect(await cluster.waitExit(i)).toBe(0)
    }
    expect((await members(via())).length).toBe(3)
    // Replace a killed member: remove it, add a fresh one, which catches up by snapshot.
    await cluster.kill(fifth)
    const deadId = (await members(via())).find((m) => m.peerURLs?.includes(cluster!.members[fifth]!.peerUrl))!.ID
    const removed = await post(via(), '/v3/cluster/member/remove', { ID: deadId }, 15_000)
    expect(removed.status, JSON.stringify(removed.body)).toBe(200)
    const fresh = await addAndStart(cluster, via())
    await sleep(1000)
    await w.stop()
    expect(w.acked.length).toBeGreaterThan(20)
    await sleep(1000)
    for (const i of [0, 2, fresh]) await expectAllAcked(cluster, i, w.acked)
  }, 150_000)

  it('adds a learner, refuses to promote… then promotes it once caught up; refuses bad requests', async () => {
    cluster = await TestCluster.start({ size: 3 })
    const url = cluster.members[0]!.clientUrl
    const bad = await post(url, '/v3/cluster/member/add', { peerURLs: ['not a url'] })
    expect(bad.status).toBe(400)
    expect((bad.body as { message: string }).message).toMatch(/member URLs are invalid/)
    const dup = await post(url, '/v3/cluster/member/add', { peerURLs: [cluster.members[1]!.peerUrl] })
    expect((dup.body as { message: string }).message).toMatch(/Peer URLs already exists/)
    const missing = await post(url, '/v3/cluster/member/remove', { ID: '12345' })
    expect(missing.status).toBe(404)

    const learner = await addAndStart(cluster, url, true)
    const list = await members(url)
    const entry = list.find((m) => m.peerURLs?.includes(cluster!.members[learner]!.peerUrl))!
    expect(entry.isLearner).toBe(true)
    await sleep(1000)
    const promoted = await post(url, '/v3/cluster/member/promote', { ID: entry.ID }, 15_000)
    expect(promoted.status, JSON.stringify(promoted.body)).toBe(200)
    expect((await members(url)).find((m) => m.ID === entry.ID)!.isLearner).toBeUndefined()
    const again = await post(url, '/v3/cluster/member/promote', { ID: entry.ID })
    expect((again.body as { message: string }).message).toMatch(/can only promote a learner/)
  })

  it('a member started with the settings `cairn member add` prints joins the cluster', async () => {
    cluster = await TestCluster.start({ size: 3 })
    for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
    const i = await cluster.newJoiner()
    const m = cluster.members[i]!
    const out = execFileSync(process.execPath, ['bin/cairn.js', 'member', 'add', m.name, `--peer-urls=${m.peerUrl}`, '--endpoints', cluster.members[0]!.clientUrl], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(out).toMatch(/^Member +[0-9a-f]+ added to cluster +[0-9a-f]+/)
    m.env = Object.fromEntries([...out.matchAll(/^(CAIRN_[A-Z_]+)="(.*)"$/gm)].map((x) => [x[1]!, x[2]!]))
    expect(Object.keys(m.env).sort()).toEqual(['CAIRN_INITIAL_ADVERTISE_PEER_URLS', 'CAIRN_INITIAL_CLUSTER', 'CAIRN_INITIAL_CLUSTER_STATE', 'CAIRN_NAME'])
    cluster.startMember(i)
    await cluster.waitHealthy(i, 30_000)
    // The new member publishes its name and client URLs through the log once it runs.
    let names: Array<string | undefined> = []
    for (let tries = 0; tries < 100; tries++) {
      names = (await members(cluster.members[0]!.clientUrl)).map((x) => x.name).sort()
      if (names.includes('m4')) break
      await sleep(100)
    }
    expect(names).toEqual(['m1', 'm2', 'm3', 'm4'])
  }, 90_000)

  it('a member that was down while the whole membership turned over catches up from a leader it never heard of', async () => {
    cluster = await TestCluster.start({ size: 3 })
    for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
    // While member 2 is down, a member joins, both other original members leave, and leadership
    // moves to the newcomer: on its return, member 2's registry does not list its leader.
    const fourth = await addAndStart(cluster, cluster.members[0]!.clientUrl)
    await cluster.kill(2)
    await cluster.waitForLeader(15_000, 2)
    const fifth = await addAndStart(cluster, cluster.members[fourth]!.clientUrl)
    for (const i of [0, 1]) {
      const id = (await cluster.status(i))!.memberId
      const r = await post(cluster.members[fourth]!.clientUrl, '/v3/cluster/member/remove', { ID: id }, 15_000)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      expect(await cluster.waitExit(i, 20_000)).toBe(0)
    }
    const fifthId = (await cluster.status(fifth))!.memberId
    const moved = await post(cluster.members[fifth]!.clientUrl, '/v3/maintenance/transfer-leadership', { targetID: fifthId }, 15_000)
    expect(moved.status, JSON.stringify(moved.body)).toBe(200)
    const put = await post(cluster.members[fifth]!.clientUrl, '/v3/kv/put', { key: b64('after'), value: b64('turnover') }, 15_000)
    expect(put.status, JSON.stringify(put.body)).toBe(200)

    cluster.startMember(2)
    let value = ''
    for (let tries = 0; tries < 150 && value !== 'turnover'; tries++) {
      await sleep(100)
      const r = await post(cluster.members[2]!.clientUrl, '/v3/kv/range', { key: b64('after'), serializable: true }, 2000).catch(() => undefined)
      value = unb64((r?.body as { kvs?: Array<{ value: string }> } | undefined)?.kvs?.[0]?.value)
    }
    expect(value, `member 2 did not catch up: ${cluster.members[2]!.stderr.slice(-2000)}`).toBe('turnover')
    const ids = async (i: number) => (await members(cluster!.members[i]!.clientUrl)).map((m) => m.ID).sort()
    expect(await ids(2)).toEqual(await ids(fifth))
    expect(await ids(2)).toHaveLength(3)
  }, 120_000)

  it('refuses to join with an empty data dir in the place of a member that has started before', async () => {
    cluster = await TestCluster.start({ size: 3 })
    for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
    await cluster.kill(2)
    const m = cluster.members[2]!
    m.dataDir = `${m.dataDir}-empty`
    m.join = { initialCluster: cluster.initialClusterFlag }
    cluster.startMember(2)
    expect(await cluster.waitExit(2, 15_000)).toBe(1)
    expect(m.stderr).toMatch(/has already been bootstrapped/)
  })

  it('moves leadership to a chosen member', async () => {
    cluster = await TestCluster.start({ size: 3 })
    for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
    const leader = await cluster.waitForLeader()
    const target = (leader + 1) % 3
    const targetId = (await cluster.status(target))!.memberId
    const r = await post(cluster.members[target]!.clientUrl, '/v3/maintenance/transfer-leadership', { targetID: targetId }, 15_000)
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(await cluster.waitForLeader()).toBe(target)
  })
})
