// Transport rules against scripted fake members (node:http): failover, retry of what was not applied,
// OutcomeUnknownError for a write whose answer was lost, deadlines, AbortSignal, 404.

import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CanceledError,
  Client,
  CompactedError,
  DeadlineExceededError,
  OutcomeUnknownError,
  UnimplementedError,
} from '../../core/client/index.ts'
import { CairnError } from '../../core/errors.ts'
import { freePort } from '../cluster/harness.ts'

type Script = (req: IncomingMessage, res: ServerResponse, body: string) => void

const servers: Server[] = []

async function fake(script: Script): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = []
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (d: Buffer) => (body += d.toString()))
    req.on('end', () => {
      hits.push(`${req.url ?? ''} ${body}`)
      script(req, res, body)
    })
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits }
}

const ok = (res: ServerResponse, body: unknown) => {
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}
const fail = (res: ServerResponse, status: number, message: string, code: number) => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ error: message, code, message }))
}
const header = { cluster_id: '1', member_id: '2', revision: '7', raft_term: '3' }

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections()
    await new Promise((r) => s.close(r))
  }
})

describe('Transport', () => {
  it('fails over from a refused endpoint to the next one, for writes too', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`
    const live = await fake((_req, res) => ok(res, { header }))
    const c = new Client({ endpoints: [dead, live.url] })
    const r = await c.put('k', 'v')
    expect(r.header.revision).toBe(7)
    expect(c.transport.activeEndpoint).toBe(live.url)
    expect(live.hits).toHaveLength(1)
  })

  it('retries a write refused with "no leader" (not applied) and succeeds', async () => {
    let n = 0
    const m = await fake((_req, res) => (n++ < 2 ? fail(res, 503, 'etcdserver: no leader', 14) : ok(res, { header })))
    const c = new Client({ endpoints: [m.url], backoffBaseMs: 5 })
    await c.put('k', 'v')
    expect(m.hits).toHaveLength(3)
  })

  it('does not repeat a write whose connection broke after sending: OutcomeUnknownError', async () => {
    const a = await fake((req) => req.socket.destroy())
    const b = await fake((_req, res) => ok(res, { header }))
    const c = new Client({ endpoints: [a.url, b.url] })
    const err = await c.put('k', 'v').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutcomeUnknownError)
    expect(b.hits).toHaveLength(0)
    // A read is safe to repeat: it moves on to the next endpoint.
    const c2 = new Client({ endpoints: [a.url, b.url] })
    await c2.get('k')
    expect(b.hits).toHaveLength(1)
  })

  it('does not repeat a write answered "request timed out" (it may be in the log)', async () => {
    const a = await fake((_req, res) => fail(res, 503, 'etcdserver: request timed out', 14))
    const c = new Client({ endpoints: [a.url] })
    const err = await c.delete('k').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(OutcomeUnknownError)
    expect((err as OutcomeUnknownError).cause).toBeInstanceOf(CairnError)
    expect(a.hits).toHaveLength(1)
    // A read-only txn may be repeated; a writing one may not.
    const ro = await c.txn().then().commit({ timeoutMs: 300 }).catch((e: unknown) => e)
    expect(ro).toBeInstanceOf(DeadlineExceededError)
    expect(a.hits.length).toBeGreaterThan(2)
  })

  it('reports a deadline as "context deadline exceeded"; a write in flight as outcome unknown', async () => {
    const hang = await fake(() => undefined)
    const c = new Client({ endpoints: [hang.url] })
    const read = await c.get('k', { timeoutMs: 200 }).catch((e: unknown) => e)
    expect(read).toBeInstanceOf(DeadlineExceededError)
    expect((read as Error).message).toBe('context deadline exceeded')
    const write = await c.put('k', 'v', { timeoutMs: 200 }).catch((e: unknown) => e)
    expect(write).toBeInstanceOf(OutcomeUnknownError)
    expect((write as OutcomeUnknownError).cause).toBeInstanceOf(DeadlineExceededError)
  })

  it('stops at once when the AbortSignal fires', async () => {
    const hang = await fake(() => undefined)
    const c = new Client({ endpoints: [hang.url] })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const started = Date.now()
    const err = await c.get('k', { signal: ac.signal, timeoutMs: 5000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CanceledError)
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('gives UnimplementedError for a path the member answers 404, and typed server errors', async () => {
    const m = await fake((req, res) => {
      if (req.url === '/v3/kv/range') fail(res, 400, 'etcdserver: mvcc: required revision has been compacted', 11)
      else fail(res, 404, 'Not Found', 5)
    })
    const c = new Client({ endpoints: [m.url] })
    expect(await c.cluster.memberAdd(['http://127.0.0.1:1']).catch((e: unknown) => e)).toBeInstanceOf(UnimplementedError)
    const err = await c.get('k', { revision: 2 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CompactedError)
  })

  it('sends keys and values as base64 and decodes them back to bytes', async () => {
    const m = await fake((_req, res, body) => {
      const b = JSON.parse(body) as { key: string; range_end?: string }
      ok(res, { header, kvs: [{ key: b.key, value: b.range_end, create_revision: '2', mod_revision: '3', version: '1' }], count: '1' })
    })
    const c = new Client({ endpoints: [m.url] })
    const r = await c.get(new Uint8Array([0x61, 0xff]), { prefix: true })
    expect(m.hits[0]).toContain('"key":"Yf8="')
    expect([...r.kvs[0]!.key]).toEqual([0x61, 0xff])
    expect([...r.kvs[0]!.value]).toEqual([0x62])
    expect(r.kvs[0]!.modRevision).toBe(3)
  })
})
