// Runs async sections one at a time per key. The v2 store queues this member's writes to one path
// (or in-order creations in one directory) so that they do not race each other's guarded txns into
// repeated retries; only writers on other members still contend, and they are few.

export const keyedLockWaitersMax = 10_000

export class KeyedLock {
  private readonly tails = new Map<string, { tail: Promise<void>; waiters: number }>()

  /** Runs `section` after every earlier section of `key` has finished. */
  async run<T>(key: string, section: () => Promise<T>, onFull: () => Error): Promise<T> {
    const entry = this.tails.get(key) ?? { tail: Promise.resolve(), waiters: 0 }
    if (entry.waiters >= keyedLockWaitersMax) throw onFull()
    const previous = entry.tail
    let release!: () => void
    const done = new Promise<void>((resolve) => (release = resolve))
    entry.tail = previous.then(() => done)
    entry.waiters++
    this.tails.set(key, entry)
    try {
      await previous
      return await section()
    } finally {
      release()
      if (--entry.waiters === 0) this.tails.delete(key)
    }
  }

  /** Keys with a section running or waiting. */
  get size(): number {
    return this.tails.size
  }
}
