// Posts a JSON request to another member's client URL and reads its JSON answer: how a follower hands
// the leader what only the leader may serve (lease keep-alives, member changes, leadership moves).
// node:http(s) with keep-alive agents instead of fetch: under lease churn, fetch's undici and
// web-stream machinery was a quarter of a follower's CPU.

import { Agent as HttpAgent, request as httpRequest } from 'node:http'
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https'
import { tlsConnectOptions } from '../tls/fetch.ts'
import type { ClientTls } from '../tls/fetch.ts'

/** An answer larger than this is refused (no forwarded route answers anything near it). */
const ANSWER_BYTES_MAX = 4 * 1024 * 1024

export interface ForwardAnswer {
  status: number
  /** The parsed JSON body. */
  body: unknown
}

export type ForwardPost = (url: string, body: string, headers: Record<string, string>, timeoutMs: number) => Promise<ForwardAnswer>

/** A ForwardPost that dials https URLs with `tls` (CA to trust, certificate to present). */
export function forwardPoster(tls?: ClientTls): ForwardPost {
  const plain = new HttpAgent({ keepAlive: true })
  let secure: HttpsAgent | undefined
  return (url, body, headers, timeoutMs) =>
    new Promise((resolve, reject) => {
      const https = url.startsWith('https:')
      if (https) secure ??= new HttpsAgent({ keepAlive: true, ...tlsConnectOptions(tls) })
      const options = {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        agent: https ? secure! : plain,
        timeout: timeoutMs,
      }
      const req = (https ? httpsRequest : httpRequest)(url, options, (res) => {
        const chunks: Buffer[] = []
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          if (bytes > ANSWER_BYTES_MAX) req.destroy(new Error(`answer larger than ${ANSWER_BYTES_MAX} bytes`))
          else chunks.push(chunk)
        })
        res.once('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) })
          } catch {
            reject(new Error(`answer with status ${res.statusCode} is not JSON`))
          }
        })
        res.on('error', reject)
      })
      req.once('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end(body)
    })
}
