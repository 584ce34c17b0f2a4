// Output as etcdctl 3.4 writes it. `simple` prints raw keys and values, one per line; `json` prints
// Go's encoding/json of etcd's messages (int64 as JSON numbers, bytes as base64, zero values left out
// where the proto says omitempty); `table` draws tablewriter's boxes for the verbs that have them.

import type { DeleteResult, KeyValue, Member, OpResult, PutResult, RangeResult, ResponseHeader, TxnResult } from '../../client/index.ts'
import type { WatchResponse } from '../../client/index.ts'
import type { Context } from './context.ts'
import { out } from './context.ts'

export type Json = Record<string, unknown>

const b64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')

export function headerJson(h: ResponseHeader): Json {
  const o: Json = {}
  if (h.clusterId) o.cluster_id = h.clusterId
  if (h.memberId) o.member_id = h.memberId
  if (h.revision) o.revision = h.revision
  if (h.raftTerm) o.raft_term = h.raftTerm
  return o
}

export function kvJson(kv: KeyValue): Json {
  const o: Json = {}
  if (kv.key.length) o.key = b64(kv.key)
  if (kv.createRevision) o.create_revision = kv.createRevision
  if (kv.modRevision) o.mod_revision = kv.modRevision
  if (kv.version) o.version = kv.version
  if (kv.value.length) o.value = b64(kv.value)
  if (kv.lease) o.lease = kv.lease
  return o
}

export function rangeJson(r: RangeResult): Json {
  const o: Json = { header: headerJson(r.header) }
  if (r.kvs.length) o.kvs = r.kvs.map(kvJson)
  if (r.more) o.more = true
  if (r.count) o.count = r.count
  return o
}

export function putJson(r: PutResult): Json {
  const o: Json = { header: headerJson(r.header) }
  if (r.prevKv) o.prev_kv = kvJson(r.prevKv)
  return o
}

export function deleteJson(r: DeleteResult): Json {
  const o: Json = { header: headerJson(r.header) }
  if (r.deleted) o.deleted = r.deleted
  if (r.prevKvs.length) o.prev_kvs = r.prevKvs.map(kvJson)
  return o
}

function opResultJson(r: OpResult): Json {
  switch (r.kind) {
    case 'range':
      return { Response: { ResponseRange: rangeJson(r.range) } }
    case 'put':
      return { Response: { ResponsePut: putJson(r.put) } }
    case 'delete':
      return { Response: { ResponseDeleteRange: deleteJson(r.delete) } }
    case 'txn':
      return { Response: { ResponseTxn: txnJson(r.txn) } }
  }
}

export function txnJson(r: TxnResult): Json {
  const o: Json = { header: headerJson(r.header) }
  if (r.succeeded) o.succeeded = true
  if (r.responses.length) o.responses = r.responses.map(opResultJson)
  return o
}

export function memberJson(m: Member): Json {
  const o: Json = { ID: m.id }
  if (m.name) o.name = m.name
  if (m.peerUrls.length) o.peerURLs = m.peerUrls
  if (m.clientUrls.length) o.clientURLs = m.clientUrls
  if (m.isLearner) o.isLearner = true
  return o
}

/** clientv3.WatchResponse through encoding/json: exported Go field names, nothing omitted. */
export function watchJson(r: WatchResponse): Json {
  const events = r.events.map((e) => {
    const o: Json = {}
    if (e.type === 'DELETE') o.type = 1
    o.kv = kvJson(e.kv)
    if (e.prevKv) o.prev_kv = kvJson(e.prevKv)
    return o
  })
  return { Header: headerJson(r.header), Events: events.length ? events : null, CompactRevision: 0, Canceled: false, Created: false }
}

export function printJson(v: unknown): void {
  out(JSON.stringify(v) + '\n')
}

// ---- simple ----

function hexEscaped(b: Uint8Array): string {
  let s = ''
  for (const x of b) s += '\\x' + x.toString(16).padStart(2, '0')
  return s
}

/** etcdctl's printKV: the key (unless valueOnly) and the value, each on its own line, raw bytes. */
export function printKv(ctx: Context, kv: KeyValue, valueOnly = false): void {
  const nl = Buffer.from('\n')
  const k = ctx.hex ? Buffer.from(hexEscaped(kv.key)) : Buffer.from(kv.key)
  const v = ctx.hex ? Buffer.from(hexEscaped(kv.value)) : Buffer.from(kv.value)
  out(valueOnly ? Buffer.concat([v, nl]) : Buffer.concat([k, nl, v, nl]))
}

export function printRangeSimple(ctx: Context, r: RangeResult, valueOnly = false): void {
  for (const kv of r.kvs) printKv(ctx, kv, valueOnly)
}

export function printPutSimple(ctx: Context, r: PutResult): void {
  out('OK\n')
  if (r.prevKv) printKv(ctx, r.prevKv)
}

export function printDeleteSimple(ctx: Context, r: DeleteResult): void {
  out(`${r.deleted}\n`)
  for (const kv of r.prevKvs) printKv(ctx, kv)
}

