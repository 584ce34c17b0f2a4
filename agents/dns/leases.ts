// What the DNS server knows of lease lifetimes, to cap record TTLs: the remaining time each lease had
// when last asked, counted down by the clock since. Asking the store costs a round trip, so answers
// never wait for it: a stale or unknown entry is refreshed in the background (bounded in flight and
// queued), and the answer uses what is known (unknown → the zone's minimum TTL, see answer.ts).

export interface LeaseLifetimesOptions {
  /** Remaining seconds of a lease, or -1 when it no longer exists. */
  fetch: (lease: number) => Promise<number>
  /** Milliseconds since some fixed point (Date.now or a test clock). */
  nowMs: () => number
  /** Age after which an entry is refreshed when used. */
  refreshMs?: number
  /** Lookups in flight at once. */
  inFlightMax?: number
  /** Leases waiting for a lookup; beyond it, refreshes are skipped until the queue drains. */
  queueMax?: number
}

interface Entry {
  remainingS: number
  fetchedAtMs: number
}

export class LeaseLifetimes {
  private readonly entries = new Map<number, Entry>()
  private readonly queue = new Set<number>()
  private readonly pending = new Set<number>()
  /** Leases whose last lookup failed, with when to try again. */
  private readonly retryAtMs = new Map<number, number>()
  private readonly refreshMs: number
  private readonly inFlightMax: number
  private readonly queueMax: number
  private closed = false
  lookups = 0
  failures = 0

  constructor(private readonly opts: LeaseLifetimesOptions) {
    this.refreshMs = opts.refreshMs ?? 2000
    this.inFlightMax = opts.inFlightMax ?? 8
    this.queueMax = opts.queueMax ?? 4096
  }

  /** Remaining seconds of a lease as far as known (counted down since the last lookup); schedules a refresh when stale. */
  remaining(lease: number): number | undefined {
    const e = this.entries.get(lease)
    const now = this.opts.nowMs()
    if (!e || now - e.fetchedAtMs >= this.refreshMs) this.schedule(lease)
    if (!e) return undefined
    if (e.remainingS < 0) return 0
    const left = e.remainingS - (now - e.fetchedAtMs) / 1000
    // Counted past its end since the last lookup: the lease was probably refreshed since (the record is
    // still there), but how long it has is not known until the lookup just scheduled answers.
    return left > 0 ? left : undefined
  }

  /** Looks a lease up ahead of the first question about it (a record with it was just indexed). */
  prefetch(lease: number): void {
    if (!this.entries.has(lease)) this.schedule(lease)
  }

  /** Forgets every lease not in `live` (no record uses it any more). */
  retain(live: ReadonlySet<number>): void {
    for (const id of this.entries.keys()) if (!live.has(id)) this.entries.delete(id)
    for (const id of this.queue) if (!live.has(id)) this.queue.delete(id)
    for (const id of this.retryAtMs.keys()) if (!live.has(id)) this.retryAtMs.delete(id)
  }

  close(): void {
    this.closed = true
    this.queue.clear()
  }

  get size(): number {
    return this.entries.size
  }

  private schedule(lease: number): void {
    if (this.closed || this.pending.has(lease) || this.queue.has(lease)) return
    if (this.queue.size >= this.queueMax) return
    const retryAt = this.retryAtMs.get(lease)
    if (retryAt !== undefined && this.opts.nowMs() < retryAt) return
    this.queue.add(lease)
    this.pump()
  }

  private pump(): void {
    while (!this.closed && this.pending.size < this.inFlightMax && this.queue.size > 0) {
      const [lease] = this.queue
      this.queue.delete(lease!)
      this.pending.add(lease!)
      void this.lookup(lease!)
    }
  }

  private async lookup(lease: number): Promise<void> {
    const askedAtMs = this.opts.nowMs()
    try {
      this.lookups++
      const remainingS = await this.opts.fetch(lease)
      if (!this.closed) this.entries.set(lease, { remainingS, fetchedAtMs: askedAtMs })
      this.retryAtMs.delete(lease)
    } catch {
      this.failures++
      this.retryAtMs.set(lease, this.opts.nowMs() + this.refreshMs)
    } finally {
      this.pending.delete(lease)
      this.pump()
    }
  }
}
