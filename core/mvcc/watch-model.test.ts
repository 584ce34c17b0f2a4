// Randomized watch test: writers and consumers run concurrently with random pauses, watchers start
// at random revisions with tiny buffers and ring, and every watcher must receive exactly the events
// stored history says it should — in order, each once, each revision whole in one response.

import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { binaryStringToBytes, bytesToBinaryString } from './bytes.ts'
import { intervalContains, toInterval } from './interval.ts'
import type { ApplyRequest } from './requests.ts'
import { TestStore } from './testing/helpers.ts'
import type { Event } from './types.ts'
import { WatchHub } from './watch-hub.ts'
import type { WatchCreateRequest, WatchResponse } from './watch-types.ts'
import type { Watcher } from './watcher.ts'

const keys = ['a', 'b', 'c', 'ca'].map(binaryStringToBytes)
const keyArb = fc.constantFrom(...keys)

const writeArb: fc.Arbitrary<ApplyRequest> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ key: keyArb, value: fc.constantFrom('1', '2', '3').map(binaryStringToBytes) }).map((put) => ({ put })) },
  { weight: 1, arbitrary: fc.record({ key: keyArb, rangeEnd: fc.constantFrom(...keys, new Uint8Array([0])) }).map((deleteRange) => ({ deleteRange })) },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(keyArb, { minLength: 1, maxLength: 3, selector: bytesToBinaryString })
      .map((ks) => ({ txn: { success: ks.map((key) => ({ requestPut: { key, value: key } })) } })),
  },
)

const watchArb = fc.record({
  key: keyArb,
  rangeEnd: fc.option(fc.constantFrom(new Uint8Array([0]), binaryStringToBytes('c')), { nil: undefined }),
  startBack: fc.option(fc.integer({ min: -2, max: 12 }), { nil: undefined }),
  prevKv: fc.boolean(),
  filter: fc.constantFrom(undefined, 'NOPUT' as const, 'NODELETE' as const),
  pauseEvery: fc.integer({ min: 1, max: 6 }),
})

const stepArb = fc.oneof(
  { weight: 6, arbitrary: writeArb.map((request) => ({ kind: 'write' as const, request })) },
  { weight: 2, arbitrary: watchArb.map((watch) => ({ kind: 'watch' as const, watch })) },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 5 }).map((ticks) => ({ kind: 'pause' as const, ticks })) },
)

const tick = () => new Promise<void>((resolve) => setImmediate(resolve))

interface Consumer {
  watcher: Watcher
  request: WatchCreateRequest
  start: number
  responses: WatchResponse[]
  done: Promise<void>
}

function expectedEvents(history: Map<number, Event[]>, consumer: Consumer): string[] {
  const interval = toInterval(consumer.request.key, consumer.request.rangeEnd)
  const filters = consumer.request.filters ?? []
  const out: string[] = []
  for (const [revision, events] of history) {
    if (revision < consumer.start) continue
    for (const e of events) {
      if (!intervalContains(interval, e.kv.key)) continue
      if ((e.type === 'PUT' && filters.includes('NOPUT')) || (e.type === 'DELETE' && filters.includes('NODELETE'))) continue
      out.push(describe1(e, consumer.request.prevKv === true))
    }
  }
  return out
}

/** One event as text; `received` marks a prevKv sent to a watcher that did not ask for it. */
function describe1(e: Event, withPrev: boolean, received = false): string {
  const prev = withPrev ? ` prev=${e.prevKv === undefined ? '-' : bytesToBinaryString(e.prevKv.value)}` : ''
  const leaked = received && !withPrev && e.prevKv !== undefined ? ' LEAKED-PREV' : ''
  return `${e.kv.modRevision} ${e.type} ${bytesToBinaryString(e.kv.key)}=${bytesToBinaryString(e.kv.value)}${prev}${leaked}`
}

describe('WatchHub under concurrent writers and slow consumers', () => {
  test('every watcher receives exactly its events, whole revisions, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 5, maxLength: 60, size: 'max' }),
        fc.record({ buffer: fc.integer({ min: 1, max: 4 }), ring: fc.integer({ min: 0, max: 8 }), catchUp: fc.integer({ min: 1, max: 5 }) }),
        async (steps, sizes) => {
          const t = await TestStore.create()
          const hub = new WatchHub(t.store, { watcherBufferEventsMax: sizes.buffer, ringEventsMax: sizes.ring, catchUpEventsMax: sizes.catchUp })
          const consumers: Consumer[] = []
          for (const step of steps) {
            if (step.kind === 'write') await t.store.apply(t.nextIndex(), step.request)
            else if (step.kind === 'pause') for (let i = 0; i < step.ticks; i++) await tick()
            else {
              const head = t.store.currentRevision()
              const w = step.watch
              const startRevision = w.startBack === undefined ? 0 : Math.max(1, head - w.startBack)
              const request: WatchCreateRequest = { key: w.key, prevKv: w.prevKv, startRevision }
              if (w.rangeEnd !== undefined) request.rangeEnd = w.rangeEnd
              if (w.filter !== undefined) request.filters = [w.filter]
              const watcher = hub.watch(request)
              const consumer: Consumer = { watcher, request, start: startRevision === 0 ? head + 1 : startRevision, responses: [], done: Promise.resolve() }
              consumer.done = (async () => {
                let n = 0
                for await (const response of watcher) {
                  consumer.responses.push(response)
                  if (++n % w.pauseEvery === 0) await tick()
                }
              })()
              consumers.push(consumer)
            }
          }
          const history = new Map((await t.store.readHistory(1, 1_000_000)).revisions.map((r) => [r.revision, r.events]))
          for (const consumer of consumers) {
            const expected = expectedEvents(history, consumer)
            const received = () => consumer.responses.flatMap((r) => r.events.map((e) => describe1(e, consumer.request.prevKv === true, true)))
            for (let i = 0; i < 2000 && received().length < expected.length; i++) await tick()
            expect(received()).toEqual(expected)
            const revisions = consumer.responses.filter((r) => r.events.length > 0).map((r) => r.events.map((e) => e.kv.modRevision))
            for (let i = 1; i < revisions.length; i++) expect(revisions[i]![0]).toBeGreaterThan(revisions[i - 1]!.at(-1)!)
          }
          hub.close()
          await Promise.all(consumers.map((c) => c.done))
          for (const consumer of consumers) expect(consumer.responses.at(-1)).toMatchObject({ canceled: true })
        },
      ),
      { numRuns: 150 },
    )
  })
})
