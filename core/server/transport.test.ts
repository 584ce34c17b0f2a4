// Who the peer transport lets in, over real sockets: a member of the cluster that our registry does
// not list yet is accepted and answered over a link back to the URLs it announces; a removed member
// and a member of another cluster are refused.

import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { message } from '../raft/types.ts'
import type { Message } from '../raft/types.ts'
import { PEER_PATH } from './peer-link.ts'
import { announcedUrls, Transport } from './transport.ts'

interface Side {
  transport: Transport
  server: Server
  url: string
  received: Message[]
  removed: Set<number>
  /** Peers that answered us 410 Gone. */
  goneFrom: number[]
}

const sides: Side[] = []
afterEach(async () => {
  for (const s of sides.splice(0)) {
    s.transport.close()
    s.server.closeAllConnections()
    await new Promise((r) => s.server.close(r))
  }
})

async function side(id: number, clusterId = 'c1'): Promise<Side> {
  const server = createServer((_req, res) => res.writeHead(404).end())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const received: Message[] = []
  const removed = new Set<number>()
  const goneFrom: number[] = []
  const transport = new Transport({
    selfId: id,
    clusterId,
    logger: pino({ level: 'silent' }),
    onMessage: (m) => received.push(m),
    onUnreachable: () => undefined,
    onSnapshotSent: () => undefined,
    selfPeerUrls: [url],
    isRemoved: (peer) => removed.has(peer),
    onRemovedByPeer: (peer) => goneFrom.push(peer),
  })
  server.on('upgrade', (req, socket, head) => {
    if (!transport.handleUpgrade(req, socket, head)) socket.destroy()
  })
  const s = { transport, server, url, received, removed, goneFrom }
  sides.push(s)
  return s
}

async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** The status and x-cairn-reject of an upgrade attempt on `url`'s peer path. */
function tryConnect(url: string, headers: Record<string, string>): Promise<{ status: number; reason?: string }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}${PEER_PATH}`, { headers })
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close()
      resolve({ status: 101 })
    })
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, reason: String(res.headers['x-cairn-reject']) })
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

describe('Transport: who may connect', () => {
  it('accepts a member its registry does not list yet, and answers it over a link to the announced URLs', async () => {
    const stale = await side(1)
    const leader = await side(2)
    leader.transport.addPeer(1, [stale.url]) // the leader knows member 1; member 1 has never heard of 2
    leader.transport.send([message({ type: 'heartbeat', from: 2, to: 1, term: 3 })])
    await waitFor('the heartbeat at the stale member', () => stale.received.some((m) => m.type === 'heartbeat'))
    stale.transport.send([message({ type: 'heartbeat-resp', from: 1, to: 2, term: 3 })])
    await waitFor('the answer at the leader', () => leader.received.some((m) => m.type === 'heartbeat-resp'))
  })

  it('refuses a removed member, a member of another cluster, and itself', async () => {
    const s = await side(1)
    s.removed.add(7)
    const headers = (from: string, cluster = 'c1') => ({ 'x-cairn-from': from, 'x-cairn-cluster-id': cluster, 'x-cairn-to': '1' })
    expect(await tryConnect(s.url, headers('7'))).toEqual({ status: 410, reason: 'member 7 was removed from this cluster' })
    expect((await tryConnect(s.url, headers('8', 'other'))).reason).toMatch(/cluster ID mismatch/)
    expect((await tryConnect(s.url, headers('1'))).reason).toMatch(/cannot connect to itself/)
    expect(await tryConnect(s.url, headers('8'))).toEqual({ status: 101 })
  })

  it('tells a member removed while connected, once it dials again', async () => {
    const survivor = await side(1)
    const gone = await side(2)
    gone.transport.addPeer(1, [survivor.url])
    gone.transport.send([message({ type: 'heartbeat', from: 2, to: 1, term: 3 })])
    await waitFor('the first heartbeat', () => survivor.received.length === 1)
    survivor.removed.add(2)
    survivor.transport.dropRemoved() // closes its connection; the redial is answered 410
    await waitFor('the removal notice', () => gone.goneFrom.length > 0)
    expect(gone.goneFrom[0]).toBe(1)
    gone.transport.send([message({ type: 'heartbeat', from: 2, to: 1, term: 3 })])
    await new Promise((r) => setTimeout(r, 100))
    expect(survivor.received).toHaveLength(1)
  })

  it('takes only well-formed announced URLs', () => {
    expect(announcedUrls('http://10.0.0.1:2380,https://b:2380')).toEqual(['http://10.0.0.1:2380', 'https://b:2380'])
    for (const bad of [undefined, '', 'file:///etc/passwd', 'http://a:1,not a url', ['http://a:1'], Array(9).fill('http://a:1').join(','), `http://${'a'.repeat(600)}`]) {
      expect(announcedUrls(bad)).toEqual([])
    }
  })
})
