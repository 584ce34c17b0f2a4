// The pure parts of the v2 API: paths, Go-compatible forms, the method+parameters → operation
// mapping with etcd's validation order, error shapes, node JSON, stored records and watch matching.

import { describe, expect, it } from 'vitest'
import { peerUrlsProblem } from '../../core/api/v2/cluster-http.ts'
import { V2Code, V2Error, v2ErrorMessages, v2HttpStatus } from '../../core/api/v2/errors.ts'
import type { V2ErrorCode } from '../../core/api/v2/errors.ts'
import { FormError, parseForm, parseGoBool, parseGoUint64, queryUnescape } from '../../core/api/v2/form.ts'
import { goDuration } from '../../core/api/v2/http-util.ts'
import {
  bytes,
  decodeActionRecord,
  decodeNodeAction,
  decodeNode,
  encodeActionRecord,
  encodeNodeRecord,
  expiredRange,
  expiryKey,
  nodeKey,
  parseExpiryKey,
  pathOfKey,
  subtreeRange,
  text,
} from '../../core/api/v2/layout.ts'
import { deletedNodeJson, dirJson, goTimeJson, nodeJson, remainingTtlSeconds } from '../../core/api/v2/node-json.ts'
import {
  ancestorsOf,
  canonicalUrlPath,
  childPath,
  cleanPath,
  inOrderName,
  isHiddenFrom,
  isWithin,
  parentOf,
} from '../../core/api/v2/path.ts'
import { compareFailure, decideWrite, expirationOf } from '../../core/api/v2/plan.ts'
import type { WriteState } from '../../core/api/v2/plan.ts'
import { parseKeyRequest } from '../../core/api/v2/request.ts'
import type { KeysMethod } from '../../core/api/v2/request.ts'
import { eventOfRevision, watchMatches } from '../../core/api/v2/watch.ts'
import type { Event } from '../../core/mvcc/types.ts'
import type { V2Event } from '../../core/api/v2/watch.ts'

describe('v2 paths', () => {
  it('cleans like Go path.Clean, rooted', () => {
    expect(cleanPath('')).toBe('/')
    expect(cleanPath('/')).toBe('/')
    expect(cleanPath('//a/./b/../c/')).toBe('/a/c')
    expect(cleanPath('/../a')).toBe('/a')
    expect(cleanPath('a/b')).toBe('/a/b')
  })

  it('says where Go ServeMux would redirect (keeping a trailing slash)', () => {
    expect(canonicalUrlPath('/v2/keys/a//b')).toBe('/v2/keys/a/b')
    expect(canonicalUrlPath('/v2/keys/a/')).toBe('/v2/keys/a/')
    expect(canonicalUrlPath('/v2/keys/a/./b/')).toBe('/v2/keys/a/b/')
    expect(canonicalUrlPath('/v2/keys')).toBe('/v2/keys')
  })

  it('walks ancestors, parents and children', () => {
    expect(ancestorsOf('/a/b/c')).toEqual(['/a', '/a/b'])
    expect(ancestorsOf('/a')).toEqual([])
    expect(parentOf('/a')).toBe('/')
    expect(parentOf('/a/b')).toBe('/a')
    expect(childPath('/', 'x')).toBe('/x')
    expect(childPath('/a', 'x')).toBe('/a/x')
    expect(isWithin('/ab', '/a')).toBe(false)
    expect(isWithin('/a/b', '/a')).toBe(true)
    expect(isWithin('/anything', '/')).toBe(true)
    expect(inOrderName(17)).toBe('00000000000000000017')
  })

  it('hides keys below a hidden component from watchers above it only', () => {
    expect(isHiddenFrom('/q', '/q/_h')).toBe(true)
    expect(isHiddenFrom('/', '/q/_h/x')).toBe(true)
    expect(isHiddenFrom('/q/_h', '/q/_h/x')).toBe(false)
    expect(isHiddenFrom('/q/_h', '/q/_h')).toBe(false)
    expect(isHiddenFrom('/q', '/q/a_b')).toBe(false)
    expect(isHiddenFrom('/q/a/b', '/q')).toBe(false) // a deleted ancestor is never hidden
  })
})