export function printTxnSimple(ctx: Context, r: TxnResult): void {
  out(r.succeeded ? 'SUCCESS\n' : 'FAILURE\n')
  for (const op of r.responses) {
    out('\n')
    if (op.kind === 'range') printRangeSimple(ctx, op.range)
    else if (op.kind === 'put') printPutSimple(ctx, op.put)
    else if (op.kind === 'delete') printDeleteSimple(ctx, op.delete)
    else printTxnSimple(ctx, op.txn)
  }
}

export function printWatchSimple(ctx: Context, r: WatchResponse): void {
  for (const e of r.events) {
    out(`${e.type}\n`)
    if (e.prevKv) printKv(ctx, e.prevKv)
    printKv(ctx, e.kv)
  }
}

/** Lease and member IDs as etcdctl prints them: %016x. */
export function hex16(id: number): string {
  return id.toString(16).padStart(16, '0')
}

/** %16x: hex padded with spaces to 16. */
export function hexSpace16(id: number): string {
  return id.toString(16).padStart(16, ' ')
}

export function memberRows(members: Member[]): string[][] {
  return members.map((m) => [
    m.id.toString(16),
    m.name === '' ? 'unstarted' : 'started',
    m.name,
    m.peerUrls.join(','),
    m.clientUrls.join(','),
    String(m.isLearner),
  ])
}

export const MEMBER_HEADER = ['ID', 'STATUS', 'NAME', 'PEER ADDRS', 'CLIENT ADDRS', 'IS LEARNER']

// ---- Go's %q ----

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u

/** Go's strconv.Quote of bytes (as `%q` prints a []byte or string). */
export function goQuote(b: Uint8Array): string {
  let s = '"'
  let i = 0
  while (i < b.length) {
    const [cp, size] = decodeRune(b, i)
    if (cp === -1) {
      s += '\\x' + b[i]!.toString(16).padStart(2, '0')
      i += 1
      continue
    }
    i += size
    const ch = String.fromCodePoint(cp)
    if (ch === '"' || ch === '\\') s += '\\' + ch
    else if (PRINTABLE.test(ch)) s += ch
    else if (cp === 7) s += '\\a'
    else if (cp === 8) s += '\\b'
    else if (cp === 12) s += '\\f'
    else if (cp === 10) s += '\\n'
    else if (cp === 13) s += '\\r'
    else if (cp === 9) s += '\\t'
    else if (cp === 11) s += '\\v'
    else if (cp < 0x80) s += '\\x' + cp.toString(16).padStart(2, '0')
    else if (cp < 0x10000) s += '\\u' + cp.toString(16).padStart(4, '0')
    else s += '\\U' + cp.toString(16).padStart(8, '0')
  }
  return s + '"'
}

/** One UTF-8 code point at i: [codePoint, byteLength], or [-1, 1] for an invalid sequence. */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c = b[i]!
  if (c < 0x80) return [c, 1]
  const need = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1
  if (need < 0) return [-1, 1]
  let cp = c & (need === 1 ? 0x1f : need === 2 ? 0x0f : 0x07)
  for (let k = 1; k <= need; k++) {
    const x = b[i + k]
    if (x === undefined || (x & 0xc0) !== 0x80) return [-1, 1]
    cp = (cp << 6) | (x & 0x3f)
  }
  const min = need === 1 ? 0x80 : need === 2 ? 0x800 : 0x10000
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [-1, 1]
  return [cp, need + 1]
}

// ---- go-humanize Bytes (SI) ----

export function humanizeBytes(n: number): string {
  if (n < 10) return `${n} B`
  const sizes = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB']
  const e = Math.floor(Math.log(n) / Math.log(1000))
  const val = Math.floor((n / 1000 ** e) * 10 + 0.5) / 10
  return val < 10 ? `${goFixed(val, 1)} ${sizes[e]}` : `${goFixed(val, 0)} ${sizes[e]}`
}

/** Go's %.Nf rounds half to even on the exact binary value; toFixed is close enough except at .5 ties. */
function goFixed(v: number, digits: number): string {
  const scaled = v * 10 ** digits
  const floor = Math.floor(scaled)
  if (Math.abs(scaled - floor - 0.5) < 1e-9) return ((floor % 2 === 0 ? floor : floor + 1) / 10 ** digits).toFixed(digits)
  return v.toFixed(digits)
}

// ---- tablewriter (as etcdctl configures it: right-aligned cells, centered headers, a row line) ----

export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+\n'
  const center = (s: string, w: number) => {
    const extra = w - s.length
    const left = Math.floor(extra / 2)
    return ' '.repeat(left) + s + ' '.repeat(extra - left)
  }
  let s = line
  s += '|' + header.map((h, i) => ` ${center(h, widths[i]!)} `).join('|') + '|\n'
  s += line
  for (const r of rows) s += '|' + widths.map((w, i) => ` ${(r[i] ?? '').padStart(w)} `).join('|') + '|\n'
  s += line
  return s
}
