// The client listener of one in-process member under hostile input: every route (taken from the route
// table, so a new route is fuzzed without anyone remembering to) with random and mutated JSON bodies,
// wrong types, huge numbers, bad base64, raw bytes and wrong methods; v2 form parameters; WebSocket
// watch frames. For every request: an answer within the timeout, never a 5xx, and a refused request
// changes nothing (revision, compact revision, alarms). Afterwards the member is healthy and its memory
// bounded. Bounded run counts with fixed seeds (FUZZ_SEED overrides them to explore).

import type { AddressInfo } from 'node:net'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import WebSocket from 'ws'
import { clientPaths } from '../../core/api/client-server.ts'
import { v3Paths } from '../../core/api/v3-routes.ts'
import { startInProcess } from './member.ts'
import { net } from './raw.ts'
import type { InProcessMember } from './member.ts'

vi.setConfig({ testTimeout: 60_000 })

const REQUEST_TIMEOUT_MS = 5_000
const RSS_GROWTH_BYTES_MAX = 400 * 1024 * 1024
const seed = (n: number) => Number(process.env.FUZZ_SEED ?? n)
const b64 = (s: string) => Buffer.from(s).toString('base64')

let m: InProcessMember
let rssBefore = 0

beforeAll(async () => {
  m = await startInProcess({ maxRequestBytes: String(64 * 1024) })
  rssBefore = process.memoryUsage().rss
}, 30_000)

afterAll(async () => {
  await m?.stop()
})

// ---- one request, checked ----

interface State {
  revision: number
  compactRevision: number
  alarms: string
}

function state(): State {
  const mvcc = m.running.member.mvcc
  return { revision: mvcc.currentRevision(), compactRevision: mvcc.compactRevision(), alarms: JSON.stringify(mvcc.alarmList()) }
}

/** Changes since `revision` other than a lease expiring (the only change nobody asked for). */
async function changesSince(revision: number): Promise<number> {
  const read = await m.running.member.mvcc.readHistory(revision + 1)
  return read.revisions.flatMap((r) => r.events).filter((e) => !(e.type === 'DELETE' && (e.prevKv?.lease ?? 0) !== 0)).length
}

async function clearAlarms(): Promise<void> {
  for (const a of m.running.member.mvcc.alarmList()) {
    await m.running.member.propose({ alarm: { action: 'DEACTIVATE', memberId: a.memberId, alarm: a.alarm } })
  }
}

interface Sent {
  method: string
  path: string
  body?: string | Uint8Array | undefined
  contentType?: string | undefined
}

