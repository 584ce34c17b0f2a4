// The one conformance suite every LogStore must pass (MemoryLogStore, RocksLogStore over RocksDb and
// over MemoryDb). Semantics follow core/raft's MemoryStorage, which a model-based test also uses as
// the reference; durability across reopen is checked by stores that can reopen.

import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { RaftError } from '../raft/errors.ts'
import { MemoryStorage } from '../raft/memory-storage.ts'
import { entrySize } from '../raft/storage.ts'
import { emptyConfState } from '../raft/types.ts'
import type { ConfState, Entry, HardState, Snapshot } from '../raft/types.ts'
import { crc32c } from './crc32c.ts'
import type { LogStore } from './log-store.ts'
import { WriteBatch } from './write-batch.ts'

export interface LogStoreHarness {
  store: LogStore
  /** Writes a batch the way the member's apply loop would (to the store's Db, if it has one). */
  writeBatch(batch: WriteBatch): Promise<void>
  /** Closes and opens the store again from what it stored; absent for stores that keep nothing. */
  reopen?: () => Promise<LogStore>
  cleanup(): Promise<void>
}

export type LogStoreFactory = () => Promise<LogStoreHarness>

const unlimitedBytes = Number.MAX_SAFE_INTEGER

export function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: 'normal', data: new TextEncoder().encode(data) }
}

export function entriesFrom(first: number, last: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let index = first; index <= last; index++) out.push(entry(index, term))
  return out
}

function confState(voters: number[]): ConfState {
  return { ...emptyConfState(), voters }
}

function snapshotAt(index: number, term: number, data = 'snap'): Snapshot {
  return { metadata: { index, term, confState: confState([1, 2, 3]) }, data: new TextEncoder().encode(data) }
}

function raftErrorCode(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    if (error instanceof RaftError) return error.code
    throw error
  }
  throw new Error('expected a RaftError, nothing was thrown')
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (error instanceof RaftError) return error.code
  if (error instanceof Error) return 'Error'
  return 'none'
}

/**
 * Everything a reader of the store can observe, for comparing two stores. Data is reduced to its
 * length and checksum: deep equality walks typed arrays element by element, far too slowly.
 */
export function observe(store: LogStore): unknown {
  const first = store.firstIndex()
  const last = store.lastIndex()
  const snapshot = store.snapshot()
  return {
    first,
    last,
    initialState: store.initialState(),
    snapshot: { metadata: snapshot.metadata, dataBytes: snapshot.data.length, dataCrc: crc32c(snapshot.data) },
    termBeforeFirst: store.term(first - 1),
    entries: (last >= first ? store.entries(first, last + 1, unlimitedBytes) : []).map(
      (e) => `${e.index}/${e.term}/${e.type}/${e.data.length}/${crc32c(e.data)}`,
    ),
  }
}

/** For stores that keep their data: reopening shows exactly what the store showed before. */
async function expectSameAfterReopen(h: LogStoreHarness, store: LogStore): Promise<void> {
  if (h.reopen === undefined) return
  const before = observe(store)
  expect(observe(await h.reopen())).toEqual(before)
}

