// IndexSync against a scripted stand-in for the client: the paged consistent read (every page at the
// first page's revision), the watch from the revision after it, and a full reload when the watch ends
// (here: its revision compacted), swapped in whole.

import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { IndexSync, LOAD_PAGE_KEYS } from '../../agents/dns/sync.ts'
import type { Client, KeyValue, RangeOptions, RangeResult, WatchOptions, WatchResponse } from '../../core/client/index.ts'
import { CompactedError, toText } from '../../core/client/index.ts'

const enc = new TextEncoder()
const header = (revision: number) => ({ clusterId: 1, memberId: 1, revision, raftTerm: 1 })
const kv = (key: string, value: string, modRevision: number, lease = 0): KeyValue => ({ key: enc.encode(key), value: enc.encode(value), createRevision: modRevision, modRevision, version: 1, lease })

/** A store of `keys` at `revision`, answering ranges in pages, and watches scripted by the test. */
class FakeClient {
  gets: Array<{ key: string; revision: number | undefined; limit: number | undefined }> = []
  watches: Array<{ key: string; startRevision: number | undefined }> = []
  constructor(
    public keys: KeyValue[],
    public revision: number,
    public scripts: Array<(push: (r: WatchResponse) => void) => Promise<void>>,
  ) {}

  async get(key: string | Uint8Array, opts: RangeOptions = {}): Promise<RangeResult> {
    const from = typeof key === 'string' ? key : toText(key)
    this.gets.push({ key: from, revision: opts.revision, limit: opts.limit })
    const all = this.keys.filter((k) => toText(k.key) >= from && toText(k.key).startsWith('/skydns/')).sort((a, b) => (toText(a.key) < toText(b.key) ? -1 : 1))
    const limit = opts.limit ?? all.length
    return { header: header(this.revision), kvs: all.slice(0, limit), more: all.length > limit, count: all.length }
  }

  watch(key: string, opts: WatchOptions = {}): AsyncIterable<WatchResponse> {
    this.watches.push({ key, startRevision: opts.startRevision })
    const script = this.scripts.shift()
    return {
      async *[Symbol.asyncIterator]() {
        const queue: WatchResponse[] = []
        if (!script) {
          await new Promise<void>((resolve) => opts.signal?.addEventListener('abort', () => resolve(), { once: true }))
          return
        }
        await script((r) => queue.push(r))
        yield* queue
        throw new CompactedError(50)
      },
    }
  }
}

async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('IndexSync', () => {
  it('reads every page at one revision, watches from the next, applies events, reloads when the watch ends', async () => {
    const keys = Array.from({ length: LOAD_PAGE_KEYS + 5 }, (_, i) => kv(`/skydns/local/skydns/n${String(i).padStart(5, '0')}`, '{"host":"10.0.0.1"}', 2 + i, i === 0 ? 77 : 0))
    const fake = new FakeClient(keys, 2000, [
      async (push) => {
        push({ header: header(2001), events: [{ type: 'PUT', kv: kv('/skydns/local/skydns/new', '{"host":"10.0.0.2"}', 2001) }], progress: false })
        push({ header: header(2002), events: [{ type: 'DELETE', kv: kv('/skydns/local/skydns/n00001', '', 2002) }], progress: false })
      },
    ])
    const leases: number[] = []
    const sync = new IndexSync({ client: fake as unknown as Client, prefix: '/skydns', logger: pino({ level: 'silent' }), onLease: (id) => leases.push(id) })
    sync.start()
    await sync.loaded
    expect(sync.index.size).toBe(LOAD_PAGE_KEYS + 5)
    expect(fake.gets[0]).toMatchObject({ key: '/skydns/', revision: undefined, limit: LOAD_PAGE_KEYS })
    expect(fake.gets[1]).toMatchObject({ revision: 2000 })
    expect(fake.watches[0]).toEqual({ key: '/skydns/', startRevision: 2001 })
    expect(leases).toContain(77)
    // The watch delivered a put and a delete, then ended (compacted): the store is read again and the
    // watch restarts after that read.
    fake.keys = [kv('/skydns/local/skydns/after', '{"host":"10.0.0.3"}', 3000)]
    fake.revision = 3000
    await until(() => sync.loads === 2)
    expect(sync.eventsApplied).toBe(2)
    expect(sync.index.all().map((r) => r.name)).toEqual(['after.skydns.local.'])
    expect(sync.index.revision).toBe(3000)
    await until(() => fake.watches.length === 2)
    expect(fake.watches[1]).toEqual({ key: '/skydns/', startRevision: 3001 })
    await sync.stop()
  })
})