describe('v2 forms (Go url.ParseQuery / Request.ParseForm)', () => {
  it('decodes + and %XX, keeps repeated names in order, body before query', () => {
    expect(queryUnescape('a+b%20c%2Bd')).toBe('a b c+d')
    expect(queryUnescape('%E2%9C%93')).toBe('✓')
    const form = parseForm('value=q&x=1', 'value=body&value=second')
    expect(form.get('value')).toEqual(['body', 'second', 'q'])
    expect(parseForm('a&b=', undefined).get('a')).toEqual([''])
  })

  it('reports a semicolon or a bad escape with Go messages', () => {
    expect(() => parseForm('a;b=1', undefined)).toThrow(new FormError('invalid semicolon separator in query'))
    expect(() => parseForm('a=%zz', undefined)).toThrow(new FormError('invalid URL escape "%zz"'))
    expect(() => parseForm('a=%4', undefined)).toThrow(new FormError('invalid URL escape "%4"'))
  })

  it('parses booleans and unsigned integers as Go strconv does', () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True']) expect(parseGoBool(t)).toBe(true)
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False']) expect(parseGoBool(f)).toBe(false)
    for (const bad of ['', 'yes', 'tRuE', ' true']) expect(parseGoBool(bad)).toBeUndefined()
    expect(parseGoUint64('18446744073709551615')).toBe(18446744073709551615n)
    for (const bad of ['18446744073709551616', '-1', '+1', '1.0', '', ' 1']) expect(parseGoUint64(bad)).toBeUndefined()
  })
})

function parse(method: KeysMethod, query = '', form?: string) {
  return parseKeyRequest({ method, pathSuffix: '/k', query, formBody: form })
}

function refused(method: KeysMethod, query: string, form?: string): unknown {
  try {
    parse(method, query, form)
  } catch (e) {
    return (e as V2Error).toBody()
  }
  throw new Error('expected a V2Error')
}

describe('v2 requests: method and parameters → operation', () => {
  it('maps as etcd does', () => {
    expect(parse('GET').operation).toEqual({ type: 'get', path: '/k', recursive: false, sorted: false, quorum: false })
    expect(refused('HEAD', 'wait=true')).toMatchObject({ errorCode: 209 })
    expect(parse('GET', 'wait=true&waitIndex=7&recursive=true').operation).toEqual({ type: 'watch', path: '/k', recursive: true, stream: false, waitIndex: 7n })
    expect(parse('POST', '', 'value=v').operation).toEqual({ type: 'create', path: '/k', dir: false, value: 'v', inOrder: true, refresh: false })
    expect(parse('PUT', '', 'value=v').operation.type).toBe('set')
    expect(parse('PUT', 'prevExist=true').operation.type).toBe('update')
    expect(parse('PUT', 'prevExist=true&prevIndex=3').operation.type).toBe('compareAndSwap')
    expect(parse('PUT', 'prevExist=false&prevValue=x').operation).toMatchObject({ type: 'create', inOrder: false })
    expect(parse('PUT', 'prevValue=x').operation).toMatchObject({ type: 'compareAndSwap', prevValue: 'x', prevIndex: 0n })
    expect(parse('PUT', 'prevIndex=0').operation.type).toBe('set')
    expect(parse('DELETE', 'recursive=true').operation).toEqual({ type: 'delete', path: '/k', dir: true, recursive: true })
    expect(parse('DELETE', 'prevIndex=4').operation.type).toBe('compareAndDelete')
    expect(parse('PUT', 'ttl=5', 'value=v').operation).toMatchObject({ ttlSeconds: 5n, refresh: false })
    expect(parse('PUT', 'ttl=', 'value=v').operation).not.toHaveProperty('ttlSeconds')
    expect(parse('PUT', 'noValueOnSuccess=true').noValueOnSuccess).toBe(true)
    expect(parse('HEAD').head).toBe(true)
  })

  it('refuses bad parameters in etcd order with etcd causes, index 0', () => {
    const cases: [KeysMethod, string, string | undefined, V2ErrorCode, string][] = [
      ['GET', 'a=%zz', undefined, 210, 'invalid URL escape "%zz"'],
      ['PUT', 'prevIndex=x&ttl=y', undefined, 203, 'invalid value for "prevIndex"'],
      ['GET', 'waitIndex=-1', undefined, 203, 'invalid value for "waitIndex"'],
      ['GET', 'recursive=', undefined, 209, 'invalid value for "recursive"'],
      ['GET', 'sorted=2', undefined, 209, 'invalid value for "sorted"'],
      ['GET', 'stream=x', undefined, 209, 'invalid value for "stream"'],
      ['DELETE', 'wait=true', undefined, 209, '"wait" can only be used with GET requests'],
      ['PUT', 'prevValue=', undefined, 201, '"prevValue" cannot be empty'],
      ['PUT', 'noValueOnSuccess=x', undefined, 209, 'invalid value for "noValueOnSuccess"'],
      ['PUT', 'ttl=1.5', undefined, 202, 'invalid value for "ttl"'],
      ['PUT', 'prevExist=maybe', undefined, 209, 'invalid value for prevExist'],
      ['PUT', 'refresh=x', undefined, 209, 'invalid value for refresh'],
      ['PUT', 'refresh=true&ttl=5', 'value=x', 211, 'A value was provided on a refresh'],
      ['PUT', 'refresh=true', undefined, 212, 'No TTL value set'],
    ]
    for (const [method, query, form, code, cause] of cases) {
      expect(refused(method, query, form), `${method} ?${query}`).toEqual({ errorCode: code, message: v2ErrorMessages[code], cause, index: 0 })
    }
  })
})

