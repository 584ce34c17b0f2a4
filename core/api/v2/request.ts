// From an HTTP request on /v2/keys to one v2 operation, with etcd's validation order and error
// causes (etcdserver/api/v2http parseKeyRequest, then the v2 apply's choice of store call).
//
// Method and parameters map to operations as etcd maps them:
//   GET/HEAD            wait → watch, else get (quorum → linearizable read)
//   POST                create an in-order key under the path
//   PUT  prevExist=true  prevIndex/prevValue given → compareAndSwap, else update
//   PUT  prevExist=false create
//   PUT  prevIndex/prevValue given → compareAndSwap
//   PUT                  set
//   DELETE prevIndex/prevValue given → compareAndDelete, else delete (recursive implies dir)

import { requestError, V2Code } from './errors.ts'
import { FormError, formValue, parseForm, parseGoBool, parseGoUint64 } from './form.ts'
import type { FormValues } from './form.ts'
import { keyPathOf } from './path.ts'

/** How long a node lives: seconds from the request's time; absent = permanent. */
export interface TtlOptions {
  ttlSeconds?: bigint
  refresh: boolean
}

export type KeyOperation =
  | { type: 'get'; path: string; recursive: boolean; sorted: boolean; quorum: boolean }
  | { type: 'watch'; path: string; recursive: boolean; stream: boolean; waitIndex: bigint }
  | ({ type: 'set'; path: string; dir: boolean; value: string } & TtlOptions)
  | ({ type: 'create'; path: string; dir: boolean; value: string; inOrder: boolean } & TtlOptions)
  | ({ type: 'update'; path: string; value: string } & TtlOptions)
  | ({ type: 'compareAndSwap'; path: string; prevValue: string; prevIndex: bigint; value: string } & TtlOptions)
  | { type: 'delete'; path: string; dir: boolean; recursive: boolean }
  | { type: 'compareAndDelete'; path: string; prevValue: string; prevIndex: bigint }

export type WriteOperation = Exclude<KeyOperation, { type: 'get' } | { type: 'watch' }>

export interface KeyRequest {
  operation: KeyOperation
  /** Answer without node and prevNode after a successful set/create/update/compareAndSwap. */
  noValueOnSuccess: boolean
  /** HEAD: answer headers only. */
  head: boolean
}

export const keysMethods = ['HEAD', 'GET', 'PUT', 'POST', 'DELETE'] as const
export type KeysMethod = (typeof keysMethods)[number]

export interface RawKeyRequest {
  method: KeysMethod
  /** The request path after "/v2/keys", percent-decoded. */
  pathSuffix: string
  /** The raw query string (binary string, without "?"). */
  query: string
  /** The body as a binary string when it is a form Go would parse (PUT/POST, form content type). */
  formBody: string | undefined
}

function flag(form: FormValues, name: string, cause = `invalid value for "${name}"`): boolean {
  const values = form.get(name)
  if (values === undefined) return false
  const parsed = parseGoBool(values[0]!)
  if (parsed === undefined) throw requestError(V2Code.InvalidField, cause)
  return parsed
}

/** A present boolean parameter, or undefined when absent. */
function optionalFlag(form: FormValues, name: string): boolean | undefined {
  return form.has(name) ? flag(form, name, `invalid value for ${name}`) : undefined
}

function index(form: FormValues, name: string): bigint {
  const values = form.get(name)
  if (values === undefined) return 0n
  const parsed = parseGoUint64(values[0]!)
  if (parsed === undefined) throw requestError(V2Code.IndexNaN, `invalid value for "${name}"`)
  return parsed
}

