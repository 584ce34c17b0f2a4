// semaphore: clients take a slot of the reboot semaphore (recipes/semaphore: locksmith's value, every
// change a compare-and-swap on the key's mod revision) with max 2, hold it a little, give it back.
//
// Checks: at no moment do more than `max` clients believe they hold a slot (a client holds from the
// moment lock() returned until just before it calls unlock(); a lock() whose outcome is unknown is
// undone by an unlock before the client tries again); every value a successful lock() or unlock()
// wrote is consistent (free slots = max − holders, no holder twice, no more holders than max); and
// at the end every member holds the same value, consistent too (one listing a client that gave its slot
// back is a leaked slot, reported as a liveness warning).

import { sleep } from '../../cluster/harness.ts'
import { Client as StoreClient, DeadlineExceededError, OutcomeUnknownError } from '../../../core/client/index.ts'
import { NotHolderError, parseValue, Semaphore, semaphoreKey, SemaphoreFullError } from '../../../recipes/semaphore/index.ts'
import type { SemaphoreValue } from '../../../recipes/semaphore/index.ts'
import { b64, unb64 } from '../http.ts'
import type { RangeAnswer } from '../http.ts'
import { answeredByEach, emptyResult, newCounts } from '../workload.ts'
import type { RunContext, Workload, WorkloadResult } from '../workload.ts'

const GROUP = 'chaos'
export const SEMAPHORE_MAX = 2
const HOLD_MS_MIN = 100
const HOLD_MS_MAX = 500
const CALL_TIMEOUT_MS = 3_000
const OPERATION_TIMEOUT_MS = 6_000

interface Inside {
  id: string
  start: number
  end: number
}

export class SemaphoreWorkload implements Workload {
  readonly name = 'semaphore'
  readonly counts = newCounts()
  readonly inside: Inside[] = []
  /** Values written by successful operations, with what wrote them. */
  readonly written: Array<{ id: string; op: 'lock' | 'unlock'; value: SemaphoreValue }> = []
  /** Clients whose last unlock was not confirmed: they may still be listed at the end. */
  private readonly unsettled = new Set<string>()
  private stores: StoreClient[] = []
  private full = 0

  constructor(private readonly o: { clients: number }) {}

