import { describe, expect, test } from 'vitest'
import { prefixEnd } from './bytes.ts'
import type { Event } from './types.ts'
import { b, TestStore, text } from './testing/helpers.ts'
import { EventEncoder } from './watch-encode.ts'
import { WatchHub, type WatchHubOptions } from './watch-hub.ts'
import type { WatchResponse } from './watch-types.ts'
import type { Watcher } from './watcher.ts'

async function setup(options: WatchHubOptions = {}): Promise<{ t: TestStore; hub: WatchHub }> {
  const t = await TestStore.create()
  return { t, hub: new WatchHub(t.store, options) }
}

/** The next response, failing fast instead of hanging the test. */
async function next(watcher: Watcher): Promise<WatchResponse | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no watch response within 2 s')), 2000)
  })
  try {
    return await Promise.race([watcher.next(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Reads responses until `count` events arrived; returns the event responses. */
async function eventResponses(watcher: Watcher, count: number): Promise<WatchResponse[]> {
  const out: WatchResponse[] = []
  let seen = 0
  while (seen < count) {
    const response = await next(watcher)
    if (response === undefined) throw new Error(`watch ended after ${seen} of ${count} events`)
    if (response.events.length === 0) continue
    out.push(response)
    seen += response.events.length
  }
  return out
}

const describeEvents = (responses: WatchResponse[]) =>
  responses.flatMap((r) => r.events.map((e) => `${e.type} ${text(e.kv.key)}@${e.kv.modRevision}`))

describe('WatchHub live delivery', () => {
  test('first answers created, then each revision as it is written', async () => {
    const { t, hub } = await setup()
    const watcher = hub.watch({ key: b('a'), rangeEnd: b('c') })
    expect(await next(watcher)).toMatchObject({ created: true, watchId: watcher.id, header: { revision: 1 } })
    await t.put('a', '1')
    await t.put('zz', 'outside')
    await t.ok({ txn: { success: [{ requestPut: { key: b('b'), value: b('2') } }, { requestPut: { key: b('a'), value: b('3') } }] } })
    const responses = await eventResponses(watcher, 3)
    expect(responses.map((r) => r.header.revision)).toEqual([2, 4])
    expect(describeEvents(responses)).toEqual(['PUT a@2', 'PUT b@4', 'PUT a@4'])
  })

  test('prev_kv and the NOPUT / NODELETE filters', async () => {
    const { t, hub } = await setup()
    const plain = hub.watch({ key: b('k') })
    const withPrev = hub.watch({ key: b('k'), prevKv: true })
    const deletesOnly = hub.watch({ key: b('k'), filters: ['NOPUT'] })
    const putsOnly = hub.watch({ key: b('k'), filters: ['NODELETE'] })
    await t.put('k', 'one')
    await t.put('k', 'two')
    await t.ok({ deleteRange: { key: b('k') } })
    const plainEvents = (await eventResponses(plain, 3)).flatMap((r) => r.events)
    expect(plainEvents.every((e) => e.prevKv === undefined)).toBe(true)
    const prevEvents = (await eventResponses(withPrev, 3)).flatMap((r) => r.events)
    expect(prevEvents.map((e) => text(e.prevKv?.value))).toEqual([undefined, 'one', 'two'])
    expect(describeEvents(await eventResponses(deletesOnly, 1))).toEqual(['DELETE k@4'])
    expect(describeEvents(await eventResponses(putsOnly, 2))).toEqual(['PUT k@2', 'PUT k@3'])
  })

  test('single key, prefix and from-key watches see only their keys', async () => {
    const { t, hub } = await setup()
    const single = hub.watch({ key: b('p/a') })
    const prefix = hub.watch({ key: b('p/'), rangeEnd: prefixEnd(b('p/'))! })
    const fromKey = hub.watch({ key: b('p/b'), rangeEnd: new Uint8Array([0]) })
    for (const key of ['p/a', 'p/b', 'q', 'p', 'p/a/x']) await t.put(key, 'v')
    expect(describeEvents(await eventResponses(single, 1))).toEqual(['PUT p/a@2'])
    expect(describeEvents(await eventResponses(prefix, 3))).toEqual(['PUT p/a@2', 'PUT p/b@3', 'PUT p/a/x@6'])
    expect(describeEvents(await eventResponses(fromKey, 2))).toEqual(['PUT p/b@3', 'PUT q@4'])
  })

  test('a start revision in the future skips earlier revisions', async () => {
    const { t, hub } = await setup()
    const watcher = hub.watch({ key: b('k'), startRevision: 4 })
    for (let i = 0; i < 4; i++) await t.put('k', `${i}`)
    expect(describeEvents(await eventResponses(watcher, 2))).toEqual(['PUT k@4', 'PUT k@5'])
  })

  test('all events of one revision come in one response', async () => {
    const { t, hub } = await setup({ watcherBufferEventsMax: 1 })
    const watcher = hub.watch({ key: b('a'), rangeEnd: new Uint8Array([0]) })
    const puts = ['a', 'b', 'c'].map((k) => ({ requestPut: { key: b(k), value: b('v') } }))
    await t.ok({ txn: { success: puts } })
    await t.ok({ deleteRange: { key: b('a'), rangeEnd: b('z') } })
    const responses = await eventResponses(watcher, 6)
    expect(responses.map((r) => r.events.length)).toEqual([3, 3])
  })

  test('watchers share event objects, so an encoding is computed once', async () => {
    const { t, hub } = await setup()
    const watchers = [hub.watch({ key: b('k') }), hub.watch({ key: b('k'), rangeEnd: b('l') }), hub.watch({ key: b('k'), prevKv: true })]
    await t.put('k', '1')
    await t.put('k', '2')
    const events = await Promise.all(watchers.map(async (w) => (await eventResponses(w, 2)).flatMap((r) => r.events)))
    let encodings = 0
    const encoder = new EventEncoder((event: Event) => {
      encodings++
      return JSON.stringify({ type: event.type, key: text(event.kv.key) })
    })
    for (const list of events) for (const event of list) encoder.get(event)
    expect(events[0]![1]).toBe(events[1]![1])
    expect(events[2]![1]!.prevKv).toBeDefined()
    // First event: one object for all three (no prevKv). Second: the full one and one shared bare copy.
    expect(encodings).toBe(3)
  })
})

describe('WatchHub catch-up', () => {
  test('a watcher behind the head catches up from history and joins the live stream without gaps or duplicates', async () => {
    const { t, hub } = await setup({ catchUpEventsMax: 7, ringEventsMax: 5 })
    for (let i = 0; i < 50; i++) await t.put(`k${i % 4}`, `${i}`)
    const watcher = hub.watch({ key: b('k'), rangeEnd: b('l'), startRevision: 10 })
    const writes = (async () => {
      for (let i = 50; i < 100; i++) {
        await t.put(`k${i % 4}`, `${i}`)
        if (i % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      }
    })()
    const responses = await eventResponses(watcher, 92)
    await writes
    const revisions = responses.flatMap((r) => r.events.map((e) => e.kv.modRevision))
    expect(revisions).toEqual(Array.from({ length: 92 }, (_, i) => i + 10))
    expect(watcher.synced).toBe(true)
  })

  test('a watch starting below the compact revision gets a compacted notice and ends', async () => {
    const { t, hub } = await setup()
    for (let i = 0; i < 10; i++) await t.put('k', `${i}`)
    await t.ok({ compaction: { revision: 6 } })
    const watcher = hub.watch({ key: b('k'), startRevision: 3 })
    expect(await next(watcher)).toMatchObject({ created: true })
    expect(await next(watcher)).toMatchObject({
      canceled: true,
      compactRevision: 6,
      cancelReason: 'etcdserver: mvcc: required revision has been compacted',
    })
    expect(await next(watcher)).toBeUndefined()
    const fromCompact = hub.watch({ key: b('k'), startRevision: 6 })
    expect(describeEvents(await eventResponses(fromCompact, 6))[0]).toBe('PUT k@6')
  })

  test('a lagging watcher overtaken by compaction gets the compacted notice', async () => {
    const { t, hub } = await setup({ watcherBufferEventsMax: 2, ringEventsMax: 2 })
    const watcher = hub.watch({ key: b('k') })
    for (let i = 0; i < 10; i++) await t.put('k', `${i}`)
    await t.ok({ compaction: { revision: 9 } })
    const responses: WatchResponse[] = []
    for (let r = await next(watcher); r !== undefined; r = await next(watcher)) responses.push(r)
    expect(responses.at(-1)).toMatchObject({ canceled: true, compactRevision: 9 })
    expect(describeEvents(responses)).toEqual(['PUT k@2', 'PUT k@3'])
  })

  test('a slow consumer never blocks writers or other watchers, and still receives every event in order', async () => {
    const { t, hub } = await setup({ watcherBufferEventsMax: 5, ringEventsMax: 20, catchUpEventsMax: 16 })
    const slow = hub.watch({ key: b('k'), rangeEnd: b('l'), prevKv: true })
    const fast = hub.watch({ key: b('k'), rangeEnd: b('l') })
    const fastDone = eventResponses(fast, 300)
    for (let i = 0; i < 300; i++) await t.put(`k${i % 7}`, `${i}`)
    // Every write was applied while the slow consumer read nothing; its queue stayed bounded.
    expect(t.store.currentRevision()).toBe(301)
    expect(slow.queuedEvents).toBeLessThanOrEqual(5)
    expect(slow.synced).toBe(false)
    const fastRevisions = (await fastDone).flatMap((r) => r.events.map((e) => e.kv.modRevision))
    expect(fastRevisions).toEqual(Array.from({ length: 300 }, (_, i) => i + 2))
    const slowEvents = (await eventResponses(slow, 300)).flatMap((r) => r.events)
    expect(slowEvents.map((e) => e.kv.modRevision)).toEqual(Array.from({ length: 300 }, (_, i) => i + 2))
    expect(slowEvents.map((e) => text(e.kv.value))).toEqual(Array.from({ length: 300 }, (_, i) => `${i}`))
    expect(slowEvents.slice(7).every((e, i) => text(e.prevKv?.value) === `${i}`)).toBe(true)
    expect(slow.synced).toBe(true)
    await t.put('k0', 'live again')
    expect(describeEvents(await eventResponses(slow, 1))).toEqual(['PUT k0@302'])
  })

  test('after a snapshot restore, watchers catch up on the revisions it brought', async () => {
    const { t, hub } = await setup()
    await t.put('k', 'shared')
    const other = await TestStore.create()
    await other.put('k', 'shared')
    await other.put('k', 'newer')
    await other.put('k', 'newest')
    const watcher = hub.watch({ key: b('k') })
    expect(await next(watcher)).toMatchObject({ created: true })
    await t.store.restore((await other.store.snapshot()).chunks)
    expect(describeEvents(await eventResponses(watcher, 2))).toEqual(['PUT k@3', 'PUT k@4'])
  })
})

describe('WatchHub progress and cancel', () => {
  test('a progress request answers the current revision once the watcher is synced', async () => {
    const { t, hub } = await setup({ watcherBufferEventsMax: 1 })
    const watcher = hub.watch({ key: b('k') })
    await next(watcher)
    await t.put('other', 'x')
    hub.requestProgress(watcher)
    expect(await next(watcher)).toMatchObject({ events: [], header: { revision: 2 } })
    await t.put('k', '1')
    await t.put('k', '2')
    hub.requestProgress(watcher)
    const responses = [await next(watcher), await next(watcher), await next(watcher)]
    expect(responses.map((r) => [r?.events.length, r?.header.revision])).toEqual([
      [1, 3],
      [1, 4],
      [0, 4],
    ])
  })

  test('progress_notify watchers get a notice on an idle tick only', async () => {
    const { t, hub } = await setup()
    const watcher = hub.watch({ key: b('k'), progressNotify: true })
    const silent = hub.watch({ key: b('k') })
    await next(watcher)
    await next(silent)
    await t.put('k', '1')
    hub.notifyProgress()
    expect(await next(watcher)).toMatchObject({ events: [{ type: 'PUT' }] })
    hub.notifyProgress()
    expect(await next(watcher)).toMatchObject({ events: [], header: { revision: 2 } })
    expect(silent.queuedResponses).toBe(1)
  })

  test('cancel ends the watch with a canceled response; closing the hub cancels the rest', async () => {
    const { t, hub } = await setup()
    const watcher = hub.watch({ key: b('k') })
    const other = hub.watch({ key: b('k') })
    await next(watcher)
    watcher.cancel()
    await t.put('k', '1')
    expect(await next(watcher)).toMatchObject({ canceled: true, events: [] })
    expect(await next(watcher)).toBeUndefined()
    hub.close()
    const rest: WatchResponse[] = []
    for await (const response of other) rest.push(response)
    expect(rest.map((r) => [r.created, r.events.length, r.canceled])).toEqual([
      [true, 0, false],
      [false, 1, false],
      [false, 0, true],
    ])
    expect(hub.watcherCount).toBe(0)
  })

  test('bad watch requests are refused with typed errors', async () => {
    const { hub } = await setup()
    expect(() => hub.watch({ key: new Uint8Array(0) })).toThrow(expect.objectContaining({ code: 'EmptyKey' }))
    expect(() => hub.watch({ key: b('k'), startRevision: -1 })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
    expect(() => hub.watch({ key: b('k'), filters: ['NOTHING' as never] })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
  })
})
