// What every https listener of a member does besides TLS itself: it answers a plain-http request
// clearly instead of dropping it, as Go's servers do ("Client sent an HTTP request to an HTTPS
// server.", status 400) — without this, a client that dials http:// by mistake only sees its
// connection reset, which looks like a crashed member — and it logs every refused connection once,
// with the remote address and the reason (an untrusted or missing client certificate, a failed
// handshake, plain http).

import type { Socket } from 'node:net'
import type { Server as TlsServer, TLSSocket } from 'node:tls'
import type { Logger } from 'pino'
import { plainTlsMessage } from './fetch.ts'

export const PLAIN_HTTP_ANSWER = 'Client sent an HTTP request to an HTTPS server.'

/** A TLS connection starts with a handshake record: content type 22. */
const TLS_HANDSHAKE_RECORD = 0x16
/** Time a new connection has to send its first byte before it is dropped. */
export const FIRST_BYTE_MS_MAX = 10_000

/**
 * Guards `server` (an https server): plain http is answered with 400 and closed; refused connections
 * are logged as `<what> connection refused` at warn level with `remote` and `reason`.
 */
export function guardTlsListener(server: TlsServer, logger: Logger, what: 'client' | 'peer'): void {
  const msg = `refused ${what} connection`
  const limiter = new RefusalLog()
  const refuse = (remote: string, reason: string) => {
    const repeated = limiter.admit(remote, reason, Date.now())
    if (repeated === undefined) return
    logger.warn(repeated > 0 ? { remote, reason, repeated } : { remote, reason }, msg)
  }
  server.on('tlsClientError', (err, socket) => refuse(remoteOf(socket), refusalReason(err, socket)))
  const tlsListeners = server.listeners('connection') as Array<(socket: Socket) => void>
  server.removeAllListeners('connection')
  server.on('connection', (socket: Socket) => {
    // Read the peer's address now: net.Socket caches it, so it can still be logged after a failed
    // handshake has destroyed the connection.
    void socket.remoteAddress
    const timer = setTimeout(() => socket.destroy(), FIRST_BYTE_MS_MAX)
    timer.unref?.()
    socket.once('close', () => clearTimeout(timer))
    socket.once('error', () => socket.destroy())
    socket.once('readable', () => {
      clearTimeout(timer)
      const first = socket.read(1) as Buffer | null
      if (first === null) return void socket.destroy()
      socket.unshift(first)
      if (first[0] === TLS_HANDSHAKE_RECORD) {
        for (const l of tlsListeners) l.call(server, socket)
        return
      }
      refuse(remoteOf(socket), 'plain http on an https listener')
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${PLAIN_HTTP_ANSWER}\n`)
    })
  })
}

/** Why a TLS connection failed, in words: the certificate check's code if it failed, else OpenSSL's reason. */
function refusalReason(err: Error, socket: TLSSocket): string {
  const code = socket.authorizationError as unknown as string | null | undefined
  if (code) return `client certificate not trusted (${code})`
  if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') return 'the client hung up during the handshake (does it trust this certificate?)'
  return plainTlsMessage(err.message)
}

/** `host:port` of the other end; works on a TLS socket whose connection is already gone. */
export function remoteOf(socket: Socket | TLSSocket): string {
  // A server-side TLS socket wraps the accepted net.Socket (`_parent`), which keeps the address.
  const parent = (socket as { _parent?: Socket })._parent
  const host = socket.remoteAddress ?? parent?.remoteAddress
  const port = socket.remotePort ?? parent?.remotePort
  if (host === undefined) return 'unknown'
  return `${host.includes(':') ? `[${host}]` : host}:${port ?? 0}`
}

export const REFUSAL_LOG_INTERVAL_MS = 10_000
export const REFUSAL_LOG_SOURCES_MAX = 1_024

/**
 * Keeps a misconfigured peer that redials every second from flooding the log: the first refusal of a
 * host for a reason is logged at once, repeats at most every REFUSAL_LOG_INTERVAL_MS with the count
 * of those left out (`repeated`).
 */
export class RefusalLog {
  private readonly seen = new Map<string, { loggedAt: number; suppressed: number }>()

  /** undefined: leave this one out; a number: log it, with that many left out since the last line. */
  admit(remote: string, reason: string, nowMs: number): number | undefined {
    const key = `${remote.replace(/:\d+$/, '')}\u0000${reason}`
    const entry = this.seen.get(key)
    if (entry && nowMs - entry.loggedAt < REFUSAL_LOG_INTERVAL_MS) {
      entry.suppressed++
      return undefined
    }
    if (!entry && this.seen.size >= REFUSAL_LOG_SOURCES_MAX) this.seen.delete(this.seen.keys().next().value!)
    this.seen.delete(key)
    this.seen.set(key, { loggedAt: nowMs, suppressed: 0 })
    return entry?.suppressed ?? 0
  }
}