describe('v2 errors', () => {
  it('have etcd statuses: 404, 412, 403 and 500 where etcd says, 400 otherwise', () => {
    const expected: Record<number, number> = { 100: 404, 101: 412, 102: 403, 104: 400, 105: 412, 107: 400, 108: 403, 209: 400, 300: 500, 301: 500, 401: 400 }
    for (const [code, status] of Object.entries(expected)) expect(v2HttpStatus(Number(code) as V2ErrorCode)).toBe(status)
  })

  it('leave out an empty cause and keep field order', () => {
    expect(JSON.stringify(new V2Error(V2Code.NotFile, '', 3).toBody())).toBe('{"errorCode":102,"message":"Not a file","index":3}')
    expect(JSON.stringify(new V2Error(V2Code.KeyNotFound, '/x', 3).toBody())).toBe('{"errorCode":100,"message":"Key not found","cause":"/x","index":3}')
  })
})

describe('v2 node JSON', () => {
  const file = { path: '/f', dir: false, value: '', createdIndex: 2, modifiedIndex: 3 }

  it('writes fields in etcd order and keeps an empty value', () => {
    expect(JSON.stringify(nodeJson(file, 0))).toBe('{"key":"/f","value":"","modifiedIndex":3,"createdIndex":2}')
    const ttl = nodeJson({ ...file, expirationMs: Date.UTC(2026, 0, 1, 0, 0, 5, 500) }, Date.UTC(2026, 0, 1))
    expect(JSON.stringify(ttl)).toBe('{"key":"/f","value":"","expiration":"2026-01-01T00:00:05.5Z","ttl":6,"modifiedIndex":3,"createdIndex":2}')
    expect(JSON.stringify(dirJson({ ...file, dir: true }, [], 0))).toBe('{"key":"/f","dir":true,"modifiedIndex":3,"createdIndex":2}')
    expect(dirJson(undefined, [], 0)).toEqual({ dir: true })
    expect(JSON.stringify(deletedNodeJson(file, 9))).toBe('{"key":"/f","modifiedIndex":9,"createdIndex":2}')
  })

  it('rounds the remaining ttl as etcd: up while due, toward zero once overdue', () => {
    expect(remainingTtlSeconds(5000, 0)).toBe(5)
    expect(remainingTtlSeconds(4001, 0)).toBe(5)
    expect(remainingTtlSeconds(1, 0)).toBe(1)
    expect(remainingTtlSeconds(0, 0)).toBe(0)
    expect(remainingTtlSeconds(0, 300)).toBe(0)
    expect(remainingTtlSeconds(0, 1300)).toBe(-1)
  })

  it('formats times and durations as Go does', () => {
    expect(goTimeJson(Date.UTC(2026, 10, 28, 16, 47, 45, 960))).toBe('2026-11-28T16:47:45.96Z')
    expect(goTimeJson(Date.UTC(2026, 10, 28, 16, 47, 45))).toBe('2026-11-28T16:47:45Z')
    expect(goDuration(0)).toBe('0s')
    expect(goDuration(1)).toBe('1ms')
    expect(goDuration(1898.5)).toBe('1.8985s')
    expect(goDuration(123_500)).toBe('2m3.5s')
    expect(goDuration(3_723_000)).toBe('1h2m3s')
  })
})