/** Parses and validates; throws V2Error (index 0) as etcd does for a bad request. */
export function parseKeyRequest(raw: RawKeyRequest): KeyRequest {
  let form: FormValues
  try {
    form = parseForm(raw.query, raw.formBody)
  } catch (e) {
    if (e instanceof FormError) throw requestError(V2Code.InvalidForm, e.message)
    throw e
  }
  const path = keyPathOf(raw.pathSuffix)
  const prevIndex = index(form, 'prevIndex')
  const waitIndex = index(form, 'waitIndex')
  const recursive = flag(form, 'recursive')
  const sorted = flag(form, 'sorted')
  const wait = flag(form, 'wait')
  const dir = flag(form, 'dir')
  const quorum = flag(form, 'quorum')
  const stream = flag(form, 'stream')
  if (wait && raw.method !== 'GET') throw requestError(V2Code.InvalidField, '"wait" can only be used with GET requests')
  const prevValue = formValue(form, 'prevValue')
  if (form.has('prevValue') && prevValue === '') throw requestError(V2Code.PrevValueRequired, '"prevValue" cannot be empty')
  const noValueOnSuccess = flag(form, 'noValueOnSuccess')
  let ttlSeconds: bigint | undefined
  const ttlText = formValue(form, 'ttl')
  if (ttlText !== '') {
    ttlSeconds = parseGoUint64(ttlText)
    if (ttlSeconds === undefined) throw requestError(V2Code.TtlNaN, 'invalid value for "ttl"')
  }
  const prevExist = optionalFlag(form, 'prevExist')
  const refresh = optionalFlag(form, 'refresh') === true
  const value = formValue(form, 'value')
  if (refresh) {
    if (value !== '') throw requestError(V2Code.RefreshValue, 'A value was provided on a refresh')
    if (ttlSeconds === undefined) throw requestError(V2Code.RefreshTtlRequired, 'No TTL value set')
  }
  const ttl: TtlOptions = ttlSeconds === undefined ? { refresh } : { ttlSeconds, refresh }
  const operation = chooseOperation(raw.method, { path, value, dir, recursive, sorted, quorum, stream, wait, waitIndex, prevValue, prevIndex, prevExist, ttl })
  return { operation, noValueOnSuccess, head: raw.method === 'HEAD' }
}

interface Params {
  path: string
  value: string
  dir: boolean
  recursive: boolean
  sorted: boolean
  quorum: boolean
  stream: boolean
  wait: boolean
  waitIndex: bigint
  prevValue: string
  prevIndex: bigint
  prevExist: boolean | undefined
  ttl: TtlOptions
}

/** etcd's mapping of method and parameters to a store operation. */
export function chooseOperation(method: KeysMethod, p: Params): KeyOperation {
  const compares = p.prevIndex > 0n || p.prevValue !== ''
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (p.wait) return { type: 'watch', path: p.path, recursive: p.recursive, stream: p.stream, waitIndex: p.waitIndex }
      return { type: 'get', path: p.path, recursive: p.recursive, sorted: p.sorted, quorum: p.quorum }
    case 'POST':
      return { type: 'create', path: p.path, dir: p.dir, value: p.value, inOrder: true, ...p.ttl }
    case 'PUT':
      if (p.prevExist === true) {
        if (!compares) return { type: 'update', path: p.path, value: p.value, ...p.ttl }
        return { type: 'compareAndSwap', path: p.path, prevValue: p.prevValue, prevIndex: p.prevIndex, value: p.value, ...p.ttl }
      }
      if (p.prevExist === false) return { type: 'create', path: p.path, dir: p.dir, value: p.value, inOrder: false, ...p.ttl }
      if (compares) return { type: 'compareAndSwap', path: p.path, prevValue: p.prevValue, prevIndex: p.prevIndex, value: p.value, ...p.ttl }
      return { type: 'set', path: p.path, dir: p.dir, value: p.value, ...p.ttl }
    case 'DELETE':
      if (compares) return { type: 'compareAndDelete', path: p.path, prevValue: p.prevValue, prevIndex: p.prevIndex }
      return { type: 'delete', path: p.path, dir: p.dir || p.recursive, recursive: p.recursive }
  }
}
