// HTTP calls to a set of endpoints: one endpoint is in use at a time; on a connection error or a
// retryable error the call moves to the next one, and after a full round of failures it waits (bounded
// exponential backoff with full jitter) before the next round, never past the call's deadline.
//
// Safety rule: a call marked unsafe (a write that must not be applied twice) is retried only when the
// client knows it was not applied — the connection was never made, or the member refused it before
// proposing (no leader, not leader, too many requests). When the request may have reached the log and
// no answer came, the call fails with OutcomeUnknownError and is not repeated.

import { connect } from 'node:net'
import { fetchWithTls, tlsConnectOptions, tlsFailure } from '../tls/fetch.ts'
import type { ClientTls, Fetch } from '../tls/fetch.ts'
import { PLAIN_HTTP_ANSWER } from '../tls/listener.ts'
import type { ErrorCode } from '../errors.ts'
import { CairnError } from '../errors.ts'
import {
  BadResponseError,
  CanceledError,
  ClientError,
  DeadlineExceededError,
  OutcomeUnknownError,
  UnavailableError,
  UnimplementedError,
  serverError,
} from './errors.ts'

export interface TransportOptions {
  /** Client URLs of members, e.g. `http://127.0.0.1:2379` (a bare `host:port` means http). */
  endpoints: string[]
  /** Time allowed to open a TCP connection to one endpoint. Default 2000 ms. */
  dialTimeoutMs?: number
  /** Default deadline of one call, retries included. Default 5000 ms. */
  callTimeoutMs?: number
  /** First backoff step; doubles each round up to backoffMaxMs. Defaults 25 ms and 1000 ms. */
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** Random source in [0, 1) for jitter (tests pass a seeded one). */
  random?: () => number
  /**
   * TLS for https endpoints: `ca` (PEM) to trust instead of the system's roots, and `cert` + `key`
   * (PEM) for members that require client certificates (--client-cert-auth).
   */
  tls?: ClientTls
  /**
   * Credentials for a cluster with auth enabled: the client authenticates once, sends the token with
   * every request, and authenticates again when a member says the token expired or is outdated.
   */
  username?: string
  password?: string
}

/** Per-call options: every call takes a timeout and an AbortSignal. */
export interface CallOptions {
  /** Deadline of this call (retries included), in ms. Default: the client's callTimeoutMs. */
  timeoutMs?: number
  signal?: AbortSignal
}

export const DIAL_TIMEOUT_MS_DEFAULT = 2000
export const CALL_TIMEOUT_MS_DEFAULT = 5000
/** Shortest time a safe call waits on one endpoint before trying the next. */
const ATTEMPT_MS_MIN = 1000

/** Errors the member raises before proposing: the request was not applied, so any call may retry. */
const NOT_APPLIED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['NoLeader', 'NotLeader', 'TooManyRequests', 'NotSupportedForLearner', 'Unhealthy'])

/** Refusals of the credentials, not the request: a fresh token may succeed (nothing was applied). */
const TOKEN_REFUSED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['InvalidAuthToken', 'AuthRequired', 'AuthOldRevision'])
const AUTHENTICATE_PATH = '/v3/auth/authenticate'

/** Network error codes that mean the request never left this process. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'DIAL_TIMEOUT',
])

type Attempt =
  | { kind: 'ok'; body: unknown }
  /** Definitely not applied: retry anywhere. */
  | { kind: 'retry'; error: unknown }
  /** Sent, answer lost: retry only if the call is safe to repeat. */
  | { kind: 'unknown'; error: unknown }
  | { kind: 'fatal'; error: unknown }

interface EndpointState {
  url: string
  /** A TCP connection was made recently and nothing failed since: skip the dial probe. */
  reachable: boolean
}

export function normalizeEndpoint(e: string): string {
  const trimmed = e.trim()
  if (trimmed === '') throw new TypeError('endpoint: expected a URL such as http://127.0.0.1:2379, got an empty string')
  const withScheme = /^[a-z]+:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`
  let url: URL
  try {
    url = new URL(withScheme)
  } catch {
    throw new TypeError(`endpoint: expected a URL such as http://127.0.0.1:2379, got ${JSON.stringify(e)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`endpoint: expected an http or https URL, got ${JSON.stringify(e)}`)
  }
  return url.origin
}

