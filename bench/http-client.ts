// A minimal HTTP/1.1 keep-alive client: one connection, one request in flight, no pipelining.
// node:http's client costs several times more CPU per request (header objects, streams, agent
// bookkeeping); on a 2-core machine the load generator shares the CPU with the servers it measures,
// so every cycle it spends is one the servers lose. This client writes one preformatted string per
// request and parses only what a benchmark needs: the status, Content-Length or chunked framing,
// and `Connection: close`. `bench --workload ceiling` measures its ceiling against a trivial server.

import { connect } from 'node:net'
import type { Socket } from 'node:net'

export interface HttpResponse {
  status: number
  body: Buffer
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message)
  }
}

const CRLF2 = Buffer.from('\r\n\r\n')
const CRLF = Buffer.from('\r\n')
const RESPONSE_BYTES_MAX = 64 * 1024 * 1024

interface Pending {
  resolve(r: HttpResponse): void
  reject(e: Error): void
}

export class HttpConnection {
  private socket: Socket | undefined
  private pending: Pending | undefined
  private buffered: Buffer | undefined
  // parse state of the current response
  private status = 0
  private contentLength = -1
  private chunked = false
  private closeAfter = false
  private headDone = false
  private chunks: Buffer[] = []
  private readonly hostHeader: string

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly timeoutMs: number,
  ) {
    this.hostHeader = `${host}:${port}`
  }

  static fromUrl(url: string, timeoutMs: number): HttpConnection {
    const u = new URL(url)
    return new HttpConnection(u.hostname, Number(u.port), timeoutMs)
  }

  get busy(): boolean {
    return this.pending !== undefined
  }

  /** Body must be ASCII (JSON of base64 strings) or the caller must pass a Buffer. */
  request(method: string, path: string, body: string | Buffer = '', contentType = 'application/json'): Promise<HttpResponse> {
    if (this.pending) return Promise.reject(new HttpError('connection busy', 'EBUSY'))
    const socket = this.socket ?? this.open()
    const length = typeof body === 'string' ? body.length : body.byteLength
    const head = `${method} ${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nContent-Type: ${contentType}\r\nContent-Length: ${length}\r\n\r\n`
    return new Promise<HttpResponse>((resolve, reject) => {
      this.pending = { resolve, reject }
      this.resetParse()
      if (typeof body === 'string') socket.write(head + body, 'latin1')
      else {
        socket.cork()
        socket.write(head, 'latin1')
        socket.write(body)
        socket.uncork()
      }
    })
  }

  close(): void {
    const s = this.socket
    this.socket = undefined
    s?.destroy()
    this.fail(new HttpError('connection closed by client', 'ECLOSED'))
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true })
    socket.setTimeout(this.timeoutMs)
    socket.on('data', (d: Buffer) => this.onData(d))
    socket.on('timeout', () => {
      if (!this.pending) return // idle keep-alive connection: fine
      this.drop(socket, new HttpError(`no response within ${this.timeoutMs} ms`, 'ETIMEDOUT'))
    })
    socket.on('error', (e: NodeJS.ErrnoException) => this.drop(socket, new HttpError(e.message, e.code ?? 'ESOCKET')))
    socket.on('close', () => this.drop(socket, new HttpError('connection closed by server', 'ECONNRESET')))
    this.socket = socket
    this.buffered = undefined
    return socket
  }

  private drop(socket: Socket, e: Error): void {
    if (this.socket !== socket) return
    this.socket = undefined
    socket.destroy()
    this.fail(e)
  }

  private fail(e: Error): void {
    const p = this.pending
    this.pending = undefined
    this.buffered = undefined
    p?.reject(e)
  }

  private resetParse(): void {
    this.status = 0
    this.contentLength = -1
    this.chunked = false
    this.closeAfter = false
    this.headDone = false
    this.chunks = []
  }

  private onData(d: Buffer): void {
    let buf = this.buffered ? Buffer.concat([this.buffered, d]) : d
    this.buffered = undefined
    if (!this.pending) return // stray bytes after a response: ignore
    if (!this.headDone) {
      const end = buf.indexOf(CRLF2)
      if (end < 0) {
        this.buffered = buf
        return
      }
      this.parseHead(buf.toString('latin1', 0, end))
      buf = buf.subarray(end + 4)
      this.headDone = true
    }
    if (this.chunked) this.readChunked(buf)
    else this.readSized(buf)
  }

  private parseHead(head: string): void {
    this.status = Number(head.slice(9, 12))
    const lower = head.toLowerCase()
    const cl = lower.indexOf('\r\ncontent-length:')
    if (cl >= 0) this.contentLength = parseInt(lower.slice(cl + 17, lower.indexOf('\r\n', cl + 2) >>> 0), 10)
    this.chunked = lower.includes('\r\ntransfer-encoding: chunked')
    this.closeAfter = lower.includes('\r\nconnection: close')
    if (!this.chunked && this.contentLength < 0 && (this.status === 204 || this.status === 304)) this.contentLength = 0
  }

  private readSized(buf: Buffer): void {
    if (this.contentLength < 0) {
      // close-delimited body: not used by the servers we measure; treat what we have as the body
      this.chunks.push(buf)
      this.finish(true)
      return
    }
    const have = this.chunks.reduce((n, c) => n + c.byteLength, 0) + buf.byteLength
    this.chunks.push(buf)
    if (have >= this.contentLength) this.finish(this.closeAfter)
  }

  private readChunked(buf: Buffer): void {
    let b = buf
    for (let guard = 0; guard < 1_000_000; guard++) {
      const eol = b.indexOf(CRLF)
      if (eol < 0) break
      const size = parseInt(b.toString('latin1', 0, eol), 16)
      if (!Number.isFinite(size)) {
        this.drop(this.socket!, new HttpError('bad chunk header', 'EPROTO'))
        return
      }
      if (size === 0) {
        if (b.byteLength < eol + 4) break // wait for the final CRLF
        this.finish(this.closeAfter)
        return
      }
      if (b.byteLength < eol + 2 + size + 2) break
      this.chunks.push(b.subarray(eol + 2, eol + 2 + size))
      b = b.subarray(eol + 2 + size + 2)
    }
    if (b.byteLength > RESPONSE_BYTES_MAX) {
      this.drop(this.socket!, new HttpError('response too large', 'E2BIG'))
      return
    }
    this.buffered = b.byteLength ? b : undefined
  }

  private finish(close: boolean): void {
    const p = this.pending!
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    const status = this.status
    this.pending = undefined
    this.buffered = undefined
    this.chunks = []
    if (close) {
      const s = this.socket
      this.socket = undefined
      s?.destroy()
    }
    p.resolve({ status, body })
  }
}

/** One-off JSON POST on a fresh connection (control traffic, not measured). */
export async function postJson(baseUrl: string, path: string, body: unknown, timeoutMs = 3000): Promise<{ status: number; json: unknown }> {
  const c = HttpConnection.fromUrl(baseUrl, timeoutMs)
  try {
    const r = await c.request('POST', path, JSON.stringify(body))
    const text = r.body.toString('utf8')
    let json: unknown
    try {
      json = text ? (JSON.parse(text) as unknown) : undefined
    } catch {
      json = text
    }
    return { status: r.status, json }
  } finally {
    c.close()
  }
}

export async function getText(baseUrl: string, path: string, timeoutMs = 3000): Promise<{ status: number; text: string }> {
  const c = HttpConnection.fromUrl(baseUrl, timeoutMs)
  try {
    const r = await c.request('GET', path)
    return { status: r.status, text: r.body.toString('utf8') }
  } finally {
    c.close()
  }
}
