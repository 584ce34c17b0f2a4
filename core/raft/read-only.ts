// Pending linearizable reads on the leader (ReadIndex, safe mode). Each read records the commit
// index when it arrived; it may be served once a quorum answers a heartbeat sent after it, which
// proves the leader still led at that moment. Reads waiting at once share one heartbeat round.

import type { Message, NodeId } from './types.ts'

export interface ReadIndexStatus {
  req: Message
  index: number
  acks: Set<NodeId>
}

export const PENDING_READS_MAX = 65_536

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>()
  private readonly queue: string[] = []

  /** Queues a read at commit index `index`. Duplicates of a pending context are ignored. */
  addRequest(index: number, m: Message): boolean {
    const key = contextKey(m.context)
    if (this.pending.has(key)) return true
    if (this.queue.length >= PENDING_READS_MAX) return false
    this.pending.set(key, { req: m, index, acks: new Set() })
    this.queue.push(key)
    return true
  }

  /** Records a heartbeat answer carrying `context`; returns who has acknowledged it, if it is pending. */
  recvAck(from: NodeId, context: Uint8Array | undefined): Set<NodeId> | undefined {
    const status = this.pending.get(contextKey(context))
    if (!status) return undefined
    status.acks.add(from)
    return status.acks
  }

  /** Releases every read queued up to and including the one with `context` (earlier ones are confirmed too). */
  advance(context: Uint8Array | undefined): ReadIndexStatus[] {
    const key = contextKey(context)
    const at = this.queue.indexOf(key)
    if (at < 0) return []
    const released = this.queue.splice(0, at + 1)
    const out: ReadIndexStatus[] = []
    for (const k of released) {
      const status = this.pending.get(k)
      if (!status) throw new Error('read-only queue and pending map disagree')
      this.pending.delete(k)
      out.push(status)
    }
    return out
  }

  /** The context of the newest pending read: heartbeats carry it so one round confirms all reads. */
  lastPendingRequestContext(): Uint8Array | undefined {
    const key = this.queue[this.queue.length - 1]
    return key === undefined ? undefined : this.pending.get(key)!.req.context
  }

  size(): number {
    return this.queue.length
  }
}

function contextKey(context: Uint8Array | undefined): string {
  if (!context) return ''
  let s = ''
  for (const b of context) s += b.toString(16).padStart(2, '0')
  return s
}