describe('v2 stored records', () => {
  const kv = (key: string, value: string, createRevision = 5, modRevision = 7) => ({ key: bytes(key), value: bytes(value), createRevision, modRevision, version: 1, lease: 0 })

  it('round-trip nodes: kind, createdIndex (or "created here"), expiry and value bytes', () => {
    const stored = encodeNodeRecord({ dir: false, value: 'a:b@c', createdIndex: undefined, expirationMs: 1234 })
    expect(text(stored)).toBe('f=@1234:a:b@c')
    expect(decodeNode('/x', kv('', text(stored)))).toEqual({ path: '/x', dir: false, value: 'a:b@c', createdIndex: 7, modifiedIndex: 7, expirationMs: 1234 })
    expect(decodeNode('/d', kv('', 'd42:'))).toEqual({ path: '/d', dir: true, value: '', createdIndex: 42, modifiedIndex: 7 })
    // Anything else under the prefix (a v3 client wrote it) reads as a plain file.
    expect(decodeNode('/odd', kv('', 'raw bytes'))).toEqual({ path: '/odd', dir: false, value: 'raw bytes', createdIndex: 5, modifiedIndex: 7 })
  })

  it('mark a node record with the write that stored it; read the node alike with or without the mark', () => {
    const record = { dir: false, value: ':!x', createdIndex: 3, expirationMs: 1234 }
    const marked = encodeNodeRecord(record, { action: 'compareAndSwap', timeMs: 1000, refresh: true })
    expect(text(marked)).toBe('f3@1234!wr1000::!x')
    expect(decodeNode('/x', kv('', text(marked)))).toEqual(decodeNode('/x', kv('', text(encodeNodeRecord(record)))))
    expect(decodeNodeAction(marked)).toEqual({ action: 'compareAndSwap', timeMs: 1000, refresh: true })
    expect(decodeNodeAction(encodeNodeRecord({ ...record, dir: true }, { action: 'set', timeMs: 5, refresh: false }))).toEqual({ action: 'set', timeMs: 5, refresh: false })
    // Unmarked records (auto-created directories, stores from before the mark) and foreign values have none.
    for (const none of [encodeNodeRecord(record), bytes('d=:'), bytes('!s5:'), bytes('f=!x5:v'), bytes('f=!s:v')]) expect(decodeNodeAction(none)).toBeUndefined()
  })

  it('keeps node keys, subtrees and the expiry index apart and ordered', () => {
    expect(pathOfKey(nodeKey('/a/b'))).toBe('/a/b')
    expect(pathOfKey(bytes('\u0000v2/a'))).toBeUndefined()
    const below = subtreeRange('/a')
    expect(text(below.key)).toBe('\u0000v2/k/a/')
    expect(text(below.rangeEnd)).toBe('\u0000v2/k/a0')
    expect(text(subtreeRange('/').key)).toBe('\u0000v2/k/')
    expect(parseExpiryKey(expiryKey(1234, '/p/q'))).toEqual({ expirationMs: 1234, path: '/p/q' })
    const due = expiredRange(1234)
    expect(text(expiryKey(1234, '/z')) < text(due.rangeEnd)).toBe(true)
    expect(text(expiryKey(1235, '/')) >= text(due.rangeEnd)).toBe(true)
  })

  it('round-trip action records and reject foreign ones', () => {
    const r = { action: 'expire' as const, path: '/p', timeMs: 99, refresh: false }
    expect(decodeActionRecord(encodeActionRecord(r))).toEqual(r)
    expect(decodeActionRecord(encodeActionRecord({ ...r, action: 'set', refresh: true }))).toEqual({ ...r, action: 'set', refresh: true })
    for (const bad of ['', 'null', '{"a":"get","p":"/x","t":1}', '{"a":"set","p":"x","t":1}', '{"a":"nope","p":"/x","t":1}']) {
      expect(decodeActionRecord(bytes(bad))).toBeUndefined()
    }
  })
})