export class Transport {
  readonly dialTimeoutMs: number
  readonly callTimeoutMs: number
  private readonly endpointStates: EndpointState[]
  private current = 0
  private readonly backoffBaseMs: number
  private readonly backoffMaxMs: number
  private readonly random: () => number
  private readonly fetch: Fetch
  /** Options for node:https / ws to dial the endpoints with (CA, client certificate). */
  readonly tlsOptions: ReturnType<typeof tlsConnectOptions>
  private readonly credentials: { name: string; password: string } | undefined
  /** The cached token ('' once the cluster said auth is off), or the authentication in flight. */
  private token: Promise<string> | undefined

  constructor(opts: TransportOptions) {
    this.credentials = opts.username !== undefined ? { name: opts.username, password: opts.password ?? '' } : undefined
    if (opts.endpoints.length === 0) throw new TypeError('endpoints: expected at least one endpoint')
    this.endpointStates = [...new Set(opts.endpoints.map(normalizeEndpoint))].map((url) => ({ url, reachable: false }))
    this.dialTimeoutMs = opts.dialTimeoutMs ?? DIAL_TIMEOUT_MS_DEFAULT
    this.callTimeoutMs = opts.callTimeoutMs ?? CALL_TIMEOUT_MS_DEFAULT
    this.backoffBaseMs = opts.backoffBaseMs ?? 25
    this.backoffMaxMs = opts.backoffMaxMs ?? 1000
    this.random = opts.random ?? Math.random
    this.fetch = fetchWithTls(opts.tls)
    this.tlsOptions = tlsConnectOptions(opts.tls)
  }

  get endpoints(): string[] {
    return this.endpointStates.map((e) => e.url)
  }

  /** The endpoint calls go to now. */
  get activeEndpoint(): string {
    return this.endpointStates[this.current]!.url
  }

  /** Headers that carry the credentials: the cached token, authenticating first if there is none. */
  async authHeaders(opts: CallOptions = {}): Promise<Record<string, string>> {
    if (this.credentials === undefined) return {}
    this.token ??= this.authenticate(opts)
    try {
      const token = await this.token
      return token === '' ? {} : { authorization: token }
    } catch (e) {
      this.token = undefined
      throw e
    }
  }

  /** Forgets the cached token (it expired, or the user's permissions changed): the next call authenticates. */
  invalidateToken(): void {
    this.token = undefined
  }

  private async authenticate(opts: CallOptions): Promise<string> {
    try {
      const o = (await this.call(AUTHENTICATE_PATH, this.credentials, true, opts)) as { token?: unknown }
      if (typeof o.token !== 'string' || o.token === '') throw new BadResponseError('authenticate answered without a token')
      return o.token
    } catch (e) {
      // Credentials given to a cluster without auth: send none (a later refusal authenticates again).
      if (e instanceof CairnError && e.code === 'AuthNotEnabled') return ''
      throw e
    }
  }

  /** Moves calls (and new watch connections) to the next endpoint. */
  failover(from?: string): void {
    if (from !== undefined && from !== this.activeEndpoint) return
    this.endpointStates[this.current]!.reachable = false
    this.current = (this.current + 1) % this.endpointStates.length
  }

