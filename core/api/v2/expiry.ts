// TTL expiry of v2 nodes, driven by the leader's clock as etcd's v2 store is (its leader sends a
// SYNC every 500 ms and every member deletes what has expired by then).
//
// Each node with a TTL has an expiry index key ordered by expiry time, so the leader finds what is
// due with one short range read. An expired node is deleted by its own guarded txn — one `expire`
// event with prevNode, a directory taking its subtree along — unless a concurrent write changed it
// first (then the guard fails and the next tick looks again). Index keys whose node is gone or has
// another expiry (left behind when an ancestor directory was deleted) are dropped silently.

import type { Logger } from 'pino'
import { expiredRange, expiryKey, parseExpiryKey } from './layout.ts'
import { deleteNode } from './plan.ts'
import type { V2Store } from './store.ts'

export const expiryIntervalMs = 500
/** Expiry index keys looked at per tick; the rest wait for the next tick. */
export const expiryBatchKeysMax = 128

export class ExpiryLoop {
  private timer: NodeJS.Timeout | undefined
  private running = false

  constructor(
    private readonly store: V2Store,
    private readonly isLeader: () => boolean,
    private readonly logger: Logger | undefined,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.maybeTick(), expiryIntervalMs)
    this.timer.unref?.()
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private async maybeTick(): Promise<void> {
    if (this.running || !this.isLeader()) return
    this.running = true
    try {
      await this.tick()
    } catch (e) {
      // Not leader any more, no quorum, stopping: the next leader's loop (or our next tick) retries.
      this.logger?.debug({ err: (e as Error).message }, 'v2 expiry tick failed')
    } finally {
      this.running = false
    }
  }

  /** Expires what is due now; answers how many nodes expired. */
  async tick(): Promise<number> {
    const now = this.store.clock()
    const backend = this.store.backend
    const due = await backend.range({ ...expiredRange(now), limit: expiryBatchKeysMax })
    let expired = 0
    for (const kv of due.kvs) {
      const entry = parseExpiryKey(kv.key)
      if (entry === undefined) continue
      const revision = backend.currentRevision()
      const node = await this.store.readNode(entry.path, revision)
      if (node === undefined || node.expirationMs !== entry.expirationMs) {
        await backend.txn({ success: [{ requestDeleteRange: { key: expiryKey(entry.expirationMs, entry.path) } }] })
        continue
      }
      if (await this.store.commit(deleteNode('expire', node, now, false))) {
        this.store.stats.count('expire', true)
        expired++
      }
    }
    return expired
  }
}
