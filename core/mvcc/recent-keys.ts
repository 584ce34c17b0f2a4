// The latest state of recently written keys, kept in memory so that applying a write does not read
// its key back from RocksDB: a point read of a present key costs several microseconds (the binding
// copies the record into a new buffer), and every member pays it for every put it applies.
// Coordination keyspaces are small and hot (locks, leases, leaders, config), so a bounded cache of
// the most recently written keys answers most of them.
//
// Only the store's apply path writes it, after an entry is applied, in apply order; it holds live keys
// only (a delete evicts). The store clears it when a snapshot replaces the keyspace.

import type { KeyValue } from './types.ts'

/** Default budget: keys and values, plus a fixed estimate per entry for the objects around them. */
export const recentKeysBytesDefault = 32 * 1024 * 1024
const entryOverheadBytes = 160

export class RecentKeys {
  private readonly entries = new Map<string, { kv: KeyValue; stamp: number }>()
  // Write order, oldest first, as parallel arrays from `head` on; an element is stale once its key was
  // written again (its stamp no longer matches). Eviction walks this queue: walking the Map from its
  // start instead would pass over every slot deleted since the Map last rehashed, which made each
  // eviction cost O(size) once the cache was full.
  private queueIds: string[] = []
  private queueStamps: number[] = []
  private head = 0
  private stamp = 0
  private bytes = 0

  constructor(private readonly bytesMax = recentKeysBytesDefault) {}

  get size(): number {
    return this.entries.size
  }

  /** The key's latest state if it was written recently; undefined when unknown (not: absent). */
  get(id: string): KeyValue | undefined {
    return this.entries.get(id)?.kv
  }

  /** Records the key's new state (undefined: deleted). The newest writes are the last to be evicted. */
  set(id: string, kv: KeyValue | undefined): void {
    const old = this.entries.get(id)
    if (old !== undefined) {
      this.entries.delete(id)
      this.bytes -= sizeOf(old.kv)
    }
    if (kv === undefined) return
    const size = sizeOf(kv)
    if (size > this.bytesMax / 4) return // one large value must not flush the hot keys
    const stamp = ++this.stamp
    this.entries.set(id, { kv, stamp })
    this.bytes += size
    this.queueIds.push(id)
    this.queueStamps.push(stamp)
    while (this.bytes > this.bytesMax && this.head < this.queueIds.length) {
      const oldest = this.queueIds[this.head]!
      const current = this.entries.get(oldest)
      if (current !== undefined && current.stamp === this.queueStamps[this.head]) {
        this.entries.delete(oldest)
        this.bytes -= sizeOf(current.kv)
      }
      this.head++
    }
    const queued = this.queueIds.length - this.head
    if (queued > 2 * this.entries.size + 1024 || (this.head > 4096 && this.head * 2 > this.queueIds.length)) this.rebuildQueue()
  }

  /** Length of the eviction queue, stale elements included (bounded by about twice the size). */
  get queueLength(): number {
    return this.queueIds.length
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
    this.rebuildQueue()
  }

  /** Drops stale queue elements (rewritten or deleted keys); the Map's order is the write order. */
  private rebuildQueue(): void {
    this.queueIds = []
    this.queueStamps = []
    this.head = 0
    for (const [id, { stamp }] of this.entries) {
      this.queueIds.push(id)
      this.queueStamps.push(stamp)
    }
  }
}

function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + entryOverheadBytes
}
