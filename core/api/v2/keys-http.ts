// /v2/keys over HTTP, as etcd's v2http keysHandler serves it: parse and validate, run the operation,
// answer the event (201 for a creation) or the v2 error, with X-Etcd-Index, X-Raft-Index,
// X-Raft-Term and X-Etcd-Cluster-Id. A wait sends its headers at once and the event when it comes.

import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { CairnError } from '../../errors.ts'
import { requestError, V2Code, V2Error } from './errors.ts'
import { FormError, isFormContentType, pathUnescape } from './form.ts'
import { BodyTooLargeError, corsHeaders, readBinaryBody, sendMethodNotAllowed, sendText, sendV2Error } from './http-util.ts'
import { eventJson } from './node-json.ts'
import type { EventJson } from './node-json.ts'
import { canonicalUrlPath } from './path.ts'
import { keysMethods, parseKeyRequest } from './request.ts'
import type { KeyOperation, KeyRequest, KeysMethod } from './request.ts'
import type { V2Result, V2Store, WriteAs } from './store.ts'
import { watchEvents } from './watch.ts'

export const keysPrefix = '/v2/keys'

/** What the keys endpoint needs besides the store: the headers that describe this member. */
export interface KeysContext {
  store: V2Store
  clusterIdHex: () => string
  raftIndex: () => number
  raftTerm: () => number
  maxRequestBytes: number
  logError: (e: unknown) => void
}

/** Serves a keys request; `as` is the user it was checked for (writes are checked again when applied). */
export async function serveKeys(req: IncomingMessage, res: ServerResponse, rawPath: string, query: string, ctx: KeysContext, as?: WriteAs): Promise<void> {
  let decodedPath: string
  try {
    decodedPath = pathUnescape(rawPath)
  } catch {
    return sendText(res, 400, '400 Bad Request')
  }
  // Go's ServeMux redirects a request whose path is not clean before any handler sees it.
  const canonical = canonicalUrlPath(decodedPath)
  if (canonical !== decodedPath) return redirect(req, res, canonical, query)
  const method = req.method ?? 'GET'
  if (!(keysMethods as readonly string[]).includes(method)) return sendMethodNotAllowed(res, keysMethods)
  const clusterHeader = { 'X-Etcd-Cluster-Id': ctx.clusterIdHex() }
  let request: KeyRequest
  try {
    request = parseKeyRequest({
      method: method as KeysMethod,
      pathSuffix: decodedPath.slice(keysPrefix.length),
      query,
      formBody: await readForm(req, method, ctx.maxRequestBytes),
    })
  } catch (e) {
    return sendFailure(res, e, clusterHeader, ctx)
  }
  try {
    if (request.operation.type === 'watch') return await serveWatch(res, request.operation, clusterHeader, ctx)
    const result = await run(request.operation, ctx.store, as)
    sendEvent(res, result, request, clusterHeader, ctx)
  } catch (e) {
    sendFailure(res, e, clusterHeader, ctx)
  }
}

async function readForm(req: IncomingMessage, method: string, maxBytes: number): Promise<string | undefined> {
  if ((method !== 'PUT' && method !== 'POST') || !isFormContentType(req.headers['content-type'])) {
    req.resume()
    return undefined
  }
  try {
    return await readBinaryBody(req, maxBytes)
  } catch (e) {
    if (e instanceof BodyTooLargeError) throw requestError(V2Code.InvalidForm, 'http: request body too large')
    throw requestError(V2Code.InvalidForm, (e as Error).message)
  }
}

function run(op: Exclude<KeyOperation, { type: 'watch' }>, store: V2Store, as: WriteAs | undefined): Promise<V2Result> {
  if (op.type === 'get') return store.get(op)
  return store.write(op, as)
}

