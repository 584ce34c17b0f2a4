// A session: one lease kept alive for as long as its owner runs. Locks and elections bind their keys to
// it, so a crashed owner's keys vanish when the lease runs out. The session's `signal` aborts the
// moment the lease is known (or must be assumed) gone: the server said so, or no refresh succeeded
// before the TTL measured from the last successful refresh's send time ran out — which is never later
// than the server's own expiry, so a holder stops acting before anybody else can take over.

import type { Client, LeaseKeepAlive } from '../../core/client/index.ts'
import { LeaseExpiredError } from '../../core/client/index.ts'
import { systemClock } from '../clock.ts'

export const SESSION_TTL_SECONDS_DEFAULT = 10

export interface SessionOptions {
  /** Lease TTL in seconds (default 10). The server may raise it to its minimum. */
  ttlSeconds?: number
  /** Adopt this existing lease instead of granting one (e.g. after a restart). */
  leaseId?: number
  /** Gives up granting (or adopting) the lease when it aborts (CanceledError). */
  signal?: AbortSignal
}

/** The session ended: its lease expired or was revoked, or the session was closed. */
export class SessionLostError extends Error {
  readonly code = 'SessionLost'
  constructor(
    readonly leaseId: number,
    reason: string,
  ) {
    super(`session lost (lease ${leaseId.toString(16)}): ${reason}`)
    this.name = 'SessionLostError'
  }
}

export class Session {
  /** Aborts (reason: SessionLostError) when the lease is lost or the session closed. */
  readonly signal: AbortSignal
  /** Resolves with the reason once the session ends. */
  readonly lost: Promise<SessionLostError>
  /** Keys this session is waiting for or holding (one owner per lock per session). */
  readonly claimed = new Set<string>()
  private readonly controller = new AbortController()
  private resolveLost!: (e: SessionLostError) => void
  private keeper: LeaseKeepAlive | undefined
  private readonly timerStop = new AbortController()
  private closing = false

  private constructor(
    private readonly client: Client,
    readonly leaseId: number,
    readonly ttlSeconds: number,
  ) {
    this.signal = this.controller.signal
    this.lost = new Promise((resolve) => (this.resolveLost = resolve))
  }

  /** Grants (or adopts) a lease and starts keeping it alive. */
  static async create(client: Client, opts: SessionOptions = {}): Promise<Session> {
    const ttl = opts.ttlSeconds ?? SESSION_TTL_SECONDS_DEFAULT
    if (!Number.isSafeInteger(ttl) || ttl <= 0) throw new RangeError(`session TTL: expected a positive number of seconds, got ${ttl}`)
    // Lease expiry is wall-clock time, as the keep-alive loop measures it.
    const sentAt = Date.now()
    const call = opts.signal === undefined ? {} : { signal: opts.signal }
    let leaseId: number
    let grantedTtl: number
    if (opts.leaseId !== undefined) {
      const r = await client.lease.keepAliveOnce(opts.leaseId, call)
      if (r.ttl <= 0) throw new SessionLostError(opts.leaseId, 'the lease to adopt is gone')
      leaseId = opts.leaseId
      grantedTtl = r.ttl
    } else {
      const r = await client.lease.grant(ttl, call)
      leaseId = r.id
      grantedTtl = r.ttl
    }
    const s = new Session(client, leaseId, grantedTtl)
    s.start(sentAt + grantedTtl * 1000)
    return s
  }

  get isLost(): boolean {
    return this.signal.aborted
  }

  /** The time (ms since 1970) by which the lease must be assumed gone unless refreshed again. */
  expiresAt = 0

  /** Stops refreshing and revokes the lease (its keys are deleted at once). */
  async close(): Promise<void> {
    if (this.closing) return
    this.closing = true
    const wasLost = this.isLost
    this.end('closed')
    if (!wasLost) await this.client.lease.revoke(this.leaseId, { timeoutMs: 3000 }).catch(() => undefined)
  }

  /** Stops refreshing without revoking: the lease runs out on its own (as if this process died). */
  abandon(): void {
    this.end('abandoned')
  }

  private start(expiresAt: number): void {
    this.expiresAt = expiresAt
    this.keeper = this.client.lease.keepAlive(this.leaseId, {
      onRefresh: () => {
        // The keep-alive measures expiry from each refresh's send time, in wall-clock ms.
        if (this.keeper && this.keeper.expiresAt > 0) this.expiresAt = this.keeper.expiresAt
      },
      onLost: (e: LeaseExpiredError) => this.end(e.message),
    })
    void this.watchExpiry()
  }

  /** Declares the session lost at `expiresAt` if no refresh moved it on (does not wait for the keep-alive's own verdict). */
  private async watchExpiry(): Promise<void> {
    while (!this.isLost) {
      const leftMs = this.expiresAt - Date.now()
      if (leftMs <= 0) {
        this.end('not refreshed before its TTL ran out')
        return
      }
      await systemClock.sleep(leftMs, this.timerStop.signal)
    }
  }

  private end(reason: string): void {
    if (this.isLost) return
    this.keeper?.stop()
    this.timerStop.abort()
    const e = new SessionLostError(this.leaseId, reason)
    this.controller.abort(e)
    this.resolveLost(e)
  }
}