  /** Sleep before retry round `round` (0-based): full jitter over an exponentially growing cap. */
  backoffMs(round: number): number {
    const cap = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(round, 20))
    return Math.floor(this.random() * cap)
  }

  /**
   * POSTs `body` as JSON to `path` and returns the parsed answer. `safe` says whether the request may
   * be repeated when its outcome is unknown (reads and idempotent operations).
   */
  async call(path: string, body: unknown, safe: boolean, opts: CallOptions = {}, method: 'POST' | 'GET' = 'POST'): Promise<unknown> {
    const timeoutMs = opts.timeoutMs ?? this.callTimeoutMs
    const deadline = Date.now() + timeoutMs
    let lastError: unknown
    let failuresInRound = 0
    let round = 0
    let reauthenticated = false
    for (;;) {
      if (opts.signal?.aborted) throw new CanceledError(opts.signal.reason)
      if (Date.now() >= deadline) throw new DeadlineExceededError(lastError)
      const headers = path === AUTHENTICATE_PATH ? {} : await this.authHeaders({ ...opts, timeoutMs: Math.max(1, deadline - Date.now()) })
      const endpoint = this.endpointStates[this.current]!
      // A safe call does not wait on one member for the whole deadline when others could answer (a
      // member can sit on a request it will never answer, e.g. a read whose ReadIndex was dropped).
      const attemptDeadline =
        safe && this.endpointStates.length > 1 ? Math.min(deadline, Date.now() + Math.max(ATTEMPT_MS_MIN, timeoutMs / 3)) : deadline
      const attempt = await this.attempt(endpoint, method, path, body, attemptDeadline, opts.signal, headers)
      if (attempt.kind === 'ok') return attempt.body
      lastError = attempt.error
      if (attempt.kind === 'fatal' && this.isTokenRefusal(attempt.error) && !reauthenticated) {
        // Refused before anything was proposed: authenticate again and repeat, once.
        reauthenticated = true
        this.invalidateToken()
        continue
      }
      if (attempt.kind === 'fatal') throw attempt.error
      if (attempt.kind === 'unknown' && !safe) throw new OutcomeUnknownError(path, attempt.error)
      this.failover(endpoint.url)
      failuresInRound++
      if (failuresInRound >= this.endpointStates.length) {
        failuresInRound = 0
        const waitMs = Math.min(this.backoffMs(round++), Math.max(0, deadline - Date.now()))
        await sleep(waitMs, opts.signal)
      }
    }
  }

  private isTokenRefusal(e: unknown): boolean {
    return this.credentials !== undefined && e instanceof CairnError && TOKEN_REFUSED.has(e.code)
  }

  /**
   * Opens a streamed download (GET) from the first endpoint that answers 200; the deadline covers
   * reaching a member and its first answer, the caller's signal the whole stream.
   */
  async download(path: string, opts: CallOptions = {}): Promise<{ endpoint: string; body: ReadableStream<Uint8Array> }> {
    const deadline = Date.now() + (opts.timeoutMs ?? this.callTimeoutMs)
    let lastError: unknown
    for (let round = 0; Date.now() < deadline; round++) {
      for (let n = 0; n < this.endpointStates.length && Date.now() < deadline; n++) {
        if (opts.signal?.aborted) throw new CanceledError(opts.signal.reason)
        const endpoint = this.endpointStates[this.current]!
        try {
          if (!endpoint.reachable) await this.dial(endpoint.url, deadline, opts.signal)
          endpoint.reachable = true
          const headers = AbortSignal.timeout(Math.max(1, Math.ceil(deadline - Date.now())))
          const connected = new AbortController()
          const onTimeout = () => connected.abort(new DeadlineExceededError())
          headers.addEventListener('abort', onTimeout, { once: true })
          const signal = opts.signal ? AbortSignal.any([opts.signal, connected.signal]) : connected.signal
          const res = await this.fetch(endpoint.url + path, { method: 'GET', signal, headers: await this.authHeaders(opts) })
          headers.removeEventListener('abort', onTimeout)
          if (res.status === 200 && res.body) return { endpoint: endpoint.url, body: res.body }
          const attempt = classifyAnswer(endpoint.url, path, res.status, await res.text(), false)
          lastError = attempt.kind === 'ok' ? new BadResponseError(`${path} answered without a body`) : attempt.error
          if (attempt.kind === 'fatal') throw lastError
        } catch (e) {
          if (e instanceof CanceledError || (opts.signal?.aborted ?? false)) throw new CanceledError(opts.signal?.reason)
          if (e === lastError) throw e
          const tls = tlsFailure(e)
          if (tls !== undefined) throw new UnavailableError(`${endpoint.url}: TLS: ${tls}`, e)
          lastError = e
        }
        this.failover(endpoint.url)
      }
      await sleep(Math.min(this.backoffMs(round), Math.max(0, deadline - Date.now())), opts.signal)
    }
    throw new DeadlineExceededError(lastError)
  }

  /** Checks that a TCP connection to the endpoint can be made within the dial timeout. */
  async dial(url: string, deadline: number, signal?: AbortSignal): Promise<void> {
    const u = new URL(url)
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80))
    const host = u.hostname.replace(/^\[|\]$/g, '')
    const limitMs = Math.max(1, Math.min(this.dialTimeoutMs, deadline - Date.now()))
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port })
      const done = (err?: Error) => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        socket.destroy()
        if (err) reject(err)
        else resolve()
      }
      const onAbort = () => done(new CanceledError(signal?.reason))
      const timer = setTimeout(() => done(Object.assign(new Error(`dial ${u.host}: timed out after ${limitMs} ms`), { code: 'DIAL_TIMEOUT' })), limitMs)
      signal?.addEventListener('abort', onAbort, { once: true })
      socket.once('connect', () => done())
      socket.once('error', (e) => done(e))
    })
  }

  private async attempt(
    endpoint: EndpointState,
    method: 'POST' | 'GET',
    path: string,
    body: unknown,
    deadline: number,
    signal: AbortSignal | undefined,
    authHeaders: Record<string, string>,
  ): Promise<Attempt> {
    if (!endpoint.reachable) {
      try {
        await this.dial(endpoint.url, deadline, signal)
        endpoint.reachable = true
      } catch (e) {
        if (e instanceof CanceledError) return { kind: 'fatal', error: e }
        return { kind: 'retry', error: new UnavailableError(`${endpoint.url}: ${(e as Error).message}`, e) }
      }
    }
    const remainingMs = deadline - Date.now()
    if (remainingMs <= 0) return { kind: 'unknown', error: new DeadlineExceededError() }
    const timeout = AbortSignal.timeout(Math.max(1, Math.ceil(remainingMs)))
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout
    let res: Response
    let text: string
    try {
      res = await this.fetch(
        endpoint.url + path,
        method === 'GET'
          ? { method, signal: combined, headers: authHeaders }
          : { method, headers: { 'content-type': 'application/json', ...authHeaders }, body: JSON.stringify(body), signal: combined },
      )
      text = await res.text()
    } catch (e) {
      endpoint.reachable = false
      if (signal?.aborted) return { kind: 'fatal', error: new CanceledError(signal.reason) }
      if (timeout.aborted) return { kind: 'unknown', error: new DeadlineExceededError(e) }
      // A certificate that does not verify (either side's) will not verify on the next try either.
      const tls = tlsFailure(e)
      if (tls !== undefined) return { kind: 'fatal', error: new UnavailableError(`${endpoint.url}: TLS: ${tls}`, e) }
      const code = networkErrorCode(e)
      if (code !== undefined && NOT_SENT_CODES.has(code)) return { kind: 'retry', error: e }
      return { kind: 'unknown', error: e }
    }
    return classifyAnswer(endpoint.url, path, res.status, text, method === 'GET')
  }
}

