// A real `cairn serve` process (one member) against the hostile requests the in-process fuzzers found
// harmful, sent as raw bytes on the client and peer ports: the process must stay up and healthy.

import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { TestCluster } from '../cluster/harness.ts'

let cluster: TestCluster

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 1 })
  await cluster.waitHealthy(0)
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
