// The peer transport: one outbound PeerLink per peer, and inbound WebSocket connections accepted on
// the peer listener. Frames carry batches of Raft messages; every inbound frame is validated before
// it reaches the member.
//
// Who may connect: any member of this cluster (same cluster ID) that was not removed from it. A member
// whose registry is behind (it was down or cut off while members were added) must still hear from
// a leader it does not know yet, or it could never catch up; when such a peer says where it listens
// (x-cairn-peer-urls), a link back to it is opened so that Raft's answers reach it. Removed members
// are refused, and told so.

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
  /** A peer refused us as a member removed from the cluster (410). */
  onRemovedByPeer?: (peer: NodeId) => void
  /** TLS for dialling https peer URLs: the CA that signs peers, and our peer certificate. */
  tls?: ClientTls
  /** Our advertised peer URLs, sent to the peers we dial so that they can answer us. */
  selfPeerUrls?: string[]
  /** Whether `id` was removed from the cluster (its connections are refused). */
  isRemoved?: (id: NodeId) => boolean
}

/** Bounds on the peer URLs a connecting member announces. */
const ANNOUNCED_URLS_MAX = 8
const ANNOUNCED_URL_CHARS_MAX = 512

export class Transport {
  private readonly links = new Map<NodeId, PeerLink>()
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: PEER_FRAME_BYTES_MAX, perMessageDeflate: false })
  /** Accepted connections and the member each one speaks for. */
  private readonly inbound = new Map<WebSocket, NodeId>()

  constructor(private readonly opts: TransportOptions) {}

  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.opts.selfId) return
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
        selfPeerUrls: this.opts.selfPeerUrls ?? [],
        clusterId: this.opts.clusterId,
        peerId: idToHex(id),
        urls: this.opts.rewriteUrl ? urls.map(this.opts.rewriteUrl) : urls,
        logger: this.opts.logger,
        onUnreachable: () => this.opts.onUnreachable(id),
        onUp: () => this.opts.onPeerActive?.(id, true),
        onDown: () => this.opts.onPeerActive?.(id, false),
        onGone: () => this.opts.onRemovedByPeer?.(id),
        ...(this.opts.tls ? { tls: this.opts.tls } : {}),
      }),
    )
  }

  removePeer(id: NodeId): void {
    this.links.get(id)?.close()
    this.links.delete(id)
  }

  /**
   * Closes the links to members removed from the cluster, and their connections to us: when they
   * dial again they are answered 410 and stop (a removed leader would otherwise lead on alone).
   */
  dropRemoved(): void {
    for (const id of [...this.links.keys()]) if (this.opts.isRemoved?.(id)) this.removePeer(id)
    for (const [ws, id] of this.inbound) if (this.opts.isRemoved?.(id)) ws.close(1000, 'removed from the cluster')
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
      this.opts.logger.warn({ from: req.headers['x-cairn-from'], reason: refusal.reason }, 'refused peer connection')
      socket.end(refusalResponse(refusal))
      return true
    }
    const from = parseHexId(String(req.headers['x-cairn-from']))!
    // A member we have no link to (not in our registry yet) gets one to the URLs it announced.
    const announced = announcedUrls(req.headers['x-cairn-peer-urls'])
    if (!this.links.has(from) && announced.length > 0) {
      this.opts.logger.info({ peer: idToHex(from), urls: announced }, 'linking back to a member not in our registry yet')
      this.addPeer(from, announced)
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, from))
    return true
  }

  /** Why a peer connection (Raft stream or snapshot stream) is refused, or undefined to accept it. */
  refusal(req: IncomingMessage): PeerRefusal | undefined {
    const forbidden = (reason: string): PeerRefusal => ({ status: 403, reason })
    const cluster = req.headers['x-cairn-cluster-id']
    if (cluster !== this.opts.clusterId) return forbidden(`cluster ID mismatch (ours ${this.opts.clusterId}, theirs ${String(cluster)})`)
    const from = parseHexId(String(req.headers['x-cairn-from']))
    if (from === undefined) return forbidden('missing or malformed member ID')
    if (from === this.opts.selfId) return forbidden('a member cannot connect to itself')
    // 410, as etcd answers a removed member: the peer learns it is out for good, and stops.
    if (this.opts.isRemoved?.(from)) return { status: 410, reason: `member ${idToHex(from)} was removed from this cluster` }
    const to = req.headers['x-cairn-to']
    if (to !== undefined && to !== idToHex(this.opts.selfId)) return forbidden(`this member is ${idToHex(this.opts.selfId)}, not ${String(to)}`)
    return undefined
  }

  private accept(ws: WebSocket, from: NodeId): void {
    this.inbound.set(ws, from)
    ws.on('close', () => this.inbound.delete(ws))
    ws.on('error', () => ws.terminate())
    ws.on('message', (data, isBinary) => {
      if (!isBinary || this.opts.isRemoved?.(from)) return
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
    for (const ws of this.inbound.keys()) ws.terminate()
    this.wss.close()
  }
}

export interface PeerRefusal {
  /** 403, or 410 Gone for a member removed from the cluster. */
  status: 403 | 410
  reason: string
}

/** The HTTP answer that refuses a peer's WebSocket upgrade. */
export function refusalResponse(refusal: PeerRefusal): string {
  const line = refusal.status === 410 ? '410 Gone' : '403 Forbidden'
  return `HTTP/1.1 ${line}\r\nx-cairn-reject: ${refusal.reason}\r\nConnection: close\r\n\r\n`
}

/** The peer URLs in a connecting member's x-cairn-peer-urls header; none if any is malformed. */
export function announcedUrls(header: string | string[] | undefined): string[] {
  if (typeof header !== 'string' || header === '') return []
  const urls = header.split(',')
  if (urls.length > ANNOUNCED_URLS_MAX) return []
  for (const u of urls) {
    if (u.length > ANNOUNCED_URL_CHARS_MAX) return []
    let parsed: URL
    try {
      parsed = new URL(u)
    } catch {
      return []
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return []
  }
  return urls
}

function parseHexId(s: string): NodeId | undefined {
  if (!/^[0-9a-f]{1,14}$/.test(s)) return undefined
  const n = Number.parseInt(s, 16)
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}
