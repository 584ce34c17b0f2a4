// Real `cairn serve` processes against the hostile input the fuzzers found harmful, sent as raw bytes on
// the client and peer ports, and as a forged Raft frame on a follower's peer stream: the processes must
// stay up and healthy.

import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { message } from '../../core/raft/types.ts'
import { encodeFrame, fromMessage } from '../../core/server/peer-codec.ts'
import { PEER_PATH } from '../../core/server/peer-link.ts'
import { post, sleep, TestCluster } from '../cluster/harness.ts'

let cluster: TestCluster

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
}, 60_000)

afterAll(async () => {
  await cluster?.stop()
})

function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    let text = ''
    const s = connect(Number(port), hostname, () => s.write(request))
    const timer = setTimeout(() => s.destroy(), 3000)
    s.on('data', (d: Buffer) => (text += d.toString()))
    s.on('error', () => undefined)
    s.on('close', () => {
      clearTimeout(timer)
      resolve(text)
    })
  })
}

const upgrade = (target: string) =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`

describe('a real member under hostile raw requests', () => {
  it('stays up: request targets that are not URLs, bad upgrades, broken framing', async () => {
    const m = cluster.members[0]!
    const client = [
      'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      'POST //[x HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
      upgrade('//'),
      upgrade('/v3/watch').replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 99'),
      'POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n',
      'POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      'BREW /v3/kv/put HTTP/1.1\r\n\r\n',
      '\u0000\u0001\u0002garbage\r\n\r\n',
    ]
    for (const r of client) await raw(m.clientUrl, r)
    for (const r of [upgrade('//'), upgrade('//[x'), 'GET // HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']) await raw(m.peerUrl, r)
    expect(m.proc?.exitCode).toBeNull()
    await cluster.waitHealthy(0, 5000)
  })
})

describe('a real follower under a forged Raft frame', () => {
  it('refuses a forged snap message on the Raft stream (it used to stop the member)', async () => {
    const leader = await cluster.waitForLeader()
    const f = (leader + 1) % 3
    const status = async (i: number) =>
      (await post(cluster.members[i]!.clientUrl, '/v3/maintenance/status', {})).body as { header: { member_id: string }; raftTerm: string }
    const [ls, fs] = [await status(leader), await status(f)]
    const list = (await post(cluster.members[leader]!.clientUrl, '/v3/cluster/member/list', {})).body as { members: { ID: string }[] }
    const [leaderId, followerId, term] = [Number(ls.header.member_id), Number(fs.header.member_id), Number(ls.raftTerm)]
    // The cluster ID is public: the peer listener's /members answers it.
    const clusterId = (await fetch(`${cluster.members[f]!.peerUrl}/members`)).headers.get('x-cairn-cluster-id')!
    const ws = new WebSocket(cluster.members[f]!.peerUrl.replace('http', 'ws') + PEER_PATH, {
      headers: { 'x-cairn-from': leaderId.toString(16), 'x-cairn-cluster-id': clusterId, 'x-cairn-to': followerId.toString(16) },
    })
    await new Promise((resolve, reject) => {
      ws.once('open', resolve)
      ws.once('error', reject)
    })
    const confState = { voters: list.members.map((x) => Number(x.ID)), learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }
    const snap = message({ type: 'snap', from: leaderId, to: followerId, term, snapshot: { metadata: { index: 1_000_000, term, confState }, data: new Uint8Array() } })
    ws.send(encodeFrame([fromMessage(snap)]))
    // The follower logs the frame it refused (the Raft stream has no form for a snapshot: it comes
    // only on the snapshot stream); it used to step it into Raft and stop.
    const deadline = Date.now() + 10_000
    while (!cluster.members[f]!.stderr.includes('dropping malformed peer frame')) {
      if (Date.now() > deadline || cluster.members[f]!.proc?.exitCode !== null) throw new Error(`follower did not refuse the frame:\n${cluster.members[f]!.stderr.slice(-2000)}`)
      await sleep(20)
    }
    ws.close()
    expect(cluster.members[f]!.proc?.exitCode).toBeNull()
    await cluster.waitHealthy(f, 5000)
  })
})
