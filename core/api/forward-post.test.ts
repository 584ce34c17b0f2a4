// forwardPoster over a real loopback server: JSON answers come back with their status; an answer that
// is not JSON, too large, or too slow is an error (the route then answers "leader changed").

import { createServer } from 'node:http'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { forwardPoster } from './forward-post.ts'

let server: Server
let base = ''
const seen: Array<{ path: string; body: string; auth: string | undefined }> = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (c: Buffer) => (body += c.toString()))
    req.on('end', () => {
      seen.push({ path: req.url ?? '', body, auth: req.headers.authorization })
      if (req.url === '/ok') res.writeHead(200, { 'content-type': 'application/json' }).end('{"echo":' + body + '}')
      else if (req.url === '/refused') res.writeHead(400).end('{"code":9,"message":"nope"}')
      else if (req.url === '/html') res.writeHead(502).end('<html>bad gateway</html>')
      else if (req.url === '/huge') res.writeHead(200).end(Buffer.alloc(5 * 1024 * 1024, 0x20))
      // '/slow' never answers
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

describe('forwardPoster', () => {
  const post = forwardPoster()

  it('posts the body with the headers and returns the status and the parsed answer', async () => {
    expect(await post(`${base}/ok`, '{"ID":"7"}', { authorization: 'tok' }, 2000)).toEqual({ status: 200, body: { echo: { ID: '7' } } })
    expect(seen.at(-1)).toEqual({ path: '/ok', body: '{"ID":"7"}', auth: 'tok' })
    expect(await post(`${base}/refused`, '{}', {}, 2000)).toEqual({ status: 400, body: { code: 9, message: 'nope' } })
  })

  it('fails on an answer that is not JSON, one that is too large, one that never comes, and no server', async () => {
    await expect(post(`${base}/html`, '{}', {}, 2000)).rejects.toThrow(/status 502 is not JSON/)
    await expect(post(`${base}/huge`, '{}', {}, 2000)).rejects.toThrow(/larger than/)
    await expect(post(`${base}/slow`, '{}', {}, 200)).rejects.toThrow(/no answer within 200 ms/)
    await expect(post('http://127.0.0.1:9/x', '{}', {}, 2000)).rejects.toThrow()
  })
})
