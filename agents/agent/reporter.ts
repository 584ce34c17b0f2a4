// Writes status keys, bound to the agent's lease. Per key only the latest value matters, so values
// are coalesced: while one write of a key is in flight, a newer value replaces any queued one. A
// failed write is retried until it lands or the reporter is closed (the session is gone: its keys
// went with the lease). `set` resolves true once that value — or a later one — is in the store.

import type { Client } from '../../core/client/index.ts'

interface Slot {
  value: string | null
  waiters: Array<(ok: boolean) => void>
}

export const STATUS_RETRY_MS = 300

export class StatusReporter {
  private readonly queued = new Map<string, Slot>()
  private readonly busy = new Set<string>()
  private closed = false
  private readonly closer = new AbortController()

  constructor(
    private readonly client: Client,
    private readonly leaseId: number,
    private readonly onError: (key: string, e: Error) => void,
  ) {}

  /** Puts (or with null, deletes) `key`; resolves false if the reporter closed first. */
  set(key: string, value: string | null): Promise<boolean> {
    if (this.closed) return Promise.resolve(false)
    return new Promise((resolve) => {
      const slot = this.queued.get(key) ?? { value, waiters: [] }
      slot.value = value
      slot.waiters.push(resolve)
      this.queued.set(key, slot)
      if (!this.busy.has(key)) void this.drain(key)
    })
  }

  /** Stops writing; every waiting set() resolves false. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.closer.abort()
    for (const slot of this.queued.values()) for (const w of slot.waiters) w(false)
    this.queued.clear()
  }

  private async drain(key: string): Promise<void> {
    this.busy.add(key)
    try {
      for (;;) {
        const slot = this.queued.get(key)
        if (slot === undefined || this.closed) return
        this.queued.delete(key)
        const outcome = await this.writeUntilDone(key, slot.value)
        const newer = this.queued.get(key)
        // Superseded: the waiters are answered when the newer value lands.
        if (outcome === 'superseded' && newer) newer.waiters.push(...slot.waiters)
        else for (const w of slot.waiters) w(outcome === 'written')
      }
    } finally {
      this.busy.delete(key)
    }
  }

  private async writeUntilDone(key: string, value: string | null): Promise<'written' | 'superseded' | 'closed'> {
    while (!this.closed) {
      // A newer value for this key makes this one moot: write that instead.
      if (this.queued.has(key)) return 'superseded'
      try {
        const signal = this.closer.signal
        if (value === null) await this.client.delete(key, { signal, timeoutMs: 5000 })
        else await this.client.put(key, value, { lease: this.leaseId, signal, timeoutMs: 5000 })
        return 'written'
      } catch (e) {
        if (this.closed) return 'closed'
        this.onError(key, e as Error)
        await new Promise((r) => setTimeout(r, STATUS_RETRY_MS))
      }
    }
    return 'closed'
  }
}
