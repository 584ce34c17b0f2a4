// Runs tasks one at a time, in call order. The store applies entries through it, and readers open
// their backend views through it, so a view never sees half of an entry's in-memory bookkeeping.

export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve()

  run<T>(task: () => Promise<T> | T): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => undefined)
    return result
  }
}
