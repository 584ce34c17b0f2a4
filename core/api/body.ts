// Reading a request body with a size bound, shared by the v3 and v2 APIs. Listeners rather than
// `for await`: the stream's async iterator cost ~3 % of a member's CPU under put load.

import type { IncomingMessage } from 'node:http'

/** The whole body; rejects with tooLarge() as soon as it passes maxBytes (declared or sent). */
export function collectBody(req: IncomingMessage, maxBytes: number, tooLarge: () => Error): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > maxBytes) {
    req.resume()
    return Promise.reject(tooLarge())
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const done = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength
      if (size > maxBytes) {
        done()
        req.resume()
        reject(tooLarge())
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      done()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks))
    }
    const onError = (e: Error): void => {
      done()
      reject(e)
    }
    const onClose = (): void => {
      if (req.complete) return
      done()
      reject(new Error('request body not complete: the connection closed'))
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('close', onClose)
  })
}
