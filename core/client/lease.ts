// Leases: grant, revoke, time-to-live, list, and a keep-alive loop that refreshes a lease every third
// of its TTL and reports, once, when the lease is lost (expired, revoked, or not refreshed in time).

import { LeaseNotFoundError } from '../errors.ts'
import { fromBase64 } from './bytes.ts'
import { decodeHeader, decodeList, decodeObject, int } from './codec.ts'
import { ClosedError, LeaseExpiredError } from './errors.ts'
import type { CallOptions, Transport } from './transport.ts'
import { sleep } from './transport.ts'
import type { LeaseGrantResult, LeaseKeepAliveResult, LeaseListResult, LeaseTimeToLiveResult } from './types.ts'

export interface KeepAliveOptions {
  /** Called after each refresh with the TTL (seconds) the lease was refreshed to. */
  onRefresh?: (ttlSeconds: number, result: LeaseKeepAliveResult) => void
  /** Called once when the lease is lost. */
  onLost?: (error: LeaseExpiredError) => void
  /** Aborting stops the loop (the lease is left to expire, not revoked). */
  signal?: AbortSignal
}

function checkId(id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`lease ID: expected a positive integer, got ${id}`)
}

export class Lease {
  constructor(private readonly transport: Transport) {}

  /** Grants a lease of `ttlSeconds`; `id` 0 (default) lets the server choose. */
  async grant(ttlSeconds: number, opts: CallOptions & { id?: number } = {}): Promise<LeaseGrantResult> {
    if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`TTL: expected a positive number of seconds, got ${ttlSeconds}`)
    const body: Record<string, string> = { TTL: String(ttlSeconds) }
    if (opts.id) body.ID = String(opts.id)
    // Not repeated when its outcome is unknown: a second grant would leak a lease.
    const o = decodeObject(await this.transport.call('/v3/lease/grant', body, false, opts), 'lease grant response')
    if (typeof o.error === 'string' && o.error !== '') throw new Error(o.error)
    return { header: decodeHeader(o.header), id: int(o.ID, 'ID'), ttl: int(o.TTL, 'TTL') }
  }

  /** Revokes a lease, deleting the keys attached to it. */
  async revoke(id: number, opts: CallOptions = {}): Promise<{ header: LeaseGrantResult['header'] }> {
    checkId(id)
    const o = decodeObject(await this.transport.call('/v3/lease/revoke', { ID: String(id) }, false, opts), 'lease revoke response')
    return { header: decodeHeader(o.header) }
  }

  /** Refreshes a lease once. `ttl` is 0 when the lease no longer exists. */
  async keepAliveOnce(id: number, opts: CallOptions = {}): Promise<LeaseKeepAliveResult> {
    checkId(id)
    let raw: unknown
    try {
      raw = await this.transport.call('/v3/lease/keepalive', { ID: String(id) }, true, opts)
    } catch (e) {
      // Cairn answers a missing lease with an error, etcd with TTL 0: report both the same way.
      if (e instanceof LeaseNotFoundError || (e as { code?: unknown }).code === 'LeaseNotFound') {
        return { header: { clusterId: 0, memberId: 0, revision: 0, raftTerm: 0 }, id, ttl: 0 }
      }
      throw e
    }
    const o = decodeObject(decodeObject(raw, 'keepalive response').result, 'keepalive result')
    return { header: decodeHeader(o.header), id: int(o.ID, 'ID') || id, ttl: int(o.TTL, 'TTL') }
  }

  /** Remaining and granted TTL; `ttl` is -1 when the lease does not exist. `keys` lists attached keys. */
  async timeToLive(id: number, opts: CallOptions & { keys?: boolean } = {}): Promise<LeaseTimeToLiveResult> {
    checkId(id)
    const body: Record<string, unknown> = { ID: String(id) }
    if (opts.keys) body.keys = true
    const o = decodeObject(await this.transport.call('/v3/lease/timetolive', body, true, opts), 'timetolive response')
    return {
      header: decodeHeader(o.header),
      id: int(o.ID, 'ID') || id,
      ttl: int(o.TTL, 'TTL'),
      grantedTtl: int(o.grantedTTL, 'grantedTTL'),
      keys: decodeList(o.keys, 'keys').map((k) => fromBase64(k, 'keys')),
    }
  }

  /** Every live lease. */
  async list(opts: CallOptions = {}): Promise<LeaseListResult> {
    const o = decodeObject(await this.transport.call('/v3/lease/leases', {}, true, opts), 'leases response')
    return {
      header: decodeHeader(o.header),
      leases: decodeList(o.leases, 'leases').map((l) => int(decodeObject(l, 'lease').ID, 'ID')),
    }
  }

  /** Starts refreshing a lease until stop() or loss. */
  keepAlive(id: number, opts: KeepAliveOptions = {}): LeaseKeepAlive {
    checkId(id)
    return new LeaseKeepAlive(this, id, opts)
  }
}

