// A write batch that several owners fill before one write: the Raft log store adds its records, the
// keyspace adds the applied change and the applied index, and all land atomically. Owners that keep an
// in-memory mirror register afterWrite callbacks, which run only once the batch is written, so a
// mirror never runs ahead of what is stored.

export type BatchOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

/** A batch larger than this is refused: it would stall the write path and the fsync behind it. */
export const writeBatchBytesMax = 512 * 1024 * 1024

export class WriteBatch {
  private readonly opsList: BatchOp[] = []
  private readonly callbacks: Array<() => void> = []
  private bytes = 0
  private claimed = false

  get ops(): readonly BatchOp[] {
    return this.opsList
  }

  /** Keys plus values, the figure writeBatchBytesMax bounds. */
  get byteLength(): number {
    return this.bytes
  }

  put(key: Uint8Array, value: Uint8Array): this {
    this.assertOpen()
    this.grow(key.length + value.length)
    this.opsList.push({ type: 'put', key, value })
    return this
  }

  del(key: Uint8Array): this {
    this.assertOpen()
    this.grow(key.length)
    this.opsList.push({ type: 'del', key })
    return this
  }

  /** Runs `callback` after the batch is written successfully, in registration order. */
  afterWrite(callback: () => void): this {
    this.callbacks.push(callback)
    return this
  }

  /** Called by Db implementations before writing: a batch is written once, and not changed after. */
  claim(): void {
    this.assertOpen()
    this.claimed = true
  }

  /** Called by Db implementations once the write succeeded. */
  runAfterWrite(): void {
    for (const callback of this.callbacks) callback()
  }

  private assertOpen(): void {
    if (this.claimed) throw new Error('write batch was already handed to Db.write')
  }

  private grow(countBytes: number): void {
    if (this.bytes + countBytes > writeBatchBytesMax) {
      throw new RangeError(`write batch would exceed ${writeBatchBytesMax} bytes`)
    }
    this.bytes += countBytes
  }
}
