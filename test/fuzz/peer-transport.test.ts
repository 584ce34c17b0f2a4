// The peer listener's Raft message stream, end to end over a WebSocket, as a member (or anyone who can
// reach the peer port and knows the cluster's ID, which /members publishes) would send it: random and
// mutated frames never get past validation, and only well-formed messages from the connected peer to
// this member reach the member. A 'snap' message is refused here: snapshots travel on their own stream
// with their data, and one accepted without data used to stop the member's Raft loop.

import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { message } from '../../core/raft/types.ts'
import type { Message } from '../../core/raft/types.ts'
import { encodeFrame, fromMessage } from '../../core/server/peer-codec.ts'
import { encodeMessages, RAFT_WIRE_VERSION } from '../../core/server/raft-wire.ts'
import { PEER_PATH } from '../../core/server/peer-link.ts'
import { Transport } from '../../core/server/transport.ts'

const seed = (n: number) => Number(process.env.FUZZ_SEED ?? n)
const received: Message[] = []
let server: Server
let transport: Transport
let url = ''

beforeAll(async () => {
  transport = new Transport({
    selfId: 1,
    clusterId: 'c1a5',
    logger: pino({ level: 'silent' }),
    onMessage: (m) => received.push(m),
    onUnreachable: () => undefined,
    onSnapshotSent: () => undefined,
  })
  transport.addPeer(2, ['http://127.0.0.1:9'])
  server = createServer((_req, res) => res.writeHead(404).end())
  server.on('upgrade', (req, socket, head) => {
    if (!transport.handleUpgrade(req, socket, head)) socket.destroy()
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}${PEER_PATH}`
})

afterAll(async () => {
  transport.close()
  await new Promise((r) => server.close(r))
})

async function connect(): Promise<WebSocket> {
  const ws = new WebSocket(url, { headers: { 'x-cairn-from': '2', 'x-cairn-cluster-id': 'c1a5', 'x-cairn-to': '1' } })
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  return ws
}

const heartbeat = message({ type: 'heartbeat', from: 2, to: 1, term: 1 })
const snap = message({
  type: 'snap',
  from: 2,
  to: 1,
  term: 1,
  snapshot: { metadata: { index: 50, term: 1, confState: { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array() },
})

/** Sends frames, then a heartbeat, and waits until the heartbeat arrived (frames are handled in order). */
async function deliver(ws: WebSocket, frames: Uint8Array[]): Promise<Message[]> {
  received.length = 0
  for (const f of frames) ws.send(f)
  ws.send(encodeMessages([heartbeat]))
  const deadline = Date.now() + 5000
  while (!received.some((m) => m.type === 'heartbeat' && m.term === 1 && m.commit === 0)) {
    // The link must still carry a good frame after the bad ones: otherwise nothing was tested.
    if (Date.now() > deadline) throw new Error('the heartbeat sent after the frames never arrived')
    await new Promise((r) => setTimeout(r, 2))
  }
  return received.slice(0, -1)
}

describe('the peer Raft stream under hostile frames', () => {
  it('refuses a snap message in any form (regression: it stopped the member)', async () => {
    const ws = await connect()
    // As MessagePack (the frame format before the binary layout), and as the binary layout with a
    // type code that does not exist (snapshots have none: they come only on the snapshot stream).
    const forged = Uint8Array.from([RAFT_WIRE_VERSION, 1, 200, 0, 1, 2, 1, 0, 0, 0, 0, 0])
    expect(await deliver(ws, [encodeFrame([fromMessage(snap)]), forged])).toEqual([])
    ws.close()
  })

  it('passes on only well-formed messages from the peer to us, whatever the frames', async () => {
    const ws = await connect()
    const valid = encodeMessages([message({ type: 'app', from: 2, to: 1, term: 1, index: 3, logTerm: 1, commit: 2, entries: [{ term: 1, index: 4, type: 'normal', data: new Uint8Array([1, 2]) }] })])
    let delivered = 0
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }).map((edits) => {
        const out = Uint8Array.from(valid)
        for (const e of edits) out[e.at % out.length] = e.value
        return out
      }),
      fc.constantFrom(
        valid,
        encodeMessages([{ ...heartbeat, from: 3 }]),
        encodeMessages([{ ...heartbeat, to: 7 }]),
        encodeFrame([fromMessage(heartbeat)]),
        encodeFrame({}),
        encodeFrame(null),
      ),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 10 }), async (frames) => {
        for (const m of await deliver(ws, frames)) {
          delivered++
          expect(m.from).toBe(2)
          expect(m.to).toBe(1)
          expect(m.type).not.toBe('snap')
        }
      }),
      { numRuns: 200, seed: seed(16) },
    )
    expect(delivered).toBeGreaterThan(0)
    expect(ws.readyState).toBe(WebSocket.OPEN)
    ws.close()
  })
})