describe('v2 write plans', () => {
  const dir = (path: string, mod = 3) => ({ path, dir: true, value: '', createdIndex: mod, modifiedIndex: mod })
  const state = (partial: Partial<WriteState>): WriteState => ({ revision: 10, ancestors: [], node: undefined, hasChildren: false, ...partial })

  it('creates every missing ancestor and guards the deepest existing one and the first missing one', () => {
    const d = decideWrite(
      { type: 'set', path: '/a/b/c/d', dir: false, value: 'v', refresh: false },
      state({ ancestors: [{ path: '/a', node: dir('/a', 4) }, { path: '/a/b', node: undefined }] }),
      0,
    )
    if (!('plan' in d)) throw new Error('expected a plan')
    const compares = d.plan.compares.map((c) => [text(c.key), c.modRevision])
    expect(compares).toEqual([
      ['\u0000v2/k/a/b/c/d', 0],
      ['\u0000v2/k/a', 4],
      ['\u0000v2/k/a/b', 0],
    ])
    const puts = d.plan.ops.flatMap((o) => ('requestPut' in o ? [text(o.requestPut.key)] : []))
    // Only the node written carries the action mark; no action record is needed.
    expect(puts).toEqual(['\u0000v2/k/a/b', '\u0000v2/k/a/b/c', '\u0000v2/k/a/b/c/d'])
    const records = d.plan.ops.flatMap((o) => ('requestPut' in o ? [decodeNodeAction(o.requestPut.value!)] : []))
    expect(records).toEqual([undefined, undefined, { action: 'set', timeMs: 0, refresh: false }])
  })

  it('guards an overwrite by the node alone (a removed or replaced ancestor would have taken the node with it)', () => {
    const file = { path: '/a/k', dir: false, value: 'old', createdIndex: 5, modifiedIndex: 6 }
    const d = decideWrite({ type: 'set', path: '/a/k', dir: false, value: 'v', refresh: false }, state({ ancestors: [{ path: '/a', node: dir('/a', 4) }], node: file }), 0)
    if (!('plan' in d)) throw new Error('expected a plan')
    expect(d.plan.compares.map((c) => [text(c.key), c.modRevision])).toEqual([['\u0000v2/k/a/k', 6]])
    expect(d.plan.ops.flatMap((o) => ('requestPut' in o ? [text(o.requestPut.key)] : []))).toEqual(['\u0000v2/k/a/k'])
  })

  it('guards a non-recursive directory delete on the directory being empty', () => {
    const d = decideWrite({ type: 'delete', path: '/e', dir: true, recursive: false }, state({ node: dir('/e') }), 0)
    if (!('plan' in d)) throw new Error('expected a plan')
    expect(d.plan.compares.map((c) => [text(c.key), c.rangeEnd === undefined ? undefined : text(c.rangeEnd)])).toEqual([
      ['\u0000v2/k/e', undefined],
      ['\u0000v2/k/e/', '\u0000v2/k/e0'],
    ])
  })

  it('words compare failures as etcd', () => {
    const node = { path: '/f', dir: false, value: 'cur', createdIndex: 2, modifiedIndex: 9 }
    expect(compareFailure(node, 'cur', 9n)).toBeUndefined()
    expect(compareFailure(node, '', 0n)).toBeUndefined()
    expect(compareFailure(node, 'old', 0n)).toBe('[old != cur]')
    expect(compareFailure(node, '', 3n)).toBe('[3 != 9]')
    expect(compareFailure(node, 'old', 3n)).toBe('[old != cur] [3 != 9]')
  })

  it('turns ttl into an expiry, treating what overflows Go durations as permanent', () => {
    expect(expirationOf({ ttlSeconds: 5n, refresh: false }, 1000)).toBe(6000)
    expect(expirationOf({ ttlSeconds: 0n, refresh: false }, 1000)).toBe(1000)
    expect(expirationOf({ refresh: false }, 1000)).toBeUndefined()
    expect(expirationOf({ ttlSeconds: 9_223_372_037n, refresh: false }, 1000)).toBeUndefined()
  })
})

