// Raw v3 JSON API calls for the workloads (fetch, as a Jepsen client would use the wire protocol), each
// classified the way a history needs it:
//
//   ok             a 200 answer
//   fail           the request certainly had no effect: the connection was refused (nothing was sent),
//                  or the server answered an error that it gives only before proposing anything
//   indeterminate  anything else (a timeout, a reset connection, "request timed out", "server stopped"):
//                  the operation may have taken effect, or may still take effect later

export type Outcome<T> = { type: 'ok'; value: T } | { type: 'fail'; error: string } | { type: 'indeterminate'; error: string }

/** Errors that Cairn answers only when nothing was proposed (see core/server/member.ts propose()). */
const DEFINITE_FAILURES = [/etcdserver: no leader/, /etcdserver: too many requests/, /etcdserver: requested lease not found/]

export async function call<T>(baseUrl: string, path: string, body: unknown, timeoutMs: number): Promise<Outcome<T>> {
  let res: Response
  try {
    res = await fetch(baseUrl + path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    })
  } catch (e) {
    const code = errorCode(e)
    if (code === 'ECONNREFUSED') return { type: 'fail', error: code }
    return { type: 'indeterminate', error: code ?? (e as Error).message }
  }
  let text: string
  try {
    text = await res.text()
  } catch (e) {
    return { type: 'indeterminate', error: errorCode(e) ?? (e as Error).message }
  }
  if (res.status === 200) {
    try {
      return { type: 'ok', value: JSON.parse(text) as T }
    } catch {
      return { type: 'indeterminate', error: `unparsable 200 answer: ${text.slice(0, 200)}` }
    }
  }
  const message = `${res.status} ${text.slice(0, 300)}`
  if (DEFINITE_FAILURES.some((re) => re.test(text))) return { type: 'fail', error: message }
  return { type: 'indeterminate', error: message }
}

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e
  for (let depth = 0; depth < 5 && cur && typeof cur === 'object'; depth++) {
    const o = cur as { code?: unknown; name?: unknown; cause?: unknown }
    if (typeof o.code === 'string' && o.code.startsWith('E')) return o.code
    if (o.name === 'TimeoutError' || o.name === 'AbortError') return 'timeout'
    cur = o.cause
  }
  return undefined
}

export const b64 = (s: string): string => Buffer.from(s).toString('base64')
export const unb64 = (s: string | undefined): string => (s === undefined ? '' : Buffer.from(s, 'base64').toString())

export interface KeyValue {
  key: string
  value?: string
  mod_revision?: string
  create_revision?: string
  version?: string
  lease?: string
}

export interface Header {
  revision?: string
  member_id?: string
  raft_term?: string
}

export interface RangeAnswer {
  header: Header
  kvs?: KeyValue[]
  count?: string
}

export interface PutAnswer {
  header: Header
}

export interface TxnAnswer {
  header: Header
  succeeded?: boolean
  responses?: Array<{ response_range?: RangeAnswer }>
}

export const revisionOf = (h: Header | undefined): number => Number(h?.revision ?? 0)

/** A key's exclusive prefix end (etcd's range_end for "every key starting with prefix"). */
export function prefixEnd(prefix: string): string {
  const bytes = Buffer.from(prefix)
  bytes[bytes.length - 1] = bytes[bytes.length - 1]! + 1
  return bytes.toString('base64')
}
