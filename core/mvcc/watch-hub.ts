// Fans the keyspace's changes out to watchers with etcd's guarantees: events in revision order, each
// once, every revision's events together in one response, none missed (resumable from any revision
// not yet compacted).
//
// A watcher is either synced — it gets each revision as apply() notifies it, if its queue has room —
// or unsynced, with the next revision it has not seen. An unsynced watcher catches up when its
// consumer asks for more: from the in-memory ring of recent revisions, else from stored history, and
// rejoins the synced set in the same synchronous step in which it reaches the newest revision, so
// nothing can slip between. Notification does O(1) work per interested watcher and never waits.

import { CompactedError, errorDefinitions, InvalidArgumentError } from '../errors.ts'
import { bytesToBinaryString } from './bytes.ts'
import { toInterval } from './interval.ts'
import { historyReadEventsMax } from './limits.ts'
import type { Event, RevisionEvents } from './types.ts'
import { checkKey } from './validate.ts'
import { Watcher, type WatcherOwner } from './watcher.ts'
import { RevisionRing } from './watch-ring.ts'
import { watchFilterTypes, type WatchCreateRequest, type WatchResponse, type WatchSource } from './watch-types.ts'

export interface WatchHubOptions {
  /** Events a watcher may have queued before it is moved to unsynced. */
  watcherBufferEventsMax?: number
  /** Events read from history per catch-up step. */
  catchUpEventsMax?: number
  /** Events of recent revisions kept in memory for catch-up. */
  ringEventsMax?: number
}

export const watcherBufferEventsMaxDefault = 1000
export const ringEventsMaxDefault = 10_000

const compactedReason = errorDefinitions.Compacted.message

function validateWatch(request: WatchCreateRequest): void {
  checkKey(request.key)
  if (request.rangeEnd !== undefined && !(request.rangeEnd instanceof Uint8Array)) {
    throw new InvalidArgumentError('range_end must be bytes')
  }
  const start = request.startRevision
  if (start !== undefined && (typeof start !== 'number' || !Number.isSafeInteger(start) || start < 0)) {
    throw new InvalidArgumentError(`start_revision must be a non-negative integer, got ${String(start)}`)
  }
  for (const filter of request.filters ?? []) {
    if (!(watchFilterTypes as readonly string[]).includes(filter)) throw new InvalidArgumentError(`unknown watch filter ${String(filter)}`)
  }
}

export class WatchHub implements WatcherOwner {
  private readonly bufferEventsMax: number
  private readonly catchUpEventsMax: number
  private readonly ring: RevisionRing
  private readonly singleKey = new Map<string, Set<Watcher>>()
  private readonly ranges = new Set<Watcher>()
  private readonly all = new Set<Watcher>()
  private readonly unsubscribe: () => void
  private head: number
  private nextId = 1
  private closed = false

  constructor(
    private readonly source: WatchSource,
    options: WatchHubOptions = {},
  ) {
    this.bufferEventsMax = options.watcherBufferEventsMax ?? watcherBufferEventsMaxDefault
    this.catchUpEventsMax = options.catchUpEventsMax ?? historyReadEventsMax
    this.ring = new RevisionRing(options.ringEventsMax ?? ringEventsMaxDefault)
    this.head = source.currentRevision()
    this.unsubscribe = source.subscribe({
      onRevision: (batch) => this.onRevision(batch),
      onCompact: (revision) => this.ring.dropBelow(revision),
      onReset: () => this.onReset(),
    })
  }

  get watcherCount(): number {
    return this.all.size
  }

  /**
   * Starts a watch. Its first response is `created`; events follow. `watchId` is the ID reported in
   * responses (the server's per-stream ID); by default the hub numbers watchers itself.
   * Throws a CairnError for a malformed request.
   */
  watch(request: WatchCreateRequest, watchId?: number): Watcher {
    if (this.closed) throw new Error('WatchHub is closed')
    validateWatch(request)
    const start = request.startRevision ?? 0
    const filters = request.filters ?? []
    const watcher = new Watcher(
      {
        id: watchId ?? this.nextId++,
        interval: toInterval(request.key, request.rangeEnd),
        startRevision: start,
        prevKv: request.prevKv === true,
        noPut: filters.includes('NOPUT'),
        noDelete: filters.includes('NODELETE'),
        progressNotify: request.progressNotify === true,
      },
      this,
    )
    this.all.add(watcher)
    watcher.enqueue({ header: { revision: this.head }, created: true, canceled: false, compactRevision: 0, cancelReason: '', events: [] })
    if (start === 0 || start > this.head) this.makeSynced(watcher)
    else watcher.nextRevision = start
    return watcher
  }

  private indexKey(watcher: Watcher): string | undefined {
    const { interval } = watcher.spec
    return interval.end !== undefined && interval.end.length === interval.start.length + 1 && interval.end.at(-1) === 0
      ? bytesToBinaryString(interval.start)
      : undefined
  }

  private makeSynced(watcher: Watcher): void {
    watcher.synced = true
    const key = this.indexKey(watcher)
    if (key === undefined) this.ranges.add(watcher)
    else {
      let set = this.singleKey.get(key)
      if (set === undefined) this.singleKey.set(key, (set = new Set()))
      set.add(watcher)
    }
    if (watcher.progressPending) {
      watcher.progressPending = false
      this.queueProgress(watcher)
    }
  }