export function describeLogStoreConformance(name: string, factory: LogStoreFactory): void {
  describe(`${name} (LogStore conformance)`, () => {
    let harness: LogStoreHarness | undefined
    const open = async () => {
      harness = await factory()
      return harness
    }
    afterEach(async () => {
      await harness?.cleanup()
      harness = undefined
    })

    it('an empty store has an empty initial state and no entries', async () => {
      const { store } = await open()
      expect(store.initialState()).toEqual({ hardState: { term: 0, vote: 0, commit: 0 }, confState: emptyConfState() })
      expect(store.firstIndex()).toBe(1)
      expect(store.lastIndex()).toBe(0)
      expect(store.term(0)).toBe(0)
      expect(raftErrorCode(() => store.term(1))).toBe('Unavailable')
      expect(raftErrorCode(() => store.entries(1, 1, unlimitedBytes))).toBe('Unavailable')
      expect(raftErrorCode(() => store.entries(0, 1, unlimitedBytes))).toBe('Compacted')
      expect(store.snapshot().metadata.index).toBe(0)
    })

    it('save() appends entries and records the hard state', async () => {
      const { store } = await open()
      const hardState: HardState = { term: 2, vote: 3, commit: 4 }
      await store.save({ entries: [...entriesFrom(1, 3, 1), ...entriesFrom(4, 5, 2)], hardState }, true)
      expect(store.lastIndex()).toBe(5)
      expect(store.entries(1, 6, unlimitedBytes)).toEqual([...entriesFrom(1, 3, 1), ...entriesFrom(4, 5, 2)])
      expect([1, 2, 3, 4, 5].map((i) => store.term(i))).toEqual([1, 1, 1, 2, 2])
      expect(store.initialState().hardState).toEqual(hardState)
      await store.save({ entries: entriesFrom(6, 6, 2) }, false)
      expect(store.lastIndex()).toBe(6)
      expect(store.initialState().hardState).toEqual(hardState)
    })

    it('save() replaces a conflicting tail and deletes what is not overwritten', async () => {
      const { store } = await open()
      await store.save({ entries: entriesFrom(1, 5, 1) }, true)
      await store.save({ entries: [entry(3, 2, 'new3'), entry(4, 2, 'new4')] }, true)
      expect(store.lastIndex()).toBe(4)
      expect(store.entries(1, 5, unlimitedBytes)).toEqual([...entriesFrom(1, 2, 1), entry(3, 2, 'new3'), entry(4, 2, 'new4')])
      expect(raftErrorCode(() => store.term(5))).toBe('Unavailable')
      await store.save({ entries: entriesFrom(4, 7, 3) }, true)
      expect(store.entries(1, 8, unlimitedBytes).map((e) => e.term)).toEqual([1, 1, 2, 3, 3, 3, 3])
      await store.save({ entries: [entry(2, 4)] }, false)
      await expectSameAfterReopen(harness!, store)
    })

    it('save() refuses a gap, a falling term or a commit beyond the log, and writes nothing', async () => {
      const { store } = await open()
      await store.save({ entries: entriesFrom(1, 3, 2), hardState: { term: 2, vote: 1, commit: 1 } }, true)
      const before = observe(store)
      await expect(store.save({ entries: entriesFrom(5, 6, 2) }, true)).rejects.toThrow(/missing log entry/)
      await expect(store.save({ entries: [entry(4, 1)] }, true)).rejects.toThrow(/term/)
      await expect(store.save({ entries: [entry(4, 2), entry(6, 2)] }, true)).rejects.toThrow(/contiguous/)
      await expect(store.save({ entries: [entry(4, 2)], hardState: { term: 2, vote: 1, commit: 5 } }, true)).rejects.toThrow(
        /commit 5/,
      )
      expect(observe(store)).toEqual(before)
      await store.save({ entries: [entry(4, 2)], hardState: { term: 2, vote: 1, commit: 4 } }, true)
      expect(store.lastIndex()).toBe(4)
      await expectSameAfterReopen(harness!, store)
    })

    it('entries() honours maxBytes but returns at least one entry', async () => {
      const { store } = await open()
      const list = entriesFrom(1, 5, 1)
      await store.save({ entries: list }, true)
      const size = entrySize(list[0]!)
      expect(store.entries(1, 6, 0)).toEqual(list.slice(0, 1))
      expect(store.entries(1, 6, size)).toEqual(list.slice(0, 1))
      expect(store.entries(1, 6, 2 * size)).toEqual(list.slice(0, 2))
      expect(store.entries(1, 6, 3 * size - 1)).toEqual(list.slice(0, 2))
      expect(store.entries(2, 6, 3 * size)).toEqual(list.slice(1, 4))
      expect(store.entries(2, 4, unlimitedBytes)).toEqual(list.slice(1, 3))
      expect(store.entries(3, 3, unlimitedBytes)).toEqual([])
      expect(() => store.entries(1, 7, unlimitedBytes)).toThrow(/out of bound/)
    })

    it('term() and entries() report Compacted and Unavailable at the boundaries', async () => {
      const { store } = await open()
      const hardState = { term: 2, vote: 0, commit: 6 }
      await store.save({ entries: [...entriesFrom(1, 3, 1), ...entriesFrom(4, 6, 2)], hardState }, true)
      await store.createSnapshot(5, confState([1]), new Uint8Array([9]))
      await store.compact(4)
      expect(store.firstIndex()).toBe(5)
      expect(store.lastIndex()).toBe(6)
      expect(raftErrorCode(() => store.term(3))).toBe('Compacted')
      expect(store.term(4)).toBe(2) // the compaction point still answers term()
      expect(store.term(6)).toBe(2)
      expect(raftErrorCode(() => store.term(7))).toBe('Unavailable')
      expect(raftErrorCode(() => store.entries(4, 6, unlimitedBytes))).toBe('Compacted')
      expect(store.entries(5, 7, unlimitedBytes)).toEqual(entriesFrom(5, 6, 2))
    })

    it('createSnapshot() records a snapshot of an applied index and refuses stale or future ones', async () => {
      const { store } = await open()
      await store.save({ entries: entriesFrom(1, 5, 3), hardState: { term: 3, vote: 0, commit: 5 } }, true)
      const data = new TextEncoder().encode('state at 3')
      const snapshot = await store.createSnapshot(3, confState([1, 2]), data)
      expect(snapshot).toEqual({ metadata: { index: 3, term: 3, confState: confState([1, 2]) }, data })
      expect(store.snapshot()).toEqual(snapshot)
      expect(store.firstIndex()).toBe(1) // a snapshot alone compacts nothing
      expect(await rejectionCode(store.createSnapshot(3, confState([1]), data))).toBe('SnapshotOutOfDate')
      expect(await rejectionCode(store.createSnapshot(2, confState([1]), data))).toBe('SnapshotOutOfDate')
      await expect(store.createSnapshot(6, confState([1]), data)).rejects.toThrow(/out of bound/)
      expect(store.initialState().confState).toEqual(confState([1, 2]))
    })

    it('compact() drops entries up to the index, only behind the snapshot', async () => {
      const { store } = await open()
      await store.save({ entries: entriesFrom(1, 6, 1), hardState: { term: 1, vote: 0, commit: 6 } }, true)
      await expect(store.compact(2)).rejects.toThrow(/beyond the snapshot/)
      await store.createSnapshot(4, confState([1]), new Uint8Array())
      await store.compact(2)
      expect(store.firstIndex()).toBe(3)
      expect(await rejectionCode(store.compact(2))).toBe('Compacted')
      expect(await rejectionCode(store.compact(1))).toBe('Compacted')
      await store.compact(4)
      expect(store.firstIndex()).toBe(5)
      expect(store.entries(5, 7, unlimitedBytes)).toEqual(entriesFrom(5, 6, 1))
      await store.createSnapshot(6, confState([1]), new Uint8Array())
      await store.compact(6)
      expect(store.firstIndex()).toBe(7)
      expect(store.lastIndex()).toBe(6)
      expect(store.term(6)).toBe(1)
      expect(raftErrorCode(() => store.entries(7, 7, unlimitedBytes))).toBe('Unavailable')
      await store.save({ entries: entriesFrom(7, 8, 2) }, true)
      expect(store.entries(7, 9, unlimitedBytes)).toEqual(entriesFrom(7, 8, 2))
      await expectSameAfterReopen(harness!, store)
    })

    it('save() with a snapshot from the leader replaces the whole log', async () => {
      const { store } = await open()
      await store.save({ entries: entriesFrom(1, 8, 1), hardState: { term: 1, vote: 0, commit: 3 } }, true)
      const snapshot = snapshotAt(10, 4)
      await store.save({ snapshot, entries: entriesFrom(11, 12, 4), hardState: { term: 4, vote: 2, commit: 10 } }, false)
      expect(store.snapshot()).toEqual(snapshot)
      expect(store.firstIndex()).toBe(11)
      expect(store.lastIndex()).toBe(12)
      expect(store.term(10)).toBe(4)
      expect(raftErrorCode(() => store.term(9))).toBe('Compacted')
      expect(store.initialState()).toEqual({ hardState: { term: 4, vote: 2, commit: 10 }, confState: confState([1, 2, 3]) })
      // Entries ahead of a snapshot that is further along than the log are discarded too.
      await store.save({ snapshot: snapshotAt(11, 4), entries: [] }, false)
      expect(store.firstIndex()).toBe(12)
      expect(store.lastIndex()).toBe(11)
      expect(await rejectionCode(store.save({ snapshot: snapshotAt(11, 4), entries: [] }, true))).toBe('SnapshotOutOfDate')
      await expect(store.save({ entries: [entry(11, 5)] }, true)).rejects.toThrow(/overwrite the snapshot/)
      await expectSameAfterReopen(harness!, store)
    })

    it('stageConfState() takes effect when its batch is written, and a newer snapshot wins', async () => {
      const { store, writeBatch } = await open()
      await store.save({ entries: entriesFrom(1, 4, 1), hardState: { term: 1, vote: 0, commit: 4 } }, true)
      await store.createSnapshot(2, confState([1]), new Uint8Array())
      const batch = new WriteBatch()
      store.stageConfState(batch, confState([1, 2]), 3)
      expect(store.initialState().confState).toEqual(confState([1]))
      await writeBatch(batch)
      expect(store.initialState().confState).toEqual(confState([1, 2]))
      expect(() => store.stageConfState(new WriteBatch(), confState([1]), 2)).toThrow(/older/)
      const snapshot = { metadata: { index: 9, term: 2, confState: confState([7]) }, data: new Uint8Array() }
      await store.save({ snapshot, entries: [] }, true)
      expect(store.initialState().confState).toEqual(confState([7]))
      await expectSameAfterReopen(harness!, store)
    })

    it('writes are applied in call order, each planned after the one before', async () => {
      const { store } = await open()
      const pending = [
        store.save({ entries: entriesFrom(1, 3, 1) }, false),
        store.save({ entries: entriesFrom(4, 6, 1), hardState: { term: 1, vote: 0, commit: 6 } }, true),
        store.createSnapshot(5, confState([1]), new Uint8Array()),
        store.compact(5),
        store.save({ entries: entriesFrom(6, 7, 2) }, true),
      ]
      expect(store.lastIndex()).toBe(0) // nothing is visible before it is stored
      await Promise.all(pending)
      expect(store.firstIndex()).toBe(6)
      expect(store.entries(6, 8, unlimitedBytes)).toEqual(entriesFrom(6, 7, 2))
    })

    it('close() waits for pending writes and then refuses calls', async () => {
      const { store } = await open()
      const saving = store.save({ entries: entriesFrom(1, 2, 1) }, true)
      await store.close()
      await saving
      expect(store.lastIndex()).toBe(2)
      expect(() => store.save({ entries: [] }, true)).toThrow(/closed/)
      await store.close()
    })

    it('save() refuses numbers the store cannot hold exactly', async () => {
      const { store } = await open()
      await expect(store.save({ entries: [entry(1, 1.5)] }, true)).rejects.toThrow(RangeError)
      await expect(store.save({ entries: [], hardState: { term: -1, vote: 0, commit: 0 } }, true)).rejects.toThrow(RangeError)
      await expect(store.save({ entries: [entry(2 ** 53, 1)] }, true)).rejects.toThrow(RangeError)
      expect(store.lastIndex()).toBe(0)
    })

    it('reopening keeps everything that was stored', async () => {
      const h = await open()
      if (h.reopen === undefined) return
      const { store, writeBatch } = h
      const bigData = new Uint8Array(2.5 * 1024 * 1024).map((_, i) => (i * 31) & 0xff)
      await store.save({ entries: entriesFrom(1, 10, 1), hardState: { term: 1, vote: 2, commit: 9 } }, true)
      await store.createSnapshot(8, confState([1, 2, 3]), bigData)
      await store.compact(6)
      const batch = new WriteBatch()
      store.stageConfState(batch, confState([1, 2, 3, 4]), 9)
      await writeBatch(batch)
      await store.save({ entries: [entry(10, 2, 'replaced'), entry(11, 2)], hardState: { term: 2, vote: 1, commit: 10 } }, false)
      const before = observe(store)
      const reopened = await h.reopen()
      expect(observe(reopened)).toEqual(before)
      expect(Buffer.compare(reopened.snapshot().data, bigData)).toBe(0)
      // A smaller snapshot later replaces the big one completely (its extra chunks are deleted).
      await reopened.createSnapshot(10, confState([1]), new Uint8Array([1, 2, 3]))
      const again = await h.reopen()
      expect(again.snapshot().data).toEqual(new Uint8Array([1, 2, 3]))
      expect(observe(again)).toEqual(observe(reopened))
    })

    it('matches core/raft MemoryStorage over random operation sequences', async () => {
      const fraction = fc.double({ min: 0, max: 1, noNaN: true })
      const operation = fc.oneof(
        fc.record({
          kind: fc.constant('append' as const),
          start: fraction,
          count: fc.integer({ min: 1, max: 4 }),
          termBump: fc.integer({ min: 0, max: 1 }),
        }),
        fc.record({ kind: fc.constant('snapshot' as const), at: fraction }),
        fc.record({ kind: fc.constant('compact' as const), at: fraction }),
        fc.record({ kind: fc.constant('leader-snapshot' as const), ahead: fc.integer({ min: 0, max: 3 }) }),
        fc.record({ kind: fc.constant('reopen' as const) }),
      )
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 25 }), async (operations) => {
          const h = await factory()
          try {
            let store = h.store
            const model = new MemoryStorage()
            for (const op of operations) {
              store = await applyRandomOperation(op, store, model, h)
              expect(observe(store)).toEqual(observe(model as unknown as LogStore))
            }
          } finally {
            await h.cleanup()
          }
        }),
        { numRuns: 25 },
      )
    })
  })
}