describe('v2 watch matching', () => {
  const event = (action: V2Event['record']['action'], path: string, prevWasDir = false, refresh = false): V2Event => ({
    index: 5,
    record: { action, path, timeMs: 0, refresh },
    prevWasDir,
    json: { action },
  })

  it('matches the key, descendants when recursive (not through hidden ones), and deleted ancestors', () => {
    expect(watchMatches({ path: '/a', recursive: false }, event('set', '/a'))).toBe(true)
    expect(watchMatches({ path: '/a', recursive: false }, event('set', '/a/b'))).toBe(false)
    expect(watchMatches({ path: '/a', recursive: true }, event('set', '/a/b'))).toBe(true)
    expect(watchMatches({ path: '/a', recursive: true }, event('set', '/ab'))).toBe(false)
    expect(watchMatches({ path: '/a', recursive: true }, event('set', '/a/_h/x'))).toBe(false)
    expect(watchMatches({ path: '/', recursive: true }, event('set', '/x'))).toBe(true)
    expect(watchMatches({ path: '/a/b/c', recursive: false }, event('delete', '/a', true))).toBe(true)
    expect(watchMatches({ path: '/a/b/c', recursive: false }, event('expire', '/a', true))).toBe(true)
    expect(watchMatches({ path: '/a/b/c', recursive: false }, event('update', '/a', true))).toBe(false)
    expect(watchMatches({ path: '/a', recursive: false }, event('set', '/a', false, true))).toBe(false)
  })
})

describe('v2 events from a revision of the store', () => {
  const put = (key: string, value: Uint8Array, rev = 9, prev?: string): Event => ({
    type: 'PUT',
    kv: { key: bytes(key), value, createRevision: rev, modRevision: rev, version: 1, lease: 0 },
    ...(prev === undefined ? {} : { prevKv: { key: bytes(key), value: bytes(prev), createRevision: 2, modRevision: 2, version: 1, lease: 0 } }),
  })
  const file = (value: string, by?: Parameters<typeof encodeNodeRecord>[1]) => encodeNodeRecord({ dir: false, value, createdIndex: undefined, expirationMs: undefined }, by)

  it('reads the event from the marked node, past the directories created on the way', () => {
    const e = eventOfRevision(9, [put('\u0000v2/k/a', bytes('d=:')), put('\u0000v2/k/a/b', file('v', { action: 'create', timeMs: 7, refresh: false }))])
    expect(e?.record).toEqual({ action: 'create', path: '/a/b', timeMs: 7, refresh: false })
    expect(e?.json).toMatchObject({ action: 'create', node: { key: '/a/b', value: 'v', modifiedIndex: 9 } })
  })

  it('reads a delete, and any write of a store from before the mark, from the action record', () => {
    const old = eventOfRevision(9, [put('\u0000v2/a', encodeActionRecord({ action: 'set', path: '/k', timeMs: 7, refresh: false })), put('\u0000v2/k/k', file('new'), 9, 'f=:old')])
    expect(old?.json).toMatchObject({ action: 'set', node: { key: '/k', value: 'new' }, prevNode: { key: '/k', value: 'old' } })
    const deletion: Event = { type: 'DELETE', kv: { key: bytes('\u0000v2/k/k'), value: new Uint8Array(), createRevision: 0, modRevision: 9, version: 0, lease: 0 }, prevKv: put('\u0000v2/k/k', file('v'), 2).kv }
    const gone = eventOfRevision(9, [put('\u0000v2/a', encodeActionRecord({ action: 'delete', path: '/k', timeMs: 7, refresh: false })), deletion])
    expect(gone?.json).toMatchObject({ action: 'delete', node: { key: '/k', modifiedIndex: 9 } })
    // Neither a mark nor an action record: not a v2 event (a v3 write under the prefix).
    expect(eventOfRevision(9, [put('\u0000v2/k/k', file('v'))])).toBeUndefined()
  })
})

describe('v2 member requests', () => {
  it('are checked with the words of Go and etcd', () => {
    expect(peerUrlsProblem({ peerURLs: ['http://127.0.0.1:2380'] })).toBeUndefined()
    expect(peerUrlsProblem({ peerURLs: 'x' })).toBe('json: cannot unmarshal string into Go struct field .peerURLs of type []string')
    expect(peerUrlsProblem({ peerURLs: [1] })).toBe('json: cannot unmarshal number into Go struct field .peerURLs of type string')
    expect(peerUrlsProblem({ peerURLs: ['ftp://x:1'] })).toBe('URL scheme must be http, https, unix, or unixs: ftp://x:1')
  })
})
