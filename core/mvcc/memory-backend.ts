// In-memory twin of the RocksDB backend: one sorted array, copy-on-write so that open iterators keep
// the state they started with while writes go on (the contract of KvBackend.iterate).

import type { BackendEntry, BackendIterator, BackendOp, IterateOptions, KvBackend } from './backend.ts'
import { compareBytes } from './bytes.ts'
import { iteratorBatchEntries } from './limits.ts'

/** Index of the first entry whose key is >= key. */
function lowerBound(entries: readonly BackendEntry[], key: Uint8Array): number {
  let low = 0
  let high = entries.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (compareBytes(entries[middle]!.key, key) < 0) low = middle + 1
    else high = middle
  }
  return low
}

export class MemoryBackend implements KvBackend {
  private entries: BackendEntry[] = []
  /** Set while an iterator may hold `entries`; the next write then copies before changing it. */
  private shared = false

  get size(): number {
    return this.entries.length
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const i = lowerBound(this.entries, key)
    const entry = this.entries[i]
    return entry !== undefined && compareBytes(entry.key, key) === 0 ? entry.value : undefined
  }

  iterate(options: IterateOptions): BackendIterator {
    this.shared = true
    const view = this.entries
    const first = lowerBound(view, options.gte)
    const end = lowerBound(view, options.lt)
    const reverse = options.reverse === true
    let position = reverse ? end - 1 : first
    return {
      next: async () => {
        const batch: BackendEntry[] = []
        while (batch.length < iteratorBatchEntries && position >= first && position < end) {
          batch.push(view[position]!)
          position += reverse ? -1 : 1
        }
        return batch
      },
      close: async () => {
        position = -1
      },
    }
  }

  async write(ops: BackendOp[]): Promise<void> {
    if (this.shared) {
      this.entries = this.entries.slice()
      this.shared = false
    }
    for (const op of ops) {
      const i = lowerBound(this.entries, op.key)
      const found = i < this.entries.length && compareBytes(this.entries[i]!.key, op.key) === 0
      if (op.type === 'put') {
        const entry = { key: op.key.slice(), value: op.value.slice() }
        if (found) this.entries[i] = entry
        else this.entries.splice(i, 0, entry)
      } else if (found) {
        this.entries.splice(i, 1)
      }
    }
  }
}