  private makeUnsynced(watcher: Watcher, nextRevision: number): void {
    if (watcher.synced) {
      watcher.synced = false
      const key = this.indexKey(watcher)
      if (key === undefined) this.ranges.delete(watcher)
      else {
        const set = this.singleKey.get(key)
        set?.delete(watcher)
        if (set?.size === 0) this.singleKey.delete(key)
      }
    }
    watcher.nextRevision = nextRevision
    watcher.signal()
  }

  private remove(watcher: Watcher): void {
    this.makeUnsynced(watcher, 0)
    this.all.delete(watcher)
  }

  cancel(watcher: Watcher, reason: string): void {
    if (watcher.isEnded) return
    this.remove(watcher)
    watcher.end({ header: { revision: this.head }, created: false, canceled: true, compactRevision: 0, cancelReason: reason, events: [] })
  }

  private onRevision(batch: RevisionEvents): void {
    this.head = batch.revision
    this.ring.push(batch)
    const interested = new Set<Watcher>(this.ranges)
    for (const event of batch.events) {
      for (const w of this.singleKey.get(bytesToBinaryString(event.kv.key)) ?? []) interested.add(w)
    }
    for (const watcher of interested) {
      const events = watcher.select(batch)
      if (events.length === 0) continue
      const full = watcher.queuedResponses > 0 && watcher.queuedEvents + events.length > this.bufferEventsMax
      if (full) this.makeUnsynced(watcher, batch.revision)
      else watcher.enqueue(this.eventsResponse(events))
    }
  }

  private eventsResponse(events: Event[]): Omit<WatchResponse, 'watchId'> {
    return { header: { revision: this.head }, created: false, canceled: false, compactRevision: 0, cancelReason: '', events }
  }

  private onReset(): void {
    const previousHead = this.head
    this.head = this.source.currentRevision()
    this.ring.clear()
    for (const watcher of this.all) {
      if (watcher.synced) this.makeUnsynced(watcher, previousHead + 1)
    }
  }

  /** One catch-up step for an unsynced watcher whose queue is empty (called from Watcher.next()). */
  async catchUp(watcher: Watcher): Promise<void> {
    const compactRevision = this.source.compactRevision()
    if (watcher.nextRevision < compactRevision) return this.endCompacted(watcher, compactRevision)
    let read = this.ring.read(watcher.nextRevision, this.catchUpEventsMax, this.head)
    if (read === undefined) {
      try {
        const history = await this.source.readHistory(watcher.nextRevision, this.catchUpEventsMax)
        read = { revisions: history.revisions, through: history.throughRevision }
      } catch (error) {
        if (error instanceof CompactedError) return this.endCompacted(watcher, error.compactRevision)
        throw error
      }
    }
    if (watcher.isEnded || watcher.synced) return
    for (const batch of read.revisions) {
      const events = watcher.select(batch)
      if (events.length > 0) watcher.enqueue(this.eventsResponse(events))
    }
    watcher.nextRevision = Math.max(watcher.nextRevision, read.through + 1)
    // Same synchronous step as the check: no revision can be notified in between.
    if (watcher.nextRevision > this.head) this.makeSynced(watcher)
  }

  private endCompacted(watcher: Watcher, compactRevision: number): void {
    this.remove(watcher)
    watcher.end({ header: { revision: this.head }, created: false, canceled: true, compactRevision, cancelReason: compactedReason, events: [] })
  }

  private queueProgress(watcher: Watcher): void {
    const last = watcher.lastQueued()
    if (last !== undefined && last.events.length === 0 && !last.created && !last.canceled) return
    watcher.enqueue({ header: { revision: this.head }, created: false, canceled: false, compactRevision: 0, cancelReason: '', events: [] })
  }

  /**
   * A progress notice (empty response carrying the current revision) for the watcher: at once if it
   * is synced, otherwise as soon as it has caught up — so its revision never runs ahead of events.
   */
  requestProgress(watcher: Watcher): void {
    if (watcher.isEnded) return
    if (watcher.synced) this.queueProgress(watcher)
    else watcher.progressPending = true
  }

  /**
   * The periodic progress_notify tick (the server calls it from its timer, etcd uses 10 minutes):
   * synced watchers that asked for it and got no events since the last tick get a progress notice.
   */
  notifyProgress(): void {
    for (const watcher of this.all) {
      if (watcher.spec.progressNotify && watcher.synced && !watcher.eventsSinceProgress && watcher.queuedResponses === 0) {
        this.queueProgress(watcher)
      }
      watcher.eventsSinceProgress = false
    }
  }

  /** True when every given watcher is synced: the server answers a stream's progress request then. */
  allSynced(watchers: Iterable<Watcher>): boolean {
    for (const w of watchers) if (!w.synced && !w.isEnded) return false
    return true
  }

  get headRevision(): number {
    return this.head
  }

  /** Cancels every watcher and detaches from the source. */
  close(): void {
    this.closed = true
    this.unsubscribe()
    for (const watcher of [...this.all]) watcher.cancel('watch hub closed')
  }
}