function classifyAnswer(url: string, path: string, status: number, text: string, anyStatus: boolean): Attempt {
  if (status === 400 && text.startsWith(PLAIN_HTTP_ANSWER)) {
    return { kind: 'fatal', error: new UnavailableError(`${url} serves https only: use ${url.replace(/^http:/, 'https:')}`) }
  }
  let parsed: unknown
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as unknown)
  } catch {
    const error = new BadResponseError(`${url}${path} answered ${status} with a body that is not JSON`)
    // A proxy or a dying member; a 200 means the request was applied but the answer is unreadable.
    return status >= 500 ? { kind: 'unknown', error } : { kind: 'fatal', error }
  }
  if (status === 200 || anyStatus) return { kind: 'ok', body: parsed }
  const o = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as { code?: number; message?: string; error?: string }
  const error = serverError(o)
  if (status === 404 && error.code === 'InvalidArgument') return { kind: 'fatal', error: new UnimplementedError(path) }
  if (error.retryable) return NOT_APPLIED.has(error.code) ? { kind: 'retry', error } : { kind: 'unknown', error }
  if (status >= 500 && error.code === 'InvalidArgument') return { kind: 'unknown', error }
  return { kind: 'fatal', error }
}

function networkErrorCode(e: unknown): string | undefined {
  let c: unknown = e
  for (let depth = 0; depth < 5 && c !== undefined && c !== null; depth++) {
    const code = (c as { code?: unknown }).code
    if (typeof code === 'string') return code
    c = (c as { cause?: unknown }).cause
  }
  return undefined
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CanceledError(signal.reason))
    const onAbort = () => {
      clearTimeout(timer)
      reject(new CanceledError(signal?.reason))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

export function isClientError(e: unknown): e is ClientError | CairnError {
  return e instanceof ClientError || e instanceof CairnError
}