function redirect(req: IncomingMessage, res: ServerResponse, path: string, query: string): void {
  const location = path.split('/').map(encodeURIComponent).join('/') + (query === '' ? '' : `?${query}`)
  const withBody = req.method === 'GET' || req.method === 'HEAD'
  const body = withBody ? `<a href="${location.replaceAll('"', '&#34;')}">Moved Permanently</a>.\n\n` : ''
  req.resume()
  res.writeHead(301, {
    ...corsHeaders,
    Location: location,
    ...(withBody ? { 'Content-Type': 'text/html; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(body),
  })
  res.end(body)
}

function raftHeaders(ctx: KeysContext): OutgoingHttpHeaders {
  return { 'X-Raft-Index': String(ctx.raftIndex()), 'X-Raft-Term': String(ctx.raftTerm()) }
}

const valueActions = new Set(['set', 'compareAndSwap', 'create', 'update'])

/** The event as answered: without node and prevNode for a successful write asked with noValueOnSuccess. */
export function answeredEvent(result: V2Result, request: KeyRequest): EventJson {
  return request.noValueOnSuccess && valueActions.has(result.event.action) ? eventJson(result.event.action, undefined, undefined) : result.event
}

function sendEvent(res: ServerResponse, result: V2Result, request: KeyRequest, clusterHeader: OutgoingHttpHeaders, ctx: KeysContext): void {
  const event = answeredEvent(result, request)
  const text = JSON.stringify(event) + '\n'
  res.writeHead(result.created ? 201 : 200, {
    ...corsHeaders,
    ...clusterHeader,
    'Content-Type': 'application/json',
    'X-Etcd-Index': String(result.index),
    ...raftHeaders(ctx),
    'Content-Length': Buffer.byteLength(text),
  })
  res.end(text)
}

const refusedInput = new Set<string>(['InvalidArgument', 'EmptyKey', 'KeyTooLarge', 'ValueTooLarge', 'RequestTooLarge', 'TooManyOps', 'DuplicateKey'])

/** Any failure as a v2 error: etcd's own errors as they are, anything from below as 300. */
export function toV2Error(e: unknown): V2Error | undefined {
  if (e instanceof V2Error) return e
  if (e instanceof FormError) return requestError(V2Code.InvalidForm, e.message)
  if (e instanceof CairnError) {
    const message = e.toEtcdBody().message
    // Input the keyspace refuses (a key or value over its limits): the request's fault, so 400.
    if (refusedInput.has(e.code)) return requestError(V2Code.InvalidField, message)
    return new V2Error(V2Code.RaftInternal, message, 0)
  }
  return undefined
}

function sendFailure(res: ServerResponse, e: unknown, clusterHeader: OutgoingHttpHeaders, ctx: KeysContext): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  let error = toV2Error(e)
  if (error === undefined) {
    ctx.logError(e)
    error = new V2Error(V2Code.RaftInternal, 'cairn: internal error', 0)
  }
  sendV2Error(res, error, clusterHeader)
}

async function serveWatch(
  res: ServerResponse,
  op: Extract<KeyOperation, { type: 'watch' }>,
  clusterHeader: OutgoingHttpHeaders,
  ctx: KeysContext,
): Promise<void> {
  const backend = ctx.store.backend
  const storeIndex = backend.currentRevision()
  const since = op.waitIndex === 0n ? storeIndex + 1 : Number(op.waitIndex > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : op.waitIndex)
  const oldest = backend.compactRevision()
  if (op.waitIndex !== 0n && since < oldest) {
    throw new V2Error(V2Code.EventIndexCleared, `the requested history has been cleared [${oldest}/${op.waitIndex}]`, storeIndex)
  }
  res.writeHead(200, { ...corsHeaders, ...clusterHeader, 'Content-Type': 'application/json', 'X-Etcd-Index': String(storeIndex), ...raftHeaders(ctx) })
  res.flushHeaders()
  const gone = new AbortController()
  res.on('close', () => gone.abort())
  ctx.store.stats.watchers++
  let delivered = 0
  try {
    const end = await watchEvents(
      backend,
      { path: op.path, recursive: op.recursive },
      since,
      (event) => {
        res.write(JSON.stringify(event.json) + '\n')
        delivered++
        return op.stream
      },
      gone.signal,
    )
    // Headers are out, so a watch overtaken by compaction (or a stopping member) can only hang up;
    // the client's retry with the same index then gets error 401 (or another member).
    if (end === 'stopped' && delivered > 0) res.end()
    else res.destroy()
  } finally {
    ctx.store.stats.watchers--
  }
}