/** A running keep-alive loop. `lost` settles (with the reason) when the lease is lost; stop() ends it. */
export class LeaseKeepAlive {
  /** TTL (seconds) of the last refresh. */
  ttl = 0
  /** When the lease runs out (ms since the epoch) unless refreshed again; 0 before the first refresh. */
  expiresAt = 0
  refreshes = 0
  private stopped = false
  private lostError: LeaseExpiredError | undefined
  private readonly stopper = new AbortController()
  private resolveLost!: (e: LeaseExpiredError) => void
  /** Resolves with the reason when the lease is lost; never settles if stop() is called first. */
  readonly lost: Promise<LeaseExpiredError>
  /** Resolves when the loop has ended (stopped or lost). */
  readonly done: Promise<void>

  constructor(
    private readonly lease: Lease,
    readonly id: number,
    private readonly opts: KeepAliveOptions,
  ) {
    this.lost = new Promise((resolve) => (this.resolveLost = resolve))
    if (opts.signal) {
      if (opts.signal.aborted) this.stop()
      else opts.signal.addEventListener('abort', () => this.stop(), { once: true })
    }
    this.done = this.run()
  }

  get isLost(): boolean {
    return this.lostError !== undefined
  }

  get lossReason(): LeaseExpiredError | undefined {
    return this.lostError
  }

  /** Stops refreshing (the lease is not revoked). */
  stop(): void {
    if (this.stopped) return
    this.stopped = true
    this.stopper.abort(new ClosedError('keep-alive'))
  }

  private markLost(reason: string): void {
    if (this.lostError || this.stopped) return
    this.lostError = new LeaseExpiredError(this.id, reason)
    this.stopped = true
    this.resolveLost(this.lostError)
    this.opts.onLost?.(this.lostError)
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal
    let retryMs = 100
    while (!this.stopped) {
      const sentAt = Date.now()
      // Each try is short (a refresh forwarded to a leader that just died is never answered), and the
      // loop tries again until the lease would run out; before the first refresh, a few seconds.
      const attemptMs = Math.max(500, (this.ttl * 1000) / 4)
      const timeoutMs = this.expiresAt > 0 ? Math.max(1, Math.min(attemptMs, this.expiresAt - sentAt)) : 5000
      try {
        const r = await this.lease.keepAliveOnce(this.id, { timeoutMs, signal })
        if (r.ttl <= 0) {
          this.markLost('expired or revoked')
          return
        }
        this.ttl = r.ttl
        this.expiresAt = sentAt + r.ttl * 1000
        this.refreshes++
        retryMs = 100
        this.opts.onRefresh?.(r.ttl, r)
        await sleep(Math.max(200, (r.ttl * 1000) / 3), signal).catch(() => undefined)
      } catch (e) {
        if (this.stopped) return
        if (this.expiresAt > 0 && Date.now() >= this.expiresAt) {
          this.markLost(`not refreshed before its TTL ran out (${(e as Error).message})`)
          return
        }
        if (this.expiresAt === 0 && this.refreshes === 0 && Date.now() - sentAt >= timeoutMs) {
          this.markLost(`first refresh failed (${(e as Error).message})`)
          return
        }
        const untilExpiry = this.expiresAt > 0 ? this.expiresAt - Date.now() : retryMs
        await sleep(Math.max(0, Math.min(retryMs, untilExpiry)), signal).catch(() => undefined)
        retryMs = Math.min(1000, retryMs * 2)
      }
    }
  }
}
