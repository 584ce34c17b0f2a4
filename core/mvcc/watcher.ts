// One watch as its consumer sees it: a bounded queue of responses read with next() (or for await).
// The hub fills the queue; when it would overflow, the hub stops filling it and marks the watcher
// unsynced, and the consumer's next() then catches up from history at its own pace. A slow consumer
// therefore costs memory bounded by its queue and never holds up writers or other watchers.

import type { KeyInterval } from './interval.ts'
import { intervalContains } from './interval.ts'
import type { Event, RevisionEvents } from './types.ts'
import type { WatchResponse } from './watch-types.ts'
import { eventWithoutPrevKv } from './watch-encode.ts'

export interface WatcherSpec {
  id: number
  interval: KeyInterval
  /** Events of earlier revisions are not reported (a start revision in the future). */
  startRevision: number
  prevKv: boolean
  noPut: boolean
  noDelete: boolean
  progressNotify: boolean
}

/** The hub side of a watcher; Watcher calls it to catch up and to cancel. */
export interface WatcherOwner {
  catchUp(watcher: Watcher): Promise<void>
  cancel(watcher: Watcher, reason: string): void
}

export class Watcher implements AsyncIterable<WatchResponse> {
  private readonly queue: WatchResponse[] = []
  private queuedEventCount = 0
  private wake: (() => void) | undefined
  private ended = false
  /** Synced: receives revisions as they are written. Unsynced: must read from `nextRevision` on. */
  synced = false
  nextRevision = 0
  /** A progress notice was asked for while unsynced; send it once synced. */
  progressPending = false
  /** Events were queued since the last periodic progress check. */
  eventsSinceProgress = false

  constructor(
    readonly spec: WatcherSpec,
    private readonly owner: WatcherOwner,
  ) {}

  get id(): number {
    return this.spec.id
  }

  get isEnded(): boolean {
    return this.ended
  }

  get queuedEvents(): number {
    return this.queuedEventCount
  }

  get queuedResponses(): number {
    return this.queue.length
  }

  /** The events of `batch` this watcher reports (shared objects), in order. */
  select(batch: RevisionEvents): Event[] {
    const { spec } = this
    if (batch.revision < spec.startRevision) return []
    const out: Event[] = []
    for (const event of batch.events) {
      if (event.type === 'PUT' ? spec.noPut : spec.noDelete) continue
      if (!intervalContains(spec.interval, event.kv.key)) continue
      out.push(spec.prevKv ? event : eventWithoutPrevKv(event))
    }
    return out
  }

  /** Queues a response (hub only). Bounds are the hub's business: it checks before calling. */
  enqueue(response: Omit<WatchResponse, 'watchId'>): void {
    if (this.ended) return
    this.queue.push({ ...response, watchId: this.spec.id })
    this.queuedEventCount += response.events.length
    if (response.events.length > 0) this.eventsSinceProgress = true
    this.signal()
  }

  /** Wakes a consumer blocked in next() (after the watcher became unsynced, for instance). */
  signal(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Queues a last response and stops (hub only). */
  end(response: Omit<WatchResponse, 'watchId'>): void {
    if (this.ended) return
    this.enqueue(response)
    this.ended = true
    this.signal()
  }

  lastQueued(): WatchResponse | undefined {
    return this.queue[this.queue.length - 1]
  }

  /** The next response; undefined once the watcher has ended and everything was read. */
  async next(): Promise<WatchResponse | undefined> {
    if (this.wake !== undefined) throw new Error('Watcher.next() called while another call is pending')
    for (;;) {
      const response = this.queue.shift()
      if (response !== undefined) {
        this.queuedEventCount -= response.events.length
        return response
      }
      if (this.ended) return undefined
      if (!this.synced) {
        await this.owner.catchUp(this)
        continue
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
  }

  /** Stops the watch (a client's cancel request): a final canceled response is queued. */
  cancel(reason = ''): void {
    this.owner.cancel(this, reason)
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<WatchResponse> {
    for (let r = await this.next(); r !== undefined; r = await this.next()) yield r
  }
}
