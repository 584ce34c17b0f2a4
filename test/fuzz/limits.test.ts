// The client-facing limits of one in-process member: request size (checked while the body streams),
// txn operations, connections, watches per stream, slow senders and silent WebSockets.

import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { startInProcess } from './member.ts'
import type { InProcessMember } from './member.ts'

const b64 = (s: string) => Buffer.from(s).toString('base64')
let m: InProcessMember

beforeAll(async () => {
  m = await startInProcess({
    maxRequestBytes: '4096',
    maxTxnOps: '4',
    maxClientConnections: '40',
    maxWatchesPerConnection: '3',
    clientRequestTimeout: '600ms',
    clientPingInterval: '300ms',
  })
})

afterAll(async () => {
  await m?.stop()
})

async function post(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(m.url + path, { method: 'POST', body: JSON.stringify(body), signal: AbortSignal.timeout(5000) })
  return { status: r.status, body: (await r.json()) as Record<string, unknown> }
}

function rawSocket(): Promise<Socket> {
  const port = Number(new URL(m.url).port)
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => resolve(s))
    s.on('error', reject)
  })
}

function readAll(s: Socket, timeoutMs = 5000): Promise<string> {
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

describe('--max-request-bytes', () => {
  it('refuses a body over the limit with etcd error 400, also when it is chunked without a length', async () => {
    const big = { key: b64('k'), value: b64('x'.repeat(8192)) }
    expect(await post('/v3/kv/put', big)).toMatchObject({ status: 400, body: { error: 'etcdserver: request is too large', code: 3 } })
    // Chunked: the server stops reading as soon as the limit is passed, long before the body ends.
    const s = await rawSocket()
    const answer = readAll(s)
    s.write('POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n')
    const chunk = 'a'.repeat(1024)
    for (let i = 0; i < 8; i++) s.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`)
    expect(await answer).toMatch(/^HTTP\/1.1 400[\s\S]*request is too large/)
    s.destroy()
    expect((await post('/v3/kv/range', { key: b64('k') })).body.count).toBeUndefined()
  })
})

describe('--max-txn-ops', () => {
  it('refuses a txn list longer than the limit', async () => {
    const ops = (n: number) => Array.from({ length: n }, (_, i) => ({ request_put: { key: b64(`t${i}`), value: b64('v') } }))
    expect(await post('/v3/kv/txn', { success: ops(5) })).toMatchObject({
      status: 400,
      body: { error: 'etcdserver: too many operations in txn request' },
    })
    expect((await post('/v3/kv/txn', { success: ops(4) })).status).toBe(200)
  })
})

describe('--client-request-timeout', () => {
  it('answers 408 to a sender that stalls in its body, and the member stays healthy', async () => {
    const s = await rawSocket()
    const answer = readAll(s)
    const started = Date.now()
    s.write('POST /v3/kv/put HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"key":')
    expect(await answer).toMatch(/^HTTP\/1.1 408/)
    expect(Date.now() - started).toBeLessThan(4000)
    expect((await fetch(`${m.url}/health`)).status).toBe(200)
  })

  it('lets a streaming watch outlive the request timeout', async () => {
    const controller = new AbortController()
    const r = await fetch(`${m.url}/v3/watch`, {
      method: 'POST',
      body: JSON.stringify({ create_request: { key: b64('streamed') } }),
      signal: controller.signal,
    })
    const reader = r.body!.getReader()
    await reader.read() // created
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await post('/v3/kv/put', { key: b64('streamed'), value: b64('1') })
    const { value } = await reader.read()
    expect(new TextDecoder().decode(value)).toMatch(/"events"/)
    controller.abort()
  })
})

describe('--max-watches-per-connection', () => {
  it('refuses a watch over the limit as created and canceled, with the reason', async () => {
    const ws = new WebSocket(`${m.url.replace('http', 'ws')}/v3/watch`)
    const frames: Record<string, unknown>[] = []
    ws.on('message', (d) => frames.push((JSON.parse(String(d)) as { result: Record<string, unknown> }).result))
    await new Promise((resolve) => ws.once('open', resolve))
    for (let i = 0; i < 4; i++) ws.send(JSON.stringify({ create_request: { key: b64(`w${i}`) } }))
    const deadline = Date.now() + 5000
    while (frames.length < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    expect(frames.filter((f) => f.canceled)).toHaveLength(1)
    expect(frames.find((f) => f.canceled)).toMatchObject({ created: true, cancel_reason: 'etcdserver: too many requests' })
    ws.close()
  })
})

describe('--client-ping-interval', () => {
  it('closes a WebSocket that does not answer pings, and keeps one that does', async () => {
    const silent = new WebSocket(`${m.url.replace('http', 'ws')}/v3/watch`, { autoPong: false })
    const polite = new WebSocket(`${m.url.replace('http', 'ws')}/v3/watch`)
    await Promise.all([silent, polite].map((ws) => new Promise((resolve) => ws.once('open', resolve))))
    const closed = new Promise<number>((resolve) => silent.once('close', () => resolve(Date.now())))
    const started = Date.now()
    expect((await closed) - started).toBeLessThan(3000)
    expect(polite.readyState).toBe(WebSocket.OPEN)
    polite.close()
  })
})

describe('--max-client-connections', () => {
  it('answers connections over the limit with a 503 that says why, and serves again once they close', async () => {
    const sockets: Socket[] = []
    for (let i = 0; i < 45; i++) sockets.push(await rawSocket())
    const refused = await readAll(sockets[44]!, 3000)
    expect(refused).toMatch(/^HTTP\/1.1 503[\s\S]*too many open client connections \(at most 40\)/)
    for (const s of sockets) s.destroy()
    const deadline = Date.now() + 5000
    for (;;) {
      const ok = await fetch(`${m.url}/health`).then((r) => r.status === 200).catch(() => false)
      if (ok) break
      if (Date.now() > deadline) throw new Error('member did not serve again')
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })
})

describe('quota metrics', () => {
  it('/metrics reports the quota and the size it counts', async () => {
    const text = await (await fetch(`${m.url}/metrics`)).text()
    expect(text).toMatch(/^cairn_server_quota_backend_bytes 2147483648$/m)
    expect(text).toMatch(/^cairn_mvcc_db_total_size_in_use_in_bytes \d+$/m)
  })
})
