// The ordered key-value store the keyspace is written to: the smallest interface both an in-memory
// map and RocksDB can honour. Keys order as unsigned bytes.

export interface BackendEntry {
  key: Uint8Array
  value: Uint8Array
}

export type BackendOp = { type: 'put'; key: Uint8Array; value: Uint8Array } | { type: 'del'; key: Uint8Array }

export interface IterateOptions {
  gte: Uint8Array
  lt: Uint8Array
  reverse?: boolean
  /**
   * The range holds few entries (one lease's keys): read it on the calling thread. An empty range
   * cost ~10 us that way and 80-170 us through the thread pool, and every member applying a lease
   * revoke paid it.
   */
  few?: boolean
}

export interface BackendIterator {
  /** The next entries in order; an empty array means the iteration is over. */
  next(): Promise<BackendEntry[]>
  /** Releases the view. Idempotent; must be called unless next() returned an empty array. */
  close(): Promise<void>
}

export interface KvBackend {
  get(key: Uint8Array): Promise<Uint8Array | undefined>
  /**
   * Contract: the view is fixed when iterate() returns. The iteration sees exactly the writes whose
   * write() was called before, none made later — so several iterators opened together (with no
   * write() call in between) see one consistent state.
   */
  iterate(options: IterateOptions): BackendIterator
  /** Applies all ops atomically: a crash leaves all or none of them. */
  write(ops: BackendOp[], options?: { sync?: boolean }): Promise<void>
}

/** Yields every entry of the iterator, closing it however the loop ends. */
export async function* entriesOf(iterator: BackendIterator): AsyncGenerator<BackendEntry> {
  try {
    for (;;) {
      const batch = await iterator.next()
      if (batch.length === 0) return
      yield* batch
    }
  } finally {
    await iterator.close()
  }
}

/**
 * The iterator's entries mapped one by one. Unlike an async generator, return() releases the iterator
 * even when iteration never started, so a scan opened eagerly can always be closed.
 */
export class EntryStream<T> implements AsyncIterableIterator<T> {
  private buffer: BackendEntry[] = []
  private position = 0
  private finished = false

  constructor(
    private readonly iterator: BackendIterator,
    private readonly map: (entry: BackendEntry) => T,
  ) {}

  async next(): Promise<IteratorResult<T, undefined>> {
    try {
      if (this.position >= this.buffer.length) {
        if (this.finished) return { done: true, value: undefined }
        this.buffer = await this.iterator.next()
        this.position = 0
        if (this.buffer.length === 0) return await this.return()
      }
      return { done: false, value: this.map(this.buffer[this.position++]!) }
    } catch (error) {
      await this.return()
      throw error
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    this.finished = true
    this.buffer = []
    await this.iterator.close()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

/** Wraps an iterator so that return() also runs `closers` (each idempotent), started or not. */
export class ClosingIterator<T> implements AsyncIterableIterator<T> {
  constructor(
    private readonly inner: AsyncIterator<T, undefined>,
    private readonly closers: ReadonlyArray<() => Promise<unknown>>,
  ) {}

  async next(): Promise<IteratorResult<T, undefined>> {
    try {
      const result = await this.inner.next()
      if (result.done === true) await this.return()
      return result
    } catch (error) {
      await this.return()
      throw error
    }
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    await this.inner.return?.()
    for (const close of this.closers) await close()
    return { done: true, value: undefined }
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}
