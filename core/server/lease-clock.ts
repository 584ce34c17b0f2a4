// The leader's view of lease deadlines, on its own monotonic-enough wall clock. Only the leader
// tracks deadlines; expiry is proposed through the log as a revoke, so every member deletes the
// lease's keys at the same revision. A new leader starts every lease afresh (etcd's rule).

export const REVOKE_RETRY_MS = 1_000

export class LeaseClock {
  private readonly deadlines = new Map<number, { ttlMs: number; deadlineMs: number; revoking: boolean }>()
  private active = false

  /**
   * Becoming leader: every lease gets its full TTL again, plus `extendMs`. The extension covers
   * renewals a deposed leader may still have answered before check-quorum stepped it down (up to two
   * election timeouts after it lost its quorum), as etcd extends leases by the election timeout.
   */
  promote(leases: Array<{ id: number; ttl: number }>, nowMs: number, extendMs = 0): void {
    this.active = true
    this.deadlines.clear()
    for (const l of leases) this.deadlines.set(l.id, { ttlMs: l.ttl * 1000, deadlineMs: nowMs + l.ttl * 1000 + extendMs, revoking: false })
  }

  demote(): void {
    this.active = false
    this.deadlines.clear()
  }

  granted(id: number, ttlSeconds: number, nowMs: number): void {
    if (!this.active) return
    this.deadlines.set(id, { ttlMs: ttlSeconds * 1000, deadlineMs: nowMs + ttlSeconds * 1000, revoking: false })
  }

  /**
   * A keep-alive on the leader. Refused (false) once the lease is past its deadline: its revoke may
   * already be on its way through the log, and answering "renewed" then would be a lie (etcd's Renew
   * refuses the same way).
   */
  renew(id: number, nowMs: number): { ttlMs: number } | undefined {
    const d = this.deadlines.get(id)
    if (!this.active || !d || d.revoking || d.deadlineMs <= nowMs) return undefined
    d.deadlineMs = nowMs + d.ttlMs
    return { ttlMs: d.ttlMs }
  }

  isActive(): boolean {
    return this.active
  }

  revoked(id: number): void {
    this.deadlines.delete(id)
  }

  /** Leases past their deadline; each is pushed back a little so a slow revoke is not proposed twice at once. */
  expired(nowMs: number): number[] {
    if (!this.active) return []
    const out: number[] = []
    for (const [id, d] of this.deadlines) {
      if (d.deadlineMs <= nowMs) {
        out.push(id)
        d.revoking = true
        d.deadlineMs = nowMs + REVOKE_RETRY_MS
      }
    }
    return out
  }

  retryLater(_id: number): void {
    // The deadline was already pushed back in expired(); nothing more to do.
  }

  remainingMs(id: number, nowMs: number): number | undefined {
    const d = this.deadlines.get(id)
    return d ? d.deadlineMs - nowMs : undefined
  }
}
