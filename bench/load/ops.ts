// The operations of the throughput workloads, one closed-loop client each. A client owns one
// keep-alive connection and whatever state its operation needs (a learned mod revision, a lease).
// Outcomes are constant objects on the success path so that the loop allocates nothing per request
// beyond the request string itself.

import type { HttpConnection, HttpResponse } from '../http-client.ts'
import { b64, keyName, randomValueAscii, randomValueB64 } from '../keys.ts'

export type OpName = 'put' | 'put-v2' | 'range' | 'txn' | 'lease' | 'ceiling'
export type OpParams = Record<string, number | string | boolean>

export interface Outcome {
  kind: string
  error?: string
  tag?: string
}

export interface OpClient {
  run(): Promise<Outcome>
}

export interface OpContext {
  index: number
  conn: HttpConnection
  params: OpParams
}

const num = (p: OpParams, k: string, dflt: number): number => (typeof p[k] === 'number' ? (p[k] as number) : dflt)
const pick = (n: number): number => Math.floor(Math.random() * n)

function statusError(kind: string, r: HttpResponse): Outcome {
  const text = r.body.toString('utf8', 0, Math.min(200, r.body.byteLength))
  return { kind, error: `HTTP ${r.status}: ${text}` }
}

const PUT: Outcome = { kind: 'put' }

function putClient(ctx: OpContext): OpClient {
  const keySpace = num(ctx.params, 'keySpace', 100_000)
  const value = randomValueB64(num(ctx.params, 'valueBytes', 256))
  return {
    async run() {
      const key = b64(keyName('k', pick(keySpace)))
      const r = await ctx.conn.request('POST', '/v3/kv/put', `{"key":"${key}","value":"${value}"}`)
      return r.status === 200 ? PUT : statusError('put', r)
    },
  }
}

function putV2Client(ctx: OpContext): OpClient {
  const keySpace = num(ctx.params, 'keySpace', 100_000)
  const body = `value=${randomValueAscii(num(ctx.params, 'valueBytes', 256))}`
  return {
    async run() {
      const r = await ctx.conn.request('PUT', `/v2/keys/bench/${keyName('k', pick(keySpace))}`, body, 'application/x-www-form-urlencoded')
      return r.status === 200 || r.status === 201 ? PUT : statusError('put', r)
    },
  }
}

const RANGE: Outcome = { kind: 'range' }
const KVS = Buffer.from('"kvs"')

function rangeClient(ctx: OpContext): OpClient {
  const hotKeys = num(ctx.params, 'hotKeys', 100)
  const family = typeof ctx.params.family === 'string' ? ctx.params.family : 'h'
  const serializable = ctx.params.serializable === true ? ',"serializable":true' : ''
  // a small hot set is encoded once; a large keyspace (scale) is encoded per request
  const cached = hotKeys <= 10_000 ? Array.from({ length: hotKeys }, (_, i) => b64(keyName(family, i))) : undefined
  const keyAt = (i: number) => cached?.[i] ?? b64(keyName(family, i))
  return {
    async run() {
      const r = await ctx.conn.request('POST', '/v3/kv/range', `{"key":"${keyAt(pick(hotKeys))}"${serializable}}`)
      if (r.status !== 200) return statusError('range', r)
      return r.body.indexOf(KVS) >= 0 ? RANGE : { kind: 'range', error: 'hot key missing from the answer' }
    },
  }
}

const CAS_OK: Outcome = { kind: 'txn', tag: 'cas-succeeded' }
const CAS_FAILED: Outcome = { kind: 'txn', tag: 'cas-failed' }

interface TxnAnswer {
  header?: { revision?: string }
  succeeded?: boolean
  responses?: { response_range?: { kvs?: { mod_revision?: string }[] } }[]
}

/** Compare-and-swap on a few contended keys: put only if the key's mod revision is the one we saw last. */
function txnClient(ctx: OpContext): OpClient {
  const keyCount = num(ctx.params, 'contendedKeys', 8)
  const value = randomValueB64(num(ctx.params, 'valueBytes', 256))
  const keys = Array.from({ length: keyCount }, (_, i) => b64(keyName('c', i)))
  const seen = new Array<string>(keyCount).fill('0')
  return {
    async run() {
      const i = pick(keyCount)
      const key = keys[i]!
      const body =
        `{"compare":[{"key":"${key}","target":"MOD","result":"EQUAL","mod_revision":"${seen[i]!}"}],` +
        `"success":[{"request_put":{"key":"${key}","value":"${value}"}}],"failure":[{"request_range":{"key":"${key}"}}]}`
      const r = await ctx.conn.request('POST', '/v3/kv/txn', body)
      if (r.status !== 200) return statusError('txn', r)
      const a = JSON.parse(r.body.toString('utf8')) as TxnAnswer
      if (a.succeeded) {
        seen[i] = a.header?.revision ?? '0'
        return CAS_OK
      }
      seen[i] = a.responses?.[0]?.response_range?.kvs?.[0]?.mod_revision ?? '0'
      return CAS_FAILED
    },
  }
}

const GRANT: Outcome = { kind: 'grant' }
const KEEPALIVE: Outcome = { kind: 'keepalive' }
const REVOKE: Outcome = { kind: 'revoke' }
const ID_FIELD = /"ID":"(\d+)"/
const TTL_FIELD = /"TTL":"([1-9]\d*)"/

/** Lease churn: grant, keep alive `keepalives` times, revoke; then again. */
function leaseClient(ctx: OpContext): OpClient {
  const keepalives = num(ctx.params, 'keepalives', 3)
  const ttl = num(ctx.params, 'ttlSeconds', 30)
  let id: string | undefined
  let step = 0
  return {
    async run() {
      if (id === undefined) {
        const r = await ctx.conn.request('POST', '/v3/lease/grant', `{"TTL":"${ttl}"}`)
        if (r.status !== 200) return statusError('grant', r)
        const m = ID_FIELD.exec(r.body.toString('latin1'))
        if (!m) return { kind: 'grant', error: 'grant answer without ID' }
        id = m[1]!
        step = 0
        return GRANT
      }
      if (step < keepalives) {
        step++
        const r = await ctx.conn.request('POST', '/v3/lease/keepalive', `{"ID":"${id}"}`)
        if (r.status !== 200) return statusError('keepalive', r)
        return TTL_FIELD.test(r.body.toString('latin1')) ? KEEPALIVE : { kind: 'keepalive', error: 'keepalive answer without a TTL (lease lost)' }
      }
      const lease = id
      id = undefined
      const r = await ctx.conn.request('POST', '/v3/lease/revoke', `{"ID":"${lease}"}`)
      return r.status === 200 ? REVOKE : statusError('revoke', r)
    },
  }
}

const CEILING: Outcome = { kind: 'put' }

/** Put-shaped requests against the trivial server of `--workload ceiling`. */
function ceilingClient(ctx: OpContext): OpClient {
  const value = randomValueB64(num(ctx.params, 'valueBytes', 256))
  return {
    async run() {
      const key = b64(keyName('k', pick(100_000)))
      const r = await ctx.conn.request('POST', '/v3/kv/put', `{"key":"${key}","value":"${value}"}`)
      return r.status === 200 ? CEILING : statusError('put', r)
    },
  }
}

export const OPS: Record<OpName, (ctx: OpContext) => OpClient> = {
  put: putClient,
  'put-v2': putV2Client,
  range: rangeClient,
  txn: txnClient,
  lease: leaseClient,
  ceiling: ceilingClient,
}
