// Snapshots travel on their own WebSocket, apart from the Raft message stream: a header frame (the
// Raft 'snap' message and the member registry), then the keyspace stream in binary chunks with
// backpressure, then an end marker. The receiver spools the chunks to a file (bounded memory), hands
// the message to Raft, and restores from the file once Raft accepts the snapshot.

import { createReadStream, createWriteStream, mkdirSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import type { IncomingMessage } from 'node:http'
import { join } from 'node:path'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import WebSocket, { WebSocketServer } from 'ws'
import type { Message } from '../raft/types.ts'
import { idToHex } from './ids.ts'
import { decodeSnapshotHeader, encodeFrame, fromMessage, PeerFrameError } from './peer-codec.ts'
import type { MemberInfo } from './registry.ts'
import { requestPath } from './request-path.ts'
import { refusalResponse } from './transport.ts'
import type { PeerRefusal } from './transport.ts'
import { tlsConnectOptions } from '../tls/fetch.ts'
import type { ClientTls } from '../tls/fetch.ts'

export const SNAPSHOT_PATH = '/cairn/snapshot'
export const SNAPSHOT_BYTES_MAX = 64 * 1024 * 1024 * 1024
const SEND_BUFFER_BYTES_MAX = 8 * 1024 * 1024

export interface OutgoingSnapshot {
  message: Message
  members: MemberInfo[]
  chunks: AsyncIterable<Uint8Array>
}

export async function sendSnapshot(
  peerUrl: string,
  headers: Record<string, string>,
  snap: OutgoingSnapshot,
  timeoutMs: number,
  tls?: ClientTls,
): Promise<boolean> {
  const u = new URL(peerUrl)
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:'
  u.pathname = SNAPSHOT_PATH
  const ws = new WebSocket(u.toString(), { headers, perMessageDeflate: false, handshakeTimeout: 5_000, ...tlsConnectOptions(tls) })
  const done = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate()
      resolve(false)
    }, timeoutMs)
    ws.on('message', (data) => {
      clearTimeout(timer)
      resolve(String(data) === 'ok')
      ws.close()
    })
    ws.on('close', () => {
      clearTimeout(timer)
      resolve(false)
    })
    ws.on('error', () => undefined)
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const send = (data: Uint8Array | string) =>
    new Promise<void>((resolve, reject) => ws.send(data, (err) => (err ? reject(err) : resolve())))
  await send(encodeFrame({ message: fromMessage(snap.message), members: snap.members }))
  for await (const chunk of snap.chunks) {
    await send(chunk)
    while (ws.bufferedAmount > SEND_BUFFER_BYTES_MAX) await new Promise((r) => setTimeout(r, 5))
  }
  await send('end')
  return done
}

export interface SnapshotReceiverOptions {
  spoolDir: string
  logger: Logger
  /** Whether a connection from this member is acceptable (cluster and membership checks). */
  refusal: (req: IncomingMessage) => PeerRefusal | undefined
  onSnapshot: (m: Message, members: MemberInfo[], open: () => AsyncIterable<Uint8Array>, cleanup: () => Promise<void>) => void
}

export class SnapshotReceiver {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024, perMessageDeflate: false })
  private sequence = 0

  constructor(private readonly opts: SnapshotReceiverOptions) {}

  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (requestPath(req.url) !== SNAPSHOT_PATH) return false
    const refusal = this.opts.refusal(req)
    if (refusal) {
      socket.end(refusalResponse(refusal))
      return true
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.receive(ws))
    return true
  }

  private receive(ws: WebSocket): void {
    // Synchronously, so the message listener below is in place before the first frame can arrive
    // (ws drops frames nobody listens to; after an await the header frame could be lost).
    try {
      mkdirSync(this.opts.spoolDir, { recursive: true })
    } catch (e) {
      this.opts.logger.warn({ err: (e as Error).message }, 'cannot create the snapshot spool dir')
      ws.terminate()
      return
    }
    const path = join(this.opts.spoolDir, `incoming-${process.pid}-${++this.sequence}.snap`)
    const file = createWriteStream(path)
    let header: { message: Message; members: MemberInfo[] } | undefined
    let bytes = 0
    const cleanup = () => rm(path, { force: true })
    ws.on('message', (data, isBinary) => {
      try {
        if (!header) {
          header = decodeSnapshotHeader(data as Buffer)
          return
        }
        if (!isBinary) {
          if (String(data) !== 'end') throw new PeerFrameError('unexpected text frame')
          const h = header
          file.end(() => {
            // Keep the received snapshot under a name derived from its index until the keyspace is
            // restored from it: if we crash after Raft saved the snapshot, startup restores from this.
            const index = h.message.snapshot!.metadata.index
            const final = spoolPath(this.opts.spoolDir, index)
            void (async () => {
              await writeFile(`${final}.members.json`, JSON.stringify(h.members))
              await rename(path, final)
              const done = async () => {
                await rm(final, { force: true })
                await rm(`${final}.members.json`, { force: true })
              }
              this.opts.onSnapshot(h.message, h.members, () => createReadStream(final, { highWaterMark: 1024 * 1024 }), done)
              ws.send('ok')
            })().catch((e: unknown) => {
              this.opts.logger.warn({ err: (e as Error).message }, 'cannot keep received snapshot')
              void cleanup()
              ws.terminate()
            })
          })
          return
        }
        bytes += (data as Buffer).byteLength
        if (bytes > SNAPSHOT_BYTES_MAX) throw new PeerFrameError('snapshot too large')
        file.write(data as Buffer)
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message }, 'refusing snapshot stream')
        file.destroy()
        void cleanup()
        ws.terminate()
      }
    })
    ws.on('close', () => {
      if (!file.writableFinished) {
        file.destroy()
        void cleanup()
      }
    })
  }

  close(): void {
    this.wss.close()
  }
}

/** Where a received snapshot for `index` waits until the keyspace has been restored from it. */
export function spoolPath(spoolDir: string, index: number): string {
  return join(spoolDir, `snapshot-${index}.snap`)
}

export function snapshotHeaders(selfId: number, clusterId: string, to: number): Record<string, string> {
  return { 'x-cairn-from': idToHex(selfId), 'x-cairn-cluster-id': clusterId, 'x-cairn-to': idToHex(to) }
}
