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

interface Slot {
  /** undefined: the key was deleted (a tombstone; nothing is known about it). */
  kv: KeyValue | undefined
  stamp: number
  bytes: number
}

export class RecentKeys {
  // A key's slot is updated in place and leaves the Map only when evicted. V8 keeps a deleted Map
  // entry in its bucket's chain until the next rehash, so deleting and re-adding one hot key (the
  // v2 action record, a lock taken and released) made every lookup of it walk a chain as long as
  // the number of writes since the last rehash: 160 us per write in a standalone measurement.
  private readonly slots = new Map<string, Slot>()
  // Write order, oldest first, as parallel arrays from `head` on; an element is stale once its key was
  // written again (the stamps differ). Eviction walks this queue, never the Map from its start (which
  // would pass over every slot deleted since the Map last rehashed).
  private queueIds: string[] = []
  private queueStamps: number[] = []
  private head = 0
  private stamp = 0
  private bytes = 0
  private live = 0

  constructor(private readonly bytesMax = recentKeysBytesDefault) {}

  /** Keys whose latest state is held. */
  get size(): number {
    return this.live
  }

  /** The key's latest state if it was written recently; undefined when unknown (not: absent). */
  get(id: string): KeyValue | undefined {
    return this.slots.get(id)?.kv
  }

  /** Records the key's new state (undefined: deleted). The newest writes are the last to be evicted. */
  set(id: string, kv: KeyValue | undefined): void {
    const size = kv === undefined ? 0 : sizeOf(kv)
    // A deleted key, or one large value (which must not flush the hot keys), is not held.
    const held = kv !== undefined && size <= this.bytesMax / 4 ? kv : undefined
    const bytes = held === undefined ? id.length + entryOverheadBytes : size
    const slot = this.slots.get(id)
    if (slot === undefined) {
      if (held === undefined) return
      this.slots.set(id, { kv: held, stamp: this.enqueue(id), bytes })
      this.live++
    } else {
      this.live += (held === undefined ? 0 : 1) - (slot.kv === undefined ? 0 : 1)
      this.bytes -= slot.bytes
      slot.kv = held
      slot.bytes = bytes
      slot.stamp = this.enqueue(id)
    }
    this.bytes += bytes
    this.evict()
  }

  clear(): void {
    this.slots.clear()
    this.bytes = 0
    this.live = 0
    this.queueIds = []
    this.queueStamps = []
    this.head = 0
  }

  /** Length of the eviction queue, stale elements included (bounded by about twice the slots). */
  get queueLength(): number {
    return this.queueIds.length
  }

  private enqueue(id: string): number {
    const stamp = ++this.stamp
    this.queueIds.push(id)
    this.queueStamps.push(stamp)
    return stamp
  }

  private evict(): void {
    while (this.bytes > this.bytesMax && this.head < this.queueIds.length) {
      const oldest = this.queueIds[this.head]!
      const slot = this.slots.get(oldest)
      if (slot !== undefined && slot.stamp === this.queueStamps[this.head]) {
        this.slots.delete(oldest)
        this.bytes -= slot.bytes
        if (slot.kv !== undefined) this.live--
      }
      this.head++
    }
    const queued = this.queueIds.length - this.head
    if (queued > 2 * this.slots.size + 1024 || (this.head > 4096 && this.head * 2 > this.queueIds.length)) this.compactQueue()
  }

  /** Drops stale and consumed queue elements, keeping the write order. */
  private compactQueue(): void {
    const ids: string[] = []
    const stamps: number[] = []
    for (let i = this.head; i < this.queueIds.length; i++) {
      const id = this.queueIds[i]!
      const stamp = this.queueStamps[i]!
      if (this.slots.get(id)?.stamp === stamp) {
        ids.push(id)
        stamps.push(stamp)
      }
    }
    this.queueIds = ids
    this.queueStamps = stamps
    this.head = 0
  }
}

function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + entryOverheadBytes
}
