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
  private readonly entries = new Map<string, KeyValue>()
  private bytes = 0

  constructor(private readonly bytesMax = recentKeysBytesDefault) {}

  get size(): number {
    return this.entries.size
  }

  /** The key's latest state if it was written recently; undefined when unknown (not: absent). */
  get(id: string): KeyValue | undefined {
    return this.entries.get(id)
  }

  /** Records the key's new state (undefined: deleted). The newest writes are the last to be evicted. */
  set(id: string, kv: KeyValue | undefined): void {
    const old = this.entries.get(id)
    if (old !== undefined) {
      this.entries.delete(id)
      this.bytes -= sizeOf(old)
    }
    if (kv === undefined) return
    const size = sizeOf(kv)
    if (size > this.bytesMax / 4) return // one large value must not flush the hot keys
    this.entries.set(id, kv)
    this.bytes += size
    for (const [oldest, v] of this.entries) {
      if (this.bytes <= this.bytesMax) break
      this.entries.delete(oldest)
      this.bytes -= sizeOf(v)
    }
  }

  clear(): void {
    this.entries.clear()
    this.bytes = 0
  }
}

function sizeOf(kv: KeyValue): number {
  return kv.key.length + kv.value.length + entryOverheadBytes
}