  async run(ctx: RunContext): Promise<void> {
    const urls = ctx.cluster.members.map((m) => m.clientUrl)
    this.stores = [...Array(this.o.clients).keys()].map(
      (i) => new StoreClient({ endpoints: [...urls.slice(i % urls.length), ...urls.slice(0, i % urls.length)], callTimeoutMs: CALL_TIMEOUT_MS, dialTimeoutMs: 1_000 }),
    )
    const setup = new Semaphore(this.stores[0]!, { group: GROUP })
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await setup.setMax(SEMAPHORE_MAX, { timeoutMs: OPERATION_TIMEOUT_MS })
        break
      } catch {
        await sleep(500)
      }
    }
    await Promise.all(this.stores.map((store, i) => this.client(ctx, store, `client-${i}`)))
  }

  private async client(ctx: RunContext, store: StoreClient, id: string): Promise<void> {
    const sem = new Semaphore(store, { group: GROUP })
    for (let n = 0; n < 100_000 && !ctx.stopping(); n++) {
      let value: SemaphoreValue
      try {
        value = await sem.lock(id, { timeoutMs: OPERATION_TIMEOUT_MS })
      } catch (e) {
        if (e instanceof SemaphoreFullError) {
          this.counts.ok++
          this.full++
        } else {
          this.countFailure(e)
          // The lock may have landed: give the slot back before trying again.
          this.unsettled.add(id)
          await this.unlock(ctx, sem, id)
        }
        await sleep(ctx.prng.int(20, 150))
        continue
      }
      this.counts.ok++
      this.unsettled.add(id)
      const record: Inside = { id, start: ctx.now(), end: Infinity }
      this.inside.push(record)
      this.written.push({ id, op: 'lock', value })
      await sleep(ctx.prng.int(HOLD_MS_MIN, HOLD_MS_MAX))
      record.end = ctx.now()
      await this.unlock(ctx, sem, id)
      await sleep(ctx.prng.int(0, 60))
    }
  }

  /** Retries until the slot is surely given back (or the run stops). */
  private async unlock(ctx: RunContext, sem: Semaphore, id: string): Promise<void> {
    for (let attempt = 0; attempt < 1_000 && !ctx.stopping(); attempt++) {
      try {
        const value = await sem.unlock(id, { timeoutMs: OPERATION_TIMEOUT_MS })
        this.counts.ok++
        this.written.push({ id, op: 'unlock', value })
        this.unsettled.delete(id)
        return
      } catch (e) {
        if (e instanceof NotHolderError) {
          this.counts.ok++
          this.unsettled.delete(id)
          return
        }
        this.countFailure(e)
        await sleep(ctx.prng.int(50, 200))
      }
    }
  }

  private countFailure(e: unknown): void {
    this.counts[e instanceof OutcomeUnknownError || e instanceof DeadlineExceededError ? 'indeterminate' : 'fail']++
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    // Never more than max believers at once.
    const { peak, at, open } = peakOverlap(this.inside)
    if (peak > SEMAPHORE_MAX) {
      result.linearizable = false
      result.problems.push(
        `semaphore: ${peak} clients held a slot at ${at.toFixed(0)} ms (max ${SEMAPHORE_MAX}): ` +
          open.map((r) => `${r.id} [${r.start.toFixed(0)}, ${r.end.toFixed(0)}]`).join(', '),
      )
    }
    for (const w of this.written) {
      const bad = inconsistent(w.value)
      if (bad) {
        result.linearizable = false
        result.problems.push(`semaphore: ${w.op} by ${w.id} wrote an inconsistent value ${JSON.stringify(w.value)}: ${bad}`)
        break
      }
    }
    const key = b64(semaphoreKey(GROUP))
    const answers = await answeredByEach<RangeAnswer>(ctx, '/v3/kv/range', { key })
    const finals = new Set<string>()
    for (const { member, answer } of answers) {
      const kv = answer?.kvs?.[0]
      if (!kv) {
        result.warnings.push(`semaphore: ${member} did not answer the final read`)
        continue
      }
      const text = unb64(kv.value)
      finals.add(text)
      const v = parseValue(text)
      const bad = inconsistent(v)
      if (bad) {
        result.linearizable = false
        result.problems.push(`semaphore: on ${member} the final value ${text} is inconsistent: ${bad}`)
      }
      // A lock whose outcome was unknown can land after the unlock that followed it: a slot leaked
      // (liveness: the semaphore's capacity shrinks), never a second believer.
      const stray = v.holders.filter((h) => !this.unsettled.has(h))
      if (stray.length > 0) result.warnings.push(`semaphore: on ${member} the final value ${text} lists ${stray.join(', ')}, who gave their slot back (a leaked slot)`)
    }
    if (finals.size > 1) {
      result.linearizable = false
      result.problems.push(`semaphore: the members end with different values: ${[...finals].join(' | ')}`)
    }
    result.notes.push(
      `semaphore: ${this.inside.length} slots taken (max ${SEMAPHORE_MAX}, at most ${peak} held at once), ${this.full} attempts found it full`,
    )
    if (this.inside.length === 0) result.warnings.push('semaphore: nobody ever took a slot (liveness)')
    return result
  }

  async close(): Promise<void> {
    for (const s of this.stores) s.close()
  }
}

function inconsistent(v: SemaphoreValue): string | undefined {
  if (new Set(v.holders).size !== v.holders.length) return 'a holder is listed twice'
  if (v.holders.length > v.max) return `${v.holders.length} holders for ${v.max} slots`
  if (v.semaphore !== v.max - v.holders.length) return `${v.semaphore} free slots with ${v.holders.length} of ${v.max} held`
  return undefined
}

/** The most intervals open at one instant (an end and a start at the same instant do not overlap), when, and which. */
export function peakOverlap<T extends { start: number; end: number }>(intervals: readonly T[]): { peak: number; at: number; open: T[] } {
  const events = intervals.flatMap((r) => [
    { t: r.start, d: 1, r },
    { t: r.end, d: -1, r },
  ])
  events.sort((a, b) => a.t - b.t || a.d - b.d)
  const open = new Set<T>()
  let best: { peak: number; at: number; open: T[] } = { peak: 0, at: 0, open: [] }
  for (const e of events) {
    if (e.d > 0) open.add(e.r)
    else open.delete(e.r)
    if (open.size > best.peak) best = { peak: open.size, at: e.t, open: [...open] }
  }
  return best
}