type RandomOperation =
  | { kind: 'append'; start: number; count: number; termBump: number }
  | { kind: 'snapshot'; at: number }
  | { kind: 'compact'; at: number }
  | { kind: 'leader-snapshot'; ahead: number }
  | { kind: 'reopen' }

function pick(from: number, to: number, fraction: number): number {
  return from + Math.floor(fraction * (to - from + 1 - 1e-9))
}

/** Applies one valid operation to both the store and the reference model. */
async function applyRandomOperation(
  op: RandomOperation,
  store: LogStore,
  model: MemoryStorage,
  h: LogStoreHarness,
): Promise<LogStore> {
  const snapshotIndex = model.snapshot().metadata.index
  const last = model.lastIndex()
  const maxTerm = model.term(last)
  if (op.kind === 'append') {
    // Like Raft: never rewrite the snapshot, never leave a gap; a rewrite brings a newer term.
    const start = pick(snapshotIndex + 1, last + 1, op.start)
    const term = maxTerm + op.termBump + (start <= last ? 1 : 0)
    const entries = entriesFrom(start, start + op.count - 1, term)
    // The commit never passes the rewritten part: Raft never truncates committed entries.
    const hardState = { term, vote: 1, commit: Math.min(model.hardState.commit, start - 1) }
    model.append(entries)
    model.setHardState(hardState)
    await store.save({ entries, hardState }, true)
  } else if (op.kind === 'snapshot' && last > snapshotIndex) {
    const index = pick(snapshotIndex + 1, last, op.at)
    const data = new TextEncoder().encode(`snapshot ${index}`)
    model.createSnapshot(index, confState([index]), data)
    await store.createSnapshot(index, confState([index]), data)
  } else if (op.kind === 'compact' && snapshotIndex >= model.firstIndex()) {
    const index = pick(model.firstIndex(), snapshotIndex, op.at)
    model.compact(index)
    await store.compact(index)
  } else if (op.kind === 'leader-snapshot') {
    const snapshot = snapshotAt(last + op.ahead + 1, maxTerm + 1)
    model.applySnapshot(snapshot)
    const hardState = { term: maxTerm + 1, vote: 0, commit: snapshot.metadata.index }
    model.setHardState(hardState)
    await store.save({ snapshot, entries: [], hardState }, true)
  } else if (op.kind === 'reopen' && h.reopen !== undefined) {
    return h.reopen()
  }
  return store
}