async function send(r: Sent): Promise<{ status: number; text: string }> {
  const where = `${r.method} ${r.path} ${typeof r.body === 'string' ? r.body.slice(0, 300) : r.body ? `<${r.body.length} bytes>` : ''}`
  const before = state()
  let status: number
  let text: string
  try {
    const res = await fetch(m.url + r.path, {
      method: r.method,
      ...(r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD' ? { body: r.body } : {}),
      ...(r.contentType ? { headers: { 'content-type': r.contentType } } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    status = res.status
    // Streams (a snapshot) are read to the end; watches are not in the routes sent with bodies that create one.
    text = await res.text()
  } catch (e) {
    throw new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms (${(e as Error).message}): ${where}`)
  }
  if (status >= 500) throw new Error(`HTTP ${status} ${text.slice(0, 300)} for ${where}`)
  if (status >= 400) {
    const after = state()
    const changed = after.compactRevision !== before.compactRevision || after.alarms !== before.alarms || (await changesSince(before.revision)) > 0
    if (changed) throw new Error(`refused request (HTTP ${status}) changed the store: ${where}`)
  }
  if (r.path === '/v3/maintenance/alarm') await clearAlarms()
  return { status, text }
}

// ---- generators ----

const weird = fc.oneof(
  fc.constantFrom<unknown>(
    null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53, 2 ** 64, '', '0', '-1', '18446744073709551616',
    '99999999999999999999999', 'NaN', 'Infinity', '1e3', '0x10', ' 1', '!!!', 'Zm9v=', 'Zm9', '=', '====',
    'Zm9v\n', 'ä', '\u0000', 'Zm9v-_', 'AAAA', '%%%', [], {}, [[]], { a: {} }, 'DESCEND', 'NOSPACE', 'CORRUPT', 7, 99,
  ),
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.base64String({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
)

const put = (key: string) => ({ request_put: { key: b64(key), value: b64('v'), prev_kv: true } })
const examples: Record<string, unknown> = {
  '/v3/kv/range': { key: b64('fz/'), range_end: b64('fz0'), limit: '10', revision: '0', sort_order: 'DESCEND', sort_target: 'MOD', serializable: true, keys_only: false, count_only: false, min_mod_revision: '1', max_create_revision: '100' },
  '/v3/kv/put': { key: b64('fz/a'), value: b64('1'), lease: '0', prev_kv: true, ignore_value: false, ignore_lease: false },
  '/v3/kv/deleterange': { key: b64('fz/b'), range_end: b64('fz/c'), prev_kv: true },
  '/v3/kv/txn': {
    compare: [{ key: b64('fz/a'), target: 'VALUE', result: 'EQUAL', value: b64('1') }, { key: b64('fz/b'), target: 'CREATE', result: 'LESS', create_revision: '5' }],
    success: [put('fz/t1'), { request_range: { key: b64('fz/a') } }, { request_txn: { success: [{ request_delete_range: { key: b64('fz/x') } }] } }],
    failure: [put('fz/t2')],
  },
  '/v3/kv/compaction': { revision: '1', physical: false },
  '/v3/lease/grant': { TTL: '600', ID: '0' },
  '/v3/lease/revoke': { ID: '12345' },
  '/v3/lease/keepalive': { ID: '12345' },
  '/v3/lease/timetolive': { ID: '12345', keys: true },
  '/v3/maintenance/alarm': { action: 'GET', memberID: '0', alarm: 'NONE' },
  '/v3/maintenance/transfer-leadership': { targetID: '77' },
  // Membership changes are fuzzed only with bodies that cannot name a real change (no valid example):
  // adding a member to this one-member cluster would leave it without a quorum.
}

/** Replaces, removes or adds a value somewhere in a JSON value. */
function mutateAt(value: unknown, path: number[], op: 'set' | 'delete' | 'add', replacement: unknown, name: string): unknown {
  if (typeof value !== 'object' || value === null) return op === 'delete' ? undefined : replacement
  const isArray = Array.isArray(value)
  const entries: [string, unknown][] = isArray ? value.map((v, i) => [String(i), v]) : Object.entries(value)
  const copy: Record<string, unknown> | unknown[] = isArray ? [...value] : { ...value }
  if (path.length === 0 || entries.length === 0 || op === 'add') {
    if (op === 'add' || entries.length === 0) {
      if (isArray) (copy as unknown[]).push(replacement)
      else (copy as Record<string, unknown>)[name] = replacement
      return copy
    }
  }
  const [head = 0, ...rest] = path
  const [key, child] = entries[head % entries.length]!
  if (rest.length === 0 || typeof child !== 'object' || child === null) {
    if (op === 'delete') {
      if (isArray) (copy as unknown[]).splice(Number(key), 1)
      else delete (copy as Record<string, unknown>)[key]
    } else (copy as Record<string, unknown>)[key] = replacement
    return copy
  }
  ;(copy as Record<string, unknown>)[key] = mutateAt(child, rest, op, replacement, name)
  return copy
}

const edit = fc.record({
  path: fc.array(fc.nat(), { maxLength: 5 }),
  op: fc.constantFrom<'set' | 'delete' | 'add'>('set', 'set', 'set', 'delete', 'add'),
  value: weird,
  name: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('key', 'range_end', 'rangeEnd', 'ID', 'TTL', 'value', 'lease', 'revision', 'action', 'alarm', '__proto__', 'constructor')),
})

const v3 = v3Paths()
// The rest of the route table; the streaming watch and /new (which writes a discovery token through
// the v2 API of this member) get their own cases.
const other = clientPaths().filter((p) => !v3.includes(p) && p !== '/v3/watch' && p !== '/new')
const withExample = v3.filter((p) => examples[p] !== undefined)

describe('the client listener under hostile input', () => {
  it('every route (v3 and v2) takes random JSON bodies without a 5xx, a hang or a change from a refusal', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...v3, ...other), fc.constantFrom('POST', 'POST', 'PUT'), fc.jsonValue({ maxDepth: 4 }), async (path, method, body) => {
        await send({ method, path, body: JSON.stringify(body), contentType: 'application/json' })
      }),
      { numRuns: 300, seed: seed(11) },
    )
  })

  it('mutated valid bodies (wrong types, huge numbers, bad base64, missing and extra fields)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...withExample), fc.array(edit, { minLength: 1, maxLength: 3 }), async (path, edits) => {
        let body: unknown = examples[path]
        for (const e of edits) body = mutateAt(body, e.path, e.op, e.value, e.name)
        await send({ method: 'POST', path, body: JSON.stringify(body) ?? '' })
      }),
      { numRuns: 500, seed: seed(12) },
    )
  })

  it('raw bytes, broken JSON and odd content types', async () => {
    const raw = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }),
      fc.constantFrom('{', '{"key":', '[', 'null', '"x"', '1', '{"key":"Zm9v"}}', '\u0000{}', '{"a":1,"a":2}', '{}'.repeat(1000)),
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...clientPaths()), raw, fc.option(fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', '\u00ff')), async (path, body, contentType) => {
        // The streaming watch and the snapshot answer long or large streams; they get their own cases.
        if (path === '/v3/watch' || path === '/new') return
        await send({ method: 'POST', path, body, contentType: contentType ?? undefined })
      }),
      { numRuns: 200, seed: seed(13) },
    )
  })

  it('deep nesting, huge bodies and long lists are refused cleanly', async () => {
    const deepTxn = (depth: number): unknown => (depth === 0 ? {} : { success: [{ request_txn: deepTxn(depth - 1) }] })
    const cases: Sent[] = [
      { method: 'POST', path: '/v3/kv/txn', body: JSON.stringify(deepTxn(200)) },
      { method: 'POST', path: '/v3/kv/range', body: '['.repeat(60_000) },
      { method: 'POST', path: '/v3/kv/range', body: '{"key":'.repeat(9_000) },
      { method: 'POST', path: '/v3/kv/put', body: JSON.stringify({ key: b64('fz/big'), value: 'A'.repeat(80 * 1024) }) },
      { method: 'POST', path: '/v3/kv/txn', body: JSON.stringify({ success: Array.from({ length: 2000 }, (_, i) => put(`fz/${i}`)) }) },
      { method: 'POST', path: '/v3/kv/txn', body: JSON.stringify({ compare: Array.from({ length: 129 }, () => ({ key: b64('a') })) }) },
      { method: 'POST', path: '/v3/watch', body: JSON.stringify({ create_request: 'x' }) },
      { method: 'POST', path: '/v3/watch', body: '{' },
      { method: 'POST', path: '/v3/watch', body: JSON.stringify({ create_request: { key: 'not base64!' } }) },
      { method: 'GET', path: '/new?size=-1' },
      { method: 'GET', path: '/new?size=1e9' },
      { method: 'GET', path: '/v3/kv/range?' + 'a=1&'.repeat(2000) },
    ]
    for (const c of cases) {
      const r = await send(c)
      expect(r.status, `${c.method} ${c.path}`).toBeGreaterThanOrEqual(400)
    }
  })

  it('every route answers every method without a 5xx', async () => {
    for (const path of clientPaths()) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS']) {
        // A streaming POST/PUT watch with a body that creates one stays open by design; '{}' does not create one.
        await send({ method, path, body: '{}' })
      }
    }
  })

  it('v2 keys take random form parameters in the query and the body', async () => {
    const names = ['value', 'ttl', 'dir', 'prevExist', 'prevValue', 'prevIndex', 'recursive', 'sorted', 'quorum', 'refresh', 'noValueOnSuccess', 'waitIndex']
    const param = fc.tuple(
      fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 6 })),
      fc.oneof(fc.constantFrom('true', 'false', '1', '0', '-1', '', '18446744073709551616', '1e3', 'x', '%zz', '%', '+', ';'), fc.string({ maxLength: 10 })),
    )
    // A short TTL that is accepted would expire the key in the middle of a later request and look like a
    // change made by it: accepted TTLs are long.
    const longTtl = ([k, v]: [string, string]): [string, string] => (k === 'ttl' && /^\s*\+?\d+\s*$/.test(v) ? [k, '100000'] : [k, v])
    const encode = (ps: [string, string][], raw: boolean) =>
      ps.map(longTtl).map(([k, v]) => (raw ? `${k}=${v}` : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&')
    const keyPath = fc.array(fc.oneof(fc.constantFrom('fz', 'a', '..', '.', '%2F', '%zz', '_hidden', ''), fc.string({ maxLength: 5 })), { minLength: 1, maxLength: 4 })
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH'),
        keyPath,
        fc.array(param, { maxLength: 4 }),
        fc.array(param, { maxLength: 4 }),
        fc.boolean(),
        async (method, segments, query, form, raw) => {
          const path = `/v2/keys/${segments.map((s) => (raw ? s : encodeURIComponent(s))).join('/')}`
          const q = encode(query, raw)
          await send({ method, path: q ? `${path}?${q}` : path, body: encode(form, raw), contentType: 'application/x-www-form-urlencoded' })
        },
      ),
      { numRuns: 300, seed: seed(14) },
    )
  })

  it('WebSocket watch frames: random bytes, random JSON, mutated requests and oversized frames', async () => {
    const createExample = { create_request: { key: b64('fz/'), range_end: b64('fz0'), start_revision: '1', prev_kv: true, filters: ['NOPUT'], progress_notify: true, watch_id: '3' } }
    const frame = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((b) => ({ binary: true, data: Buffer.from(b) as Buffer | string })),
      fc.string({ maxLength: 300 }).map((s) => ({ binary: false, data: s as Buffer | string })),
      fc.jsonValue({ maxDepth: 4 }).map((v) => ({ binary: false, data: JSON.stringify(v) as Buffer | string })),
      fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => {
        let v: unknown = createExample
        for (const e of edits) v = mutateAt(v, e.path, e.op, e.value, e.name)
        return { binary: false, data: (JSON.stringify(v) ?? '') as Buffer | string }
      }),
      fc.constantFrom('{"cancel_request":{"watch_id":"3"}}', '{"progress_request":{}}', '{"cancel_request":null}', '{"create_request":{"watch_id":"-5"}}').map((s) => ({ binary: false, data: s as Buffer | string })),
    )
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 20 }), async (frames) => {
        const ws = new WebSocket(`${m.url.replace('http', 'ws')}/v3/watch`)
        const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
        await new Promise((resolve, reject) => {
          ws.once('open', resolve)
          ws.once('error', reject)
        })
        let answers = 0
        ws.on('message', (d) => {
          answers++
          expect(() => JSON.parse(String(d))).not.toThrow()
        })
        for (const f of frames) ws.send(f.data, { binary: f.binary })
        // A create request is always answered (created, or created and canceled), after the frames before it.
        ws.send(JSON.stringify({ create_request: { key: b64('probe') } }))
        const deadline = Date.now() + REQUEST_TIMEOUT_MS
        while (answers === 0 && ws.readyState === WebSocket.OPEN && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
        expect(answers > 0 || ws.readyState !== WebSocket.OPEN).toBe(true)
        ws.close()
        const code = await closed
        expect([1000, 1005, 1006, 1008, 1009]).toContain(code)
      }),
      { numRuns: 120, seed: seed(15) },
    )
    // A frame over the 1 MiB bound closes the socket with 1009 (message too big).
    const ws = new WebSocket(`${m.url.replace('http', 'ws')}/v3/watch`)
    await new Promise((resolve) => ws.once('open', resolve))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    ws.send('x'.repeat(2 * 1024 * 1024))
    expect(await closed).toBe(1009)
  })

  it('raw HTTP: random request targets, methods and headers (upgrades included) on the client and peer ports', async () => {
    const target = fc.oneof(
      fc.constantFrom('//', '//[x', '/\\', '/%', '/%zz', '/v3/watch?x#y', 'http://a/v3/kv/range', '*', '/v2/keys/../../..', '/v3/kv/range/', '/cairn/peer', '/cairn/snapshot', '/members'),
      fc.stringMatching(/^\/[\/a-z0-9%?#[\]:@.\\-]{0,30}$/),
    )
    const header = fc.oneof(
      fc.constantFrom('Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'x-cairn-from: 2', 'x-cairn-cluster-id: 1', 'Content-Length: 3', 'Transfer-Encoding: chunked', 'Expect: 100-continue', 'Content-Type: application/json'),
      fc.tuple(fc.stringMatching(/^[a-zA-Z-]{1,12}$/), fc.string({ maxLength: 20 })).map(([k, v]) => `${k}: ${v.replace(/[\r\n]/g, '')}`),
    )
    const peerUrl = `http://127.0.0.1:${(m.running.peerServers[0]!.address() as AddressInfo).port}`
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(m.url, peerUrl),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'BREW', ''),
        target,
        fc.array(header, { maxLength: 6 }),
        fc.string({ maxLength: 40 }),
        async (base, method, path, headers, body) => {
          await net(base, `${method} ${path} HTTP/1.1\r\nHost: x\r\n${headers.map((h) => `${h}\r\n`).join('')}\r\n${body}`)
        },
      ),
      { numRuns: 150, seed: seed(17) },
    )
  })

  it('the member is healthy afterwards, with bounded memory', async () => {
    const r = await fetch(`${m.url}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
    expect(r.status).toBe(200)
    const put = await fetch(`${m.url}/v3/kv/put`, { method: 'POST', body: JSON.stringify({ key: b64('after'), value: b64('ok') }) })
    expect(put.status).toBe(200)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(RSS_GROWTH_BYTES_MAX)
  })
})
