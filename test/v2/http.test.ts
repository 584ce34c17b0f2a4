// /v2/keys over real HTTP in-process (the keys handler over an in-memory keyspace): long-poll waits
// (headers first, cleanup when the client goes away, streams), HEAD, redirects, methods, bodies,
// percent-encoded paths and the 401 below the compaction.

import { createServer, request } from 'node:http'
import type { IncomingHttpHeaders, Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { serveKeys } from '../../core/api/v2/keys-http.ts'
import type { KeysContext } from '../../core/api/v2/keys-http.ts'
import { sleep } from '../cluster/harness.ts'
import { memoryStore } from './memory-backend.ts'
import type { MemoryV2Backend } from './memory-backend.ts'

let server: Server
let base: string
let ctx: KeysContext
let backend: MemoryV2Backend

beforeEach(async () => {
  const m = await memoryStore()
  backend = m.backend
  ctx = {
    store: m.store,
    clusterIdHex: () => 'c1a5',
    raftIndex: () => 42,
    raftTerm: () => 3,
    maxRequestBytes: 1024,
    logError: (e) => {
      throw e
    },
  }
  server = createServer((req, res) => {
    const url = req.url ?? '/'
    const q = url.indexOf('?')
    void serveKeys(req, res, q === -1 ? url : url.slice(0, q), q === -1 ? '' : url.slice(q + 1), ctx)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterEach(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

interface Answer {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

function http(method: string, path: string, body?: string, contentType = 'application/x-www-form-urlencoded'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const url = new URL(base)
    const req = request({ host: url.hostname, port: url.port, method, path, headers: body === undefined ? {} : { 'content-type': contentType } }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10)
  if (!check()) throw new Error(`timed out waiting for ${what}`)
}

describe('/v2/keys over HTTP', () => {
  it('answers with etcd headers and a newline-terminated JSON body', async () => {
    const r = await http('PUT', '/v2/keys/a', 'value=1')
    expect(r.status).toBe(201)
    expect(r.headers).toMatchObject({
      'content-type': 'application/json',
      'x-etcd-cluster-id': 'c1a5',
      'x-etcd-index': '2',
      'x-raft-index': '42',
      'x-raft-term': '3',
      'access-control-allow-origin': '*',
    })
    expect(r.body).toBe('{"action":"set","node":{"key":"/a","value":"1","modifiedIndex":2,"createdIndex":2}}\n')
    const missing = await http('GET', '/v2/keys/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers['x-etcd-index']).toBe('2')
    expect(missing.headers['x-raft-index']).toBeUndefined()
    expect(missing.body).toBe('{"errorCode":100,"message":"Key not found","cause":"/nope","index":2}\n')
  })

  it('sends a wait its headers at once, the event when it comes, and forgets it when the client leaves', async () => {
    const stats = ctx.store.stats
    const headers = new Promise<IncomingHttpHeaders>((resolve) => {
      const url = new URL(base)
      const req = request({ host: url.hostname, port: url.port, path: '/v2/keys/w?wait=true' }, (res) => {
        resolve(res.headers)
        res.on('data', () => undefined)
      })
      req.end()
      // Leave before any event comes.
      void until(() => stats.watchers === 1, 'the wait').then(() => setTimeout(() => req.destroy(), 50))
    })
    expect((await headers)['x-etcd-index']).toBe('1')
    await until(() => stats.watchers === 0 && backend.hub.watcherCount === 0, 'the watcher to be dropped')
    // A wait that gets its event.
    const waiting = http('GET', '/v2/keys/w?wait=true')
    await until(() => stats.watchers === 1, 'the second wait')
    await http('PUT', '/v2/keys/w', 'value=x')
    const got = await waiting
    expect(got.status).toBe(200)
    expect(got.body).toBe('{"action":"set","node":{"key":"/w","value":"x","modifiedIndex":2,"createdIndex":2}}\n')
    await until(() => backend.hub.watcherCount === 0, 'the hub watcher to end')
  })

  it('streams events with stream=true', async () => {
    const lines: string[] = []
    const url = new URL(base)
    const req = request({ host: url.hostname, port: url.port, path: '/v2/keys/s?wait=true&stream=true&recursive=true' }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (d: string) => lines.push(...d.split('\n').filter((l) => l !== '')))
    })
    req.end()
    await until(() => ctx.store.stats.watchers === 1, 'the stream')
    await http('PUT', '/v2/keys/s/a', 'value=1')
    await http('PUT', '/v2/keys/s/b', 'value=2')
    await until(() => lines.length === 2, 'two events')
    expect(lines.map((l) => (JSON.parse(l) as { node: { key: string } }).node.key)).toEqual(['/s/a', '/s/b'])
    req.destroy()
    await until(() => ctx.store.stats.watchers === 0, 'the stream to end')
  })

  it('answers 401 for a wait below the compaction', async () => {
    await http('PUT', '/v2/keys/c', 'value=1')
    await http('PUT', '/v2/keys/c', 'value=2')
    await backend.compact(3)
    const r = await http('GET', '/v2/keys/c?wait=true&waitIndex=1')
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body)).toEqual({
      errorCode: 401,
      message: 'The event in requested index is outdated and cleared',
      cause: 'the requested history has been cleared [3/1]',
      index: 3,
    })
  })

  it('answers HEAD without a body, redirects unclean paths, refuses other methods', async () => {
    await http('PUT', '/v2/keys/h', 'value=1')
    const head = await http('HEAD', '/v2/keys/h')
    expect(head.status).toBe(200)
    expect(head.body).toBe('')
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0)
    const redirect = await http('GET', '/v2/keys//h/?x=1')
    expect(redirect.status).toBe(301)
    expect(redirect.headers.location).toBe('/v2/keys/h/?x=1')
    const patch = await http('PATCH', '/v2/keys/h')
    expect(patch.status).toBe(405)
    expect(patch.headers.allow).toBe('HEAD,GET,PUT,POST,DELETE')
    expect(patch.body).toBe('Method Not Allowed\n')
  })

  it('reads the form body only for PUT/POST with a form content type, within the size limit', async () => {
    expect(JSON.parse((await http('PUT', '/v2/keys/b?value=q', 'value=body')).body)).toMatchObject({ node: { value: 'body' } })
    expect(JSON.parse((await http('PUT', '/v2/keys/b?value=q', 'value=body', 'text/plain')).body)).toMatchObject({ node: { value: 'q' } })
    const big = await http('PUT', '/v2/keys/b', `value=${'x'.repeat(2000)}`)
    expect(big.status).toBe(400)
    expect(JSON.parse(big.body)).toMatchObject({ errorCode: 210, cause: 'http: request body too large' })
  })

  it('decodes percent-encoded paths and refuses malformed ones', async () => {
    expect(JSON.parse((await http('PUT', '/v2/keys/a%20b/%E2%9C%93', 'value=1')).body)).toMatchObject({ node: { key: '/a b/✓' } })
    expect(JSON.parse((await http('GET', '/v2/keys/a%20b')).body)).toMatchObject({ node: { key: '/a b', dir: true } })
    const bad = await http('GET', '/v2/keys/%zz')
    expect(bad.status).toBe(400)
  })

  it('turns keyspace limits into a 400 v2 error, not a 5xx', async () => {
    const deep = '/v2/keys' + '/d'.repeat(200)
    const r = await http('PUT', deep, 'value=1')
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body)).toMatchObject({ errorCode: 209, message: 'Invalid field' })
  })
})
