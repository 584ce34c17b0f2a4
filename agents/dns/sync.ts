// Keeps the DNS index current: a consistent read of every record (paged, all pages at the revision of
// the first), then a watch from the revision after it. The client's watch resumes by itself across
// reconnections from the next revision it has not delivered, so no event is lost or seen twice; when the
// watch ends anyway (its revision compacted, a refused request), the index is rebuilt the same way —
// read, then watch from that read's revision — and swapped in whole, so queries never see a half index.

import type { Logger } from 'pino'
import type { Client, KeyValue, WatchEvent } from '../../core/client/index.ts'
import { prefixEnd, toText } from '../../core/client/index.ts'
import { RecordIndex } from '../../recipes/dns/record-index.ts'

/** Keys read per page of the initial read. */
export const LOAD_PAGE_KEYS = 1000
const RETRY_MS_MAX = 5000

export interface IndexSyncOptions {
  client: Client
  prefix: string
  logger: Logger
  /** Called for each lease a newly indexed record is attached to. */
  onLease?: (lease: number) => void
  /** Called after each full (re)load with the new index. */
  onLoaded?: (index: RecordIndex) => void
}

export class IndexSync {
  index: RecordIndex
  /** True once the first load has finished. */
  ready = false
  loads = 0
  eventsApplied = 0
  private readonly stopper = new AbortController()
  private done: Promise<void> | undefined
  private readyResolve!: () => void
  /** Resolves when the first load has finished. */
  readonly loaded: Promise<void>

  constructor(private readonly opts: IndexSyncOptions) {
    this.index = new RecordIndex(opts.prefix)
    this.loaded = new Promise((resolve) => (this.readyResolve = resolve))
  }

  start(): void {
    this.done ??= this.run()
  }

  async stop(): Promise<void> {
    this.stopper.abort()
    await this.done
  }

  private get watchPrefix(): string {
    return `${this.index.prefix}/`
  }

  private async run(): Promise<void> {
    const signal = this.stopper.signal
    let retryMs = 100
    while (!signal.aborted) {
      let index: RecordIndex
      try {
        index = await this.load(signal)
      } catch (e) {
        if (signal.aborted) return
        this.opts.logger.warn({ err: (e as Error).message, retryMs }, 'dns: reading the records failed; retrying')
        await sleep(retryMs, signal)
        retryMs = Math.min(RETRY_MS_MAX, retryMs * 2)
        continue
      }
      this.index = index
      this.loads++
      if (!this.ready) {
        this.ready = true
        this.readyResolve()
      }
      this.opts.onLoaded?.(index)
      this.opts.logger.info({ records: index.size, invalid: index.invalidCount, revision: index.revision }, 'dns: records loaded')
      try {
        await this.follow(index, signal)
        retryMs = 100
      } catch (e) {
        if (signal.aborted) return
        this.opts.logger.warn({ err: (e as Error).message }, 'dns: watch ended; reloading the records')
        await sleep(retryMs, signal)
        retryMs = Math.min(RETRY_MS_MAX, retryMs * 2)
      }
    }
  }

  /** Reads every record at one revision, a page at a time. */
  private async load(signal: AbortSignal): Promise<RecordIndex> {
    const index = new RecordIndex(this.opts.prefix)
    const end = prefixEnd(this.watchPrefix)
    let r = await this.opts.client.get(this.watchPrefix, { prefix: true, limit: LOAD_PAGE_KEYS, signal })
    const revision = r.header.revision
    for (;;) {
      for (const kv of r.kvs) this.putKv(index, kv)
      const last = r.kvs[r.kvs.length - 1]
      if (!r.more || last === undefined) break
      const next = new Uint8Array(last.key.length + 1)
      next.set(last.key)
      r = await this.opts.client.get(next, { end, revision, limit: LOAD_PAGE_KEYS, signal })
    }
    index.revision = revision
    return index
  }

  /** Applies watch events to the index until the watch ends (throws) or we stop (returns). */
  private async follow(index: RecordIndex, signal: AbortSignal): Promise<void> {
    const watch = this.opts.client.watch(this.watchPrefix, { prefix: true, startRevision: index.revision + 1, signal })
    for await (const resp of watch) {
      for (const e of resp.events) this.apply(index, e)
      if (resp.events.length > 0) index.revision = Math.max(index.revision, resp.events[resp.events.length - 1]!.kv.modRevision)
    }
    if (!signal.aborted) throw new Error('watch closed')
  }

  private apply(index: RecordIndex, e: WatchEvent): void {
    this.eventsApplied++
    if (e.type === 'DELETE') index.delete(toText(e.kv.key))
    else this.putKv(index, e.kv)
  }

  private putKv(index: RecordIndex, kv: KeyValue): void {
    const key = toText(kv.key)
    const outcome = index.put(key, kv.value, kv.lease, kv.modRevision)
    if (outcome === 'invalid') this.opts.logger.warn({ key, err: index.invalid.get(key) }, 'dns: not a service record; ignored')
    else if (outcome === 'indexed' && kv.lease !== 0) this.opts.onLease?.(kv.lease)
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve()
    const t = setTimeout(resolve, ms)
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        resolve()
      },
      { once: true },
    )
  })
}
