// What both log stores share: the in-memory tail that answers reads, the planning that validates
// writes, and a queue that runs writes one at a time in call order. Each write is planned against the
// tail left by the write before it, persisted by the subclass, and only then applied to the tail.

import type { InitialState } from '../raft/storage.ts'
import type { ConfState, Entry, Snapshot } from '../raft/types.ts'
import { isEmptyChange } from './log-change.ts'
import type { LogChange } from './log-change.ts'
import { planCompact, planCreateSnapshot, planSave } from './log-planner.ts'
import type { LogUpdate } from './log-planner.ts'
import type { LogStore } from './log-store.ts'
import type { LogTail } from './log-tail.ts'
import type { WriteBatch } from './write-batch.ts'

export abstract class MirroredLogStore implements LogStore {
  private queue: Promise<unknown> = Promise.resolve()
  private closed = false
  // After a failed write the stored state is unknown (RocksDB stops accepting writes after an I/O
  // error, too): every later write fails with the first cause, and the member must restart.
  private failure: unknown = undefined

  protected constructor(protected readonly tail: LogTail) {}

  /** Stores `change` atomically; the tail is updated by the caller afterwards. */
  protected abstract persist(change: LogChange, sync: boolean): Promise<void>

  /** Adds the stored form of an applied conf state to `batch` (nothing for an in-memory store). */
  protected abstract stageConfStateRecord(batch: WriteBatch, confState: ConfState, index: number): void

  initialState(): InitialState {
    return this.tail.initialState()
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.tail.entries(lo, hi, maxBytes)
  }

  term(i: number): number {
    return this.tail.term(i)
  }

  lastIndex(): number {
    return this.tail.lastIndex()
  }

  firstIndex(): number {
    return this.tail.firstIndex()
  }

  snapshot(): Snapshot {
    return this.tail.snapshot()
  }

  save(update: LogUpdate, sync: boolean): Promise<void> {
    return this.enqueue(async () => {
      const change = planSave(this.tail, update)
      await this.write(change, sync || update.snapshot !== undefined)
    })
  }

  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Promise<Snapshot> {
    return this.enqueue(async () => {
      const change = planCreateSnapshot(this.tail, index, confState, data)
      await this.write(change, false)
      return this.tail.snapshot()
    })
  }

  compact(index: number): Promise<void> {
    return this.enqueue(async () => {
      await this.write(planCompact(this.tail, index), false)
    })
  }

  stageConfState(batch: WriteBatch, confState: ConfState, index: number): void {
    this.assertOpen()
    const previous = this.tail.appliedConfState
    if (previous !== undefined && index < previous.index) {
      throw new Error(`conf state applied at ${index} is older than the one recorded at ${previous.index}`)
    }
    this.stageConfStateRecord(batch, confState, index)
    batch.afterWrite(() => this.tail.setAppliedConfState({ index, confState }))
  }

  /** Idempotent, so every shutdown path may call it. */
  async close(): Promise<void> {
    this.closed = true
    await this.queue
  }

  private async write(change: LogChange, sync: boolean): Promise<void> {
    if (this.failure !== undefined) throw new Error('log store failed an earlier write', { cause: this.failure })
    if (isEmptyChange(change)) return
    try {
      await this.persist(change, sync)
      this.tail.apply(change)
    } catch (error) {
      this.failure = error
      throw error
    }
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    this.assertOpen()
    const run = this.queue.then(task)
    this.queue = run.catch(() => undefined)
    return run
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('log store is closed')
  }
}
