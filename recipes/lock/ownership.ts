// What holding a lock (or leading an election) means, kept up to date: the holder's key and its create
// revision (the fencing token), and a signal that aborts the moment the hold is lost — the key was
// deleted or replaced, or the session's lease is gone — or released.

import type { Client, Comparison } from '../../core/client/index.ts'
import { compare, op } from '../../core/client/index.ts'
import type { Session } from './session.ts'

/** The lock (or leadership) is no longer held: `reason` says why. */
export class LockLostError extends Error {
  readonly code = 'LockLost'
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`lost ${key}: ${reason}`)
    this.name = 'LockLostError'
  }
}

/** The holder gave the lock up itself (the reason of `signal` after release()). */
export class ReleasedError extends Error {
  readonly code = 'Released'
  constructor(readonly key: string) {
    super(`released ${key}`)
    this.name = 'ReleasedError'
  }
}

export interface OwnershipOptions {
  /** Watch the session for loss (off only under the skip-lease-recheck failpoint). */
  watchSession: boolean
  /** Called once when the hold is lost (not when released). */
  onLost?: (e: LockLostError) => void
}

export class Ownership {
  /** Aborts when the hold ends: reason LockLostError (lost) or ReleasedError (released). */
  readonly signal: AbortSignal
  /** Resolves with the reason if the hold is lost; never settles when it is released first. */
  readonly lost: Promise<LockLostError>
  private readonly controller = new AbortController()
  private readonly monitorStop = new AbortController()
  private resolveLost!: (e: LockLostError) => void
  private lostError: LockLostError | undefined
  /** Ends when the monitor has stopped. */
  readonly monitored: Promise<void>

  constructor(
    private readonly client: Client,
    readonly session: Session,
    readonly key: string,
    /** The key's create revision: increases with every new holder, so a resource can refuse stale writers. */
    readonly fencingToken: number,
    /** First revision to watch (the one after the read that granted the hold). */
    fromRevision: number,
    private readonly opts: OwnershipOptions,
  ) {
    this.signal = this.controller.signal
    this.lost = new Promise((resolve) => (this.resolveLost = resolve))
    this.lost.catch(() => undefined)
    if (opts.watchSession) {
      const onSessionLost = () => this.lose(`the session lease was lost (${(session.signal.reason as Error).message})`)
      if (session.isLost) onSessionLost()
      else {
        session.signal.addEventListener('abort', onSessionLost, { once: true })
        // A long-lived session serves many holds: drop the listener when this one ends.
        this.signal.addEventListener('abort', () => session.signal.removeEventListener('abort', onSessionLost), { once: true })
      }
    }
    this.monitored = this.isHeld ? this.monitorKey(fromRevision) : Promise.resolve()
  }

  get isHeld(): boolean {
    return !this.signal.aborted
  }

  get leaseId(): number {
    return this.session.leaseId
  }

  get lossReason(): LockLostError | undefined {
    return this.lostError
  }

  /** A compare that holds only while this key, created at the fencing token, still exists. */
  guard(): Comparison {
    return compare.createRevision(this.key, '=', this.fencingToken)
  }

  /** Stops watching and deletes the key if it is still ours (errors only when the hold was still held). */
  async release(opts: { timeoutMs?: number } = {}): Promise<void> {
    const wasHeld = this.isHeld
    this.end(new ReleasedError(this.key))
    try {
      await this.client
        .txn()
        .if(this.guard())
        .then(op.delete(this.key))
        .commit({ timeoutMs: opts.timeoutMs ?? 5000 })
    } catch (e) {
      // A hold already lost has nothing left to give back; its lease takes the key with it.
      if (wasHeld) throw e
    }
  }

  /** Marks the hold lost (idempotent; no effect after release). */
  lose(reason: string): void {
    if (!this.isHeld) return
    const e = new LockLostError(this.key, reason)
    this.lostError = e
    this.end(e)
    this.resolveLost(e)
    this.opts.onLost?.(e)
  }

  private end(reason: Error): void {
    if (this.controller.signal.aborted) return
    this.monitorStop.abort()
    this.controller.abort(reason)
  }

  /** Watches our key: a delete, or a put of a different incarnation, ends the hold. */
  private async monitorKey(fromRevision: number): Promise<void> {
    let from = fromRevision
    const signal = this.monitorStop.signal
    while (!signal.aborted) {
      const watch = this.client.watch(this.key, { startRevision: from, signal })
      try {
        for await (const resp of watch) {
          for (const e of resp.events) {
            if (e.type === 'DELETE') return this.lose('our key was deleted')
            if (e.kv.createRevision !== this.fencingToken) return this.lose('our key was replaced')
          }
        }
        return // ended by release or loss
      } catch {
        // Compacted or refused: look at the key itself, then watch again from there.
        try {
          const r = await this.client.get(this.key, { signal })
          const kv = r.kvs[0]
          if (kv === undefined) return this.lose('our key was deleted')
          if (kv.createRevision !== this.fencingToken) return this.lose('our key was replaced')
          from = r.header.revision + 1
        } catch {
          if (signal.aborted) return
          await new Promise((resolve) => setTimeout(resolve, 200))
        }
      }
    }
  }
}
