// Linearizable reads by ReadIndex, batched: every read that arrives while no request is outstanding
// joins the next batch; one Raft ReadIndex request (one heartbeat round on the leader) serves the whole
// batch. A read that arrives after a batch was issued waits for the next one, because the confirmation
// must happen after the read began.

import { CairnError } from '../errors.ts'

export const READS_WAITING_MAX = 100_000

interface PendingRead {
  resolve: () => void
  reject: (err: Error) => void
  /** When the read gives up (Timeout), however many ReadIndex rounds it took part in. */
  deadlineMs: number
}

export interface ReadIndexDeps {
  /** Unique per member: the leader keys pending reads by context, so contexts must not collide across members. */
  contextPrefix: string
  /** Issues a Raft ReadIndex request with this context. */
  requestReadIndex: (context: Uint8Array) => void
  appliedIndex: () => number
}

export class ReadIndexBatcher {
  private next: PendingRead[] = []
  /** Issued batches by context, waiting for their ReadState. */
  private readonly issued = new Map<string, { reads: PendingRead[]; timer: NodeJS.Timeout }>()
  /** Confirmed batches waiting for the local applied index to reach their read index. */
  private confirmed: Array<{ index: number; reads: PendingRead[] }> = []
  private sequence = 0
  private waiting = 0

  /**
   * @param timeoutMs how long one read may wait in all
   * @param retryMs how long one ReadIndex request may stay unanswered before its reads are asked for
   *   again: Raft drops a request silently (no leader, leader changing, a lost message), and one lost
   *   request must not stall every read on the member until the timeout.
   */
  constructor(
    private readonly deps: ReadIndexDeps,
    private readonly timeoutMs: number,
    private readonly retryMs = Math.min(1000, timeoutMs),
  ) {}

  /** Resolves once a read may be served locally and still be linearizable. */
  barrier(): Promise<void> {
    if (this.waiting >= READS_WAITING_MAX) return Promise.reject(new CairnError('TooManyRequests'))
    this.waiting++
    return new Promise<void>((resolve, reject) => {
      this.next.push({
        deadlineMs: Date.now() + this.timeoutMs,
        resolve: () => {
          this.waiting--
          resolve()
        },
        reject: (e) => {
          this.waiting--
          reject(e)
        },
      })
    })
  }

  /** Issues the waiting batch, if any and if none is outstanding. Called from the member's loop. */
  flush(): void {
    if (this.next.length === 0 || this.issued.size > 0) return
    const reads = this.next
    this.next = []
    this.sequence++
    const key = `${this.deps.contextPrefix}:${this.sequence}`
    const context = new TextEncoder().encode(key)
    // Raft drops a ReadIndex silently (no leader, a lost message): ask again after retryMs; each read
    // gives up only at its own deadline.
    const timer = setTimeout(() => {
      const batch = this.issued.get(key)
      if (!batch) return
      this.issued.delete(key)
      const now = Date.now()
      const retry: PendingRead[] = []
      for (const r of batch.reads) {
        if (r.deadlineMs <= now) r.reject(new CairnError('Timeout'))
        else retry.push(r)
      }
      this.next = [...retry, ...this.next]
      this.flush()
    }, this.retryMs)
    timer.unref?.()
    this.issued.set(key, { reads, timer })
    this.deps.requestReadIndex(context)
  }

  /**
   * The leader changed: requests in flight to the old one are lost. Their reads join the next batch
   * (confirming later than they began is still linearizable) instead of waiting for a timeout.
   */
  reissue(): void {
    if (this.issued.size === 0) return
    const retried: PendingRead[] = []
    for (const b of this.issued.values()) {
      clearTimeout(b.timer)
      retried.push(...b.reads)
    }
    this.issued.clear()
    this.next = [...retried, ...this.next]
  }

  /** A ReadState arrived from Raft. */
  onReadState(index: number, context: Uint8Array): void {
    const key = new TextDecoder().decode(context)
    const batch = this.issued.get(key)
    if (!batch) return
    this.issued.delete(key)
    clearTimeout(batch.timer)
    this.confirmed.push({ index, reads: batch.reads })
    this.onApplied()
    this.flush()
  }

  /** The applied index moved: release confirmed batches whose index is now applied. */
  onApplied(): void {
    if (this.confirmed.length === 0) return
    const applied = this.deps.appliedIndex()
    const still: typeof this.confirmed = []
    for (const c of this.confirmed) {
      if (c.index <= applied) for (const r of c.reads) r.resolve()
      else still.push(c)
    }
    this.confirmed = still
  }

  failAll(err: Error): void {
    for (const r of this.next) r.reject(err)
    this.next = []
    for (const b of this.issued.values()) {
      clearTimeout(b.timer)
      for (const r of b.reads) r.reject(err)
    }
    this.issued.clear()
    for (const c of this.confirmed) for (const r of c.reads) r.reject(err)
    this.confirmed = []
  }
}
