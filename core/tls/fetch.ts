// fetch() with TLS settings of our own (a CA to trust, a client certificate to present). Node's global
// fetch cannot take them without the undici package, so https requests go through node:https with a
// keep-alive Agent that carries the settings, and come back as a standard Response; plain http URLs
// still use the global fetch, unchanged.

import { Agent, request } from 'node:https'
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'

/** What a TLS client presents and trusts. PEM text or bytes, as node:tls takes them. */
export interface ClientTls {
  /** CA certificate(s) that sign the server's certificate (instead of the system's roots). */
  ca?: string | Buffer
  /** Client certificate and its key, for servers that require one (mutual TLS). */
  cert?: string | Buffer
  key?: string | Buffer
  /** Skip verifying the server's certificate (etcdctl's --insecure-skip-tls-verify). Default false. */
  insecureSkipVerify?: boolean
}

export interface FetchInit {
  method?: string
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
}

export type Fetch = (url: string, init?: FetchInit) => Promise<Response>

/** The options ws and node:https take for `tls`. */
export function tlsConnectOptions(tls: ClientTls | undefined): { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized: boolean } {
  const o: { ca?: string | Buffer; cert?: string | Buffer; key?: string | Buffer; rejectUnauthorized: boolean } = {
    rejectUnauthorized: tls?.insecureSkipVerify !== true,
  }
  if (tls?.ca !== undefined) o.ca = tls.ca
  if (tls?.cert !== undefined) o.cert = tls.cert
  if (tls?.key !== undefined) o.key = tls.key
  return o
}

/** A fetch that dials https URLs with `tls` (and http URLs as the global fetch does). */
export function fetchWithTls(tls: ClientTls | undefined): Fetch {
  let agent: Agent | undefined
  return (url, init = {}) => {
    if (!url.startsWith('https:')) return fetch(url, init)
    agent ??= new Agent({ keepAlive: true, ...tlsConnectOptions(tls) })
    return httpsFetch(url, init, agent)
  }
}

function httpsFetch(url: string, init: FetchInit, agent: Agent): Promise<Response> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...init.headers }
    if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body))
    const req = request(url, { method: init.method ?? 'GET', headers, agent, ...(init.signal ? { signal: init.signal } : {}) }, (res) => {
      resolve(toResponse(res))
    })
    req.once('error', reject)
    req.end(init.body)
  })
}

function toResponse(res: IncomingMessage): Response {
  const headers = new Headers()
  for (const [name, value] of Object.entries(res.headers)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v)
    else if (value !== undefined) headers.set(name, value)
  }
  const status = res.statusCode ?? 500
  const empty = status === 204 || status === 304
  if (empty) res.resume()
  const body = empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>)
  return new Response(body, { status, statusText: res.statusMessage ?? '', headers })
}

/**
 * Error codes of a handshake that cannot succeed: certificate verification (OpenSSL's codes, as Node
 * reports them), an alert the server sent instead of finishing the handshake (e.g. it wants a client
 * certificate), or a server that does not speak TLS at all. All happen before any request is read.
 */
const CERT_CODES = /^(UNABLE_TO_|SELF_SIGNED_CERT|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_|ERR_TLS_CERT_|HOSTNAME_MISMATCH|ERR_SSL_(TLSV1|TLSV13|SSLV3)_ALERT_|ERR_SSL_WRONG_VERSION_NUMBER$)/

/**
 * If `e` (or one of its causes) is a TLS failure — the server's certificate did not verify, or the
 * server refused ours — returns its message; such a failure does not go away by retrying.
 */
export function tlsFailure(e: unknown): string | undefined {
  let c: unknown = e
  for (let depth = 0; depth < 5 && c !== undefined && c !== null; depth++) {
    const code = (c as { code?: unknown }).code
    if (typeof code === 'string' && CERT_CODES.test(code)) return plainTlsMessage((c as Error).message)
    // An https request to a plain-http listener: its answer is not a TLS record.
    if (code === 'EPROTO' && /wrong version number/.test((c as Error).message)) return 'the server does not speak TLS (is it an http:// endpoint?)'
    c = (c as { cause?: unknown }).cause
  }
  return undefined
}

/** OpenSSL's "8030…:error:0A00045C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required:…" → the reason. */
export function plainTlsMessage(message: string): string {
  const m = /SSL routines:[^:]*:([^:]+)/.exec(message)
  return (m ? m[1]! : message).trim()
}
