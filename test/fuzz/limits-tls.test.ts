// The client limits on an https listener: a connection over --max-client-connections is refused in TLS,
// after its handshake, with a 503 the client can read; a sender that stalls gets 408 as over http.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import pino from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseServeOptions } from '../../core/server/options.ts'
import { startMember } from '../../core/server/start.ts'
import type { RunningMember } from '../../core/server/start.ts'
import { freePort } from '../cluster/harness.ts'
import { makeTestPki } from '../security/certs.ts'
import type { TestPki } from '../security/certs.ts'

let pki: TestPki
let running: RunningMember
let dir = ''
let port = 0
let ca: Buffer

beforeAll(async () => {
  pki = makeTestPki()
  ca = readFileSync(pki.ca)
  dir = mkdtempSync(join(tmpdir(), 'cairn-limits-tls-'))
  port = await freePort()
  const opts = parseServeOptions({
    name: 'tls',
    dataDir: join(dir, 'data'),
    listenClientUrls: `https://127.0.0.1:${port}`,
    listenPeerUrls: `http://127.0.0.1:${await freePort()}`,
    certFile: pki.member.cert,
    keyFile: pki.member.key,
    maxClientConnections: '5',
    clientRequestTimeout: '600ms',
  })
  running = await startMember(opts, pino({ level: 'silent' }))
}, 30_000)

afterAll(async () => {
  await running?.stop()
  rmSync(dir, { recursive: true, force: true })
  pki?.cleanup()
})

function open(): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => resolve(s))
    s.on('error', reject)
  })
}

function answer(s: TLSSocket, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    let text = ''
    const timer = setTimeout(() => resolve(text), timeoutMs)
    s.on('data', (d: Buffer) => (text += d.toString()))
    s.on('close', () => {
      clearTimeout(timer)
      resolve(text)
    })
  })
}

describe('client limits over https', () => {
  it('answers a stalled sender 408', async () => {
    const s = await open()
    const reply = answer(s)
    s.write('POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{')
    expect(await reply).toMatch(/^HTTP\/1.1 408/)
  })

  it('refuses a connection over the limit with a 503 sent over TLS', async () => {
    const sockets: TLSSocket[] = []
    for (let i = 0; i < 5; i++) sockets.push(await open())
    const extra = await open()
    expect(await answer(extra)).toMatch(/^HTTP\/1.1 503[\s\S]*too many open client connections \(at most 5\)/)
    for (const s of sockets) s.destroy()
  })
})
