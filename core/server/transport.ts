// The peer transport: one outbound PeerLink per peer, and inbound WebSocket connections accepted on
// the peer listener. Frames carry batches of Raft messages; every inbound frame is validated before
// it reaches the member.

import type { IncomingMessage } from 'node:http'
import type { Duplex } from 'node:stream'
import type { Logger } from 'pino'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import type { Message, NodeId } from '../raft/types.ts'
import { requestPath } from './request-path.ts'
import { PEER_FRAME_BYTES_MAX, PeerFrameError } from './peer-codec.ts'
import { decodeMessages, encodeMessages } from './raft-wire.ts'
import { PEER_PATH, PeerLink } from './peer-link.ts'
import { idToHex } from './ids.ts'
import type { ClientTls } from '../tls/fetch.ts'

export interface TransportOptions {
  /** Maps a peer URL to the one actually dialled (tests route links through proxies). */
  rewriteUrl?: (url: string) => string
  selfId: NodeId
  clusterId: string
  logger: Logger
  /** Called for every valid inbound Raft message addressed to us. */
  onMessage: (m: Message) => void
  onUnreachable: (peer: NodeId) => void
  onSnapshotSent: (peer: NodeId, ok: boolean) => void
  onPeerActive?: (peer: NodeId, up: boolean) => void
  /** TLS for dialling https peer URLs: the CA that signs peers, and our peer certificate. */
  tls?: ClientTls
}

export class Transport {
  private readonly links = new Map<NodeId, PeerLink>()
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: PEER_FRAME_BYTES_MAX, perMessageDeflate: false })
  private readonly inbound = new Set<WebSocket>()
  /** Peers we currently accept frames from; others are refused (removed members, strangers). */
  private readonly known = new Set<NodeId>()

  constructor(private readonly opts: TransportOptions) {}

  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.opts.selfId) return
    this.known.add(id)
    const existing = this.links.get(id)
    const dialled = this.opts.rewriteUrl ? urls.map(this.opts.rewriteUrl) : urls
    if (existing) {
      if (JSON.stringify(existing.urls()) !== JSON.stringify(dialled)) existing.setUrls(dialled)
      return
    }
    this.links.set(
      id,
      new PeerLink({
        selfId: idToHex(this.opts.selfId),
        clusterId: this.opts.clusterId,
        peerId: idToHex(id),
        urls: this.opts.rewriteUrl ? urls.map(this.opts.rewriteUrl) : urls,
        logger: this.opts.logger,
        onUnreachable: () => this.opts.onUnreachable(id),
        onUp: () => this.opts.onPeerActive?.(id, true),
        onDown: () => this.opts.onPeerActive?.(id, false),
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      }),
    )
  }

  removePeer(id: NodeId): void {
    this.known.delete(id)
    this.links.get(id)?.close()
    this.links.delete(id)
  }

  /** Last measured round-trip time per connected peer, in seconds. */
  roundTrips(): Map<NodeId, number> {
    const out = new Map<NodeId, number>()
    for (const [id, link] of this.links) if (link.rttSeconds !== undefined) out.set(id, link.rttSeconds)
    return out
  }

  isConnected(id: NodeId): boolean {
    return this.links.get(id)?.isConnected() ?? false
  }

  /** Sends messages, one frame per peer per call (batching whatever one Ready produced). */
  send(messages: Message[]): void {
    const byPeer = new Map<NodeId, Message[]>()
    for (const m of messages) {
      let list = byPeer.get(m.to)
      if (!list) byPeer.set(m.to, (list = []))
      list.push(m)
    }
    for (const [peer, list] of byPeer) {
      const link = this.links.get(peer)
      if (!link) continue
      // Snapshots travel on their own stream (the member sends them); one here is reported failed.
      const normal = list.filter((m) => m.type !== 'snap')
      for (let i = normal.length; i < list.length; i++) this.opts.onSnapshotSent(peer, false)
      if (normal.length === 0) continue
      if (!link.send(encodeMessages(normal))) this.opts.onUnreachable(peer)
    }
  }

  /** Handles an HTTP upgrade on the peer listener; returns false if the path is not ours. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (requestPath(req.url) !== PEER_PATH) return false
    const refusal = this.refusal(req)
    if (refusal) {
      this.opts.logger.warn({ from: req.headers['x-cairn-from'], reason: refusal }, 'refused peer connection')
      socket.end(`HTTP/1.1 403 Forbidden\r\nx-cairn-reject: ${refusal}\r\nConnection: close\r\n\r\n`)
      return true
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, parseHexId(String(req.headers['x-cairn-from']))!))
    return true
  }

  refusal(req: IncomingMessage): string | undefined {
    const cluster = req.headers['x-cairn-cluster-id']
    if (cluster !== this.opts.clusterId) return `cluster ID mismatch (ours ${this.opts.clusterId}, theirs ${String(cluster)})`
    const from = parseHexId(String(req.headers['x-cairn-from']))
    if (from === undefined) return 'missing or malformed member ID'
    if (!this.known.has(from)) return `member ${idToHex(from)} is not part of this cluster`
    const to = req.headers['x-cairn-to']
    if (to !== undefined && to !== idToHex(this.opts.selfId)) return `this member is ${idToHex(this.opts.selfId)}, not ${String(to)}`
    return undefined
  }

  private accept(ws: WebSocket, from: NodeId): void {
    this.inbound.add(ws)
    ws.on('close', () => this.inbound.delete(ws))
    ws.on('error', () => ws.terminate())
    ws.on('message', (data, isBinary) => {
      if (!isBinary || !this.known.has(from)) return
      try {
        // The whole frame is validated before any message reaches Raft. It cannot hold a 'snap':
        // snapshots come only on the snapshot stream, with their data.
        for (const m of decodeMessages(data as Buffer)) {
          // A peer may only speak for itself, and only to us.
          if (m.from !== from || m.to !== this.opts.selfId) throw new PeerFrameError(`message from ${m.from} to ${m.to} on link of ${from}`)
          this.opts.onMessage(m)
        }
      } catch (e) {
        this.opts.logger.warn({ peer: idToHex(from), err: (e as Error).message }, 'dropping malformed peer frame')
      }
    })
  }

  close(): void {
    for (const link of this.links.values()) link.close()
    this.links.clear()
    for (const ws of this.inbound) ws.terminate()
    this.wss.close()
  }
}

function parseHexId(s: string): NodeId | undefined {
  if (!/^[0-9a-f]{1,14}$/.test(s)) return undefined
  const n = Number.parseInt(s, 16)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}
