// A bounded priority queue of timed events. Ties on time are broken by insertion order, so the
// order of events, and with it the whole run, is a function of the seed alone.

export interface Timed<T> {
  time: number
  /** Insertion sequence number: the tie breaker. */
  sequence: number
  event: T
}

export class EventQueue<T> {
  private heap: Timed<T>[] = []
  private sequenceNext = 0

  constructor(readonly eventsMax: number) {
    if (!(eventsMax > 0)) throw new RangeError(`eventsMax must be positive, got ${eventsMax}`)
  }

  get length(): number {
    return this.heap.length
  }

  /** Returns false (and queues nothing) when full: callers treat that as a dropped event. */
  push(time: number, event: T): boolean {
    if (!Number.isSafeInteger(time) || time < 0) throw new Error(`event-queue: bad time ${time}`)
    if (this.heap.length >= this.eventsMax) return false
    this.heap.push({ time, sequence: this.sequenceNext++, event })
    this.siftUp(this.heap.length - 1)
    return true
  }

  peekTime(): number | undefined {
    return this.heap[0]?.time
  }

  pop(): Timed<T> | undefined {
    const top = this.heap[0]
    if (top === undefined) return undefined
    const last = this.heap.pop()!
    if (this.heap.length > 0) {
      this.heap[0] = last
      this.siftDown(0)
    }
    return top
  }

  private less(a: Timed<T>, b: Timed<T>): boolean {
    return a.time < b.time || (a.time === b.time && a.sequence < b.sequence)
  }

  private siftUp(i: number): void {
    const heap = this.heap
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(heap[i]!, heap[parent]!)) break
      const tmp = heap[i]!
      heap[i] = heap[parent]!
      heap[parent] = tmp
      i = parent
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap
    const n = heap.length
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let smallest = i
      if (left < n && this.less(heap[left]!, heap[smallest]!)) smallest = left
      if (right < n && this.less(heap[right]!, heap[smallest]!)) smallest = right
      if (smallest === i) break
      const tmp = heap[i]!
      heap[i] = heap[smallest]!
      heap[smallest] = tmp
      i = smallest
    }
  }
}
