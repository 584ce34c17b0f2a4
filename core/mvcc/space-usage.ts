// How much space the keyspace uses, as the backend quota counts it: the bytes clients stored that the
// store still keeps, counted the way etcd's backend holds them — each live key with its value, and
// each retained history event with its key and the value it wrote (a delete counts its key only).
// Copies of previous values that Cairn keeps in history records (so past revisions can be read), the
// records' small headers, leases and the Raft log are not counted. The count is logical, not RocksDB's
// file sizes: it is the same on every member for the same applied index, grows with every write,
// and falls as soon as keys are deleted and history is compacted — RocksDB reclaims the files later,
// by itself, so its on-disk size could not tell when writes may resume.
//
// Kept up to date from the store's change notifications; computed once by a scan of a consistent
// snapshot view at start and after a snapshot restore (until that scan finishes, the count is low).

import { decodeEventRecord, decodeKeyValueRecord } from './records.ts'
import { prefixHistory, prefixKeyspace, revisionOfHistoryKey } from './layout.ts'
import { decodeSnapshot } from './snapshot-stream.ts'
import type { MvccStore } from './store.ts'
import type { Event, KeyValue, RevisionEvents } from './types.ts'

/** History buckets kept before neighbouring buckets merge (bounds memory whatever the history). */
const historyBucketsMax = 4096

function keyValueBytes(kv: KeyValue): number {
  return kv.key.length + kv.value.length
}

function eventBytes(event: Event): number {
  return event.type === 'PUT' ? keyValueBytes(event.kv) : event.kv.key.length
}

/**
 * Bytes of history by revision, in buckets of `width` revisions; the width doubles when there are
 * too many buckets, so compaction frees history exactly while it is short and to within one bucket
 * when it is long.
 */
export class HistoryBytes {
  private width = 1
  private readonly buckets = new Map<number, number>()
  total = 0

  add(revision: number, bytes: number): void {
    const bucket = Math.floor(revision / this.width)
    this.buckets.set(bucket, (this.buckets.get(bucket) ?? 0) + bytes)
    this.total += bytes
    if (this.buckets.size > historyBucketsMax) this.widen()
  }

  /** Forgets the history of revisions below `revision` (whole buckets only). */
  dropBelow(revision: number): void {
    for (const [bucket, bytes] of this.buckets) {
      if ((bucket + 1) * this.width <= revision) {
        this.buckets.delete(bucket)
        this.total -= bytes
      }
    }
  }

  private widen(): void {
    const merged = new Map<number, number>()
    for (const [bucket, bytes] of this.buckets) merged.set(Math.floor(bucket / 2), (merged.get(Math.floor(bucket / 2)) ?? 0) + bytes)
    this.width *= 2
    this.buckets.clear()
    for (const [bucket, bytes] of merged) this.buckets.set(bucket, bytes)
  }
}

export class SpaceUsage {
  private liveBytes = 0
  private history = new HistoryBytes()
  /** While a scan waits for its view: the revision it will cover is not known yet, so changes wait. */
  private held: RevisionEvents[] | undefined
  private generation = 0
  private readonly unsubscribe: () => void
  /** Resolves when the current scan has been counted. */
  ready: Promise<void> = Promise.resolve()

  constructor(
    private readonly store: MvccStore,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    this.unsubscribe = store.subscribe({
      onRevision: (batch) => (this.held ? this.held.push(batch) : this.count(batch)),
      onCompact: (revision) => this.history.dropBelow(revision),
      onReset: () => this.rescan(),
    })
    this.rescan()
  }

  /** The keyspace's size in bytes, as the quota counts it. */
  bytes(): number {
    return Math.max(0, this.liveBytes + this.history.total)
  }

  close(): void {
    this.generation++
    this.unsubscribe()
  }

  private count(batch: RevisionEvents): void {
    for (const event of batch.events) {
      if (event.type === 'PUT') this.liveBytes += keyValueBytes(event.kv)
      if (event.prevKv !== undefined) this.liveBytes -= keyValueBytes(event.prevKv)
      this.history.add(batch.revision, eventBytes(event))
    }
  }

  private rescan(): void {
    const generation = ++this.generation
    this.liveBytes = 0
    this.history = new HistoryBytes()
    this.held = []
    this.ready = this.scan(generation).catch((error: unknown) => {
      if (generation !== this.generation) return
      this.held = undefined
      this.onError(error)
    })
  }

  private async scan(generation: number): Promise<void> {
    const snapshot = await this.store.snapshot()
    if (generation !== this.generation) {
      await snapshot.chunks.return?.()
      return
    }
    // Changes notified before the view was opened are in it; later ones are counted on top.
    for (const batch of this.held ?? []) if (batch.revision > snapshot.revision) this.count(batch)
    this.held = undefined
    // Scanned revisions are all at or below the view's, counted changes all above: they never overlap.
    for await (const item of decodeSnapshot(snapshot.chunks)) {
      if (generation !== this.generation) {
        await snapshot.chunks.return?.()
        return
      }
      if (!('entry' in item)) continue
      const { key, value } = item.entry
      if (key[0] === prefixKeyspace) this.liveBytes += keyValueBytes(decodeKeyValueRecord(key.subarray(1), value))
      else if (key[0] === prefixHistory) this.history.add(revisionOfHistoryKey(key), eventBytes(decodeEventRecord(value)))
    }
    // A compaction during the scan may have come before the scan reached the history it frees.
    this.history.dropBelow(this.store.compactRevision())
  }
}
