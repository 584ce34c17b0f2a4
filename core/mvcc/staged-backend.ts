// A write buffer over a backend, so that many applied entries reach the disk in one batch: writes are
// held in memory, reads see them merged over the backend, and flush() writes them all atomically.
// The store applies a whole group of committed entries through one of these; RocksDB then does one
// write (one memtable insert, one WAL append) per group instead of one per entry.
//
// Invariant: while a StagedBackend is in use, nobody else writes the backend beneath it (the store's
// serial queue guarantees it), so "backend + pending" is the current state.

import type { BackendEntry, BackendIterator, BackendOp, IterateOptions, KvBackend } from './backend.ts'
import { bytesToBinaryString, compareBytes } from './bytes.ts'

/** Bound on buffered operations; past it, the caller should flush (keeps memory and merge costs small). */
export const stagedOpsMax = 50_000

export class StagedBackend implements KvBackend {
  /** Latest op per key; a later write of a key replaces the earlier one. */
  private pending = new Map<string, BackendOp>()

  constructor(private readonly base: KvBackend) {}

  get size(): number {
    return this.pending.size
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const op = this.pending.get(bytesToBinaryString(key))
    if (op !== undefined) return op.type === 'put' ? op.value : undefined
    return this.base.get(key)
  }

  iterate(options: IterateOptions): BackendIterator {
    // Both views are taken now: the base iterator at its creation, the pending ops copied here.
    const reverse = options.reverse === true
    const overlay: BackendOp[] = []
    for (const op of this.pending.values()) {
      if (compareBytes(op.key, options.gte) >= 0 && compareBytes(op.key, options.lt) < 0) overlay.push(op)
    }
    const base = this.base.iterate(options)
    if (overlay.length === 0) return base
    overlay.sort((a, b) => (reverse ? compareBytes(b.key, a.key) : compareBytes(a.key, b.key)))
    return mergeIterator(base, overlay, reverse)
  }

  async write(ops: BackendOp[]): Promise<void> {
    for (const op of ops) this.pending.set(bytesToBinaryString(op.key), op)
  }

  /** Writes everything buffered to the base backend as one atomic batch, and empties the buffer. */
  async flush(options?: { sync?: boolean }): Promise<void> {
    if (this.pending.size === 0) return
    const ops = [...this.pending.values()]
    this.pending = new Map()
    await this.base.write(ops, options)
  }
}

/** The base iterator's entries with `overlay` (sorted in iteration order) laid over them. */
function mergeIterator(base: BackendIterator, overlay: BackendOp[], reverse: boolean): BackendIterator {
  let chunk: BackendEntry[] = []
  let chunkPosition = 0
  let baseDone = false
  let overlayPosition = 0
  const before = (a: Uint8Array, b: Uint8Array) => (reverse ? compareBytes(a, b) > 0 : compareBytes(a, b) < 0)
  const emitOverlay = (out: BackendEntry[]) => {
    const op = overlay[overlayPosition++]!
    if (op.type === 'put') out.push({ key: op.key, value: op.value })
  }
  return {
    next: async () => {
      for (;;) {
        const out: BackendEntry[] = []
        if (chunkPosition >= chunk.length && !baseDone) {
          chunk = await base.next()
          chunkPosition = 0
          if (chunk.length === 0) baseDone = true
        }
        while (chunkPosition < chunk.length) {
          const entry = chunk[chunkPosition]!
          const op = overlay[overlayPosition]
          if (op !== undefined && before(op.key, entry.key)) {
            emitOverlay(out)
          } else if (op !== undefined && compareBytes(op.key, entry.key) === 0) {
            emitOverlay(out)
            chunkPosition++
          } else {
            out.push(entry)
            chunkPosition++
          }
        }
        // Overlay keys past the base's last key wait for its next chunk, unless the base is done.
        if (baseDone) while (overlayPosition < overlay.length) emitOverlay(out)
        if (out.length > 0 || (baseDone && overlayPosition >= overlay.length)) return out
      }
    },
    close: () => base.close(),
  }
}
