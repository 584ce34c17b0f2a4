// A connection that asks for a WebSocket upgrade and then resets at once (as a refused peer does when
// it stops on a 410, or any client that gives up) must never take a member down. Once the HTTP server
// hands a socket over for an upgrade it no longer listens for its errors: an unhandled 'error' event
// (read ECONNRESET) ended the member's process. Real `cairn serve`, real sockets.

import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, TestCluster } from '../cluster/harness.ts'

let cluster: TestCluster
beforeAll(async () => {
  cluster = await TestCluster.start({ size: 1 })
  await cluster.waitHealthy(0)
})
afterAll(async () => {
  await cluster.stop()
})

/** Sends an upgrade request to `url` + `path` and resets the connection right after. */
function upgradeThenReset(url: string, path: string, headers: Record<string, string>): Promise<void> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']
      for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`)
      socket.write(lines.join('\r\n') + '\r\n\r\n', () => {
        socket.resetAndDestroy()
        resolve()
      })
    })
    socket.on('error', () => resolve())
  })
}

describe('upgrade requests reset by the caller', () => {
  it('leave the member serving: refused peers, refused watches, accepted watches', async () => {
    const m = cluster.members[0]!
    for (let round = 0; round < 40; round++) {
      await upgradeThenReset(m.peerUrl, '/cairn/peer', { 'x-cairn-from': '7', 'x-cairn-cluster-id': 'not-this-one' })
      await upgradeThenReset(m.peerUrl, '/cairn/snapshot', { 'x-cairn-from': '7', 'x-cairn-cluster-id': 'not-this-one' })
      await upgradeThenReset(m.clientUrl, '/no-such-path', {})
      await upgradeThenReset(m.clientUrl, '/v3/watch', {})
    }
    await new Promise((r) => setTimeout(r, 300))
    expect(m.proc?.exitCode, m.stderr.slice(-1500)).toBeNull()
    const r = await post(m.clientUrl, '/v3/kv/put', { key: 'YQ==', value: 'Yg==' })
    expect(r.status).toBe(200)
  })
})
