// Ordered scans of the keyspace as it was at a revision. The 'k' family holds only the latest state;
// an older state is the latest one with every later change undone. For a key changed after the read
// revision R, its state at R is the previous value recorded in its first event after R (or nothing, if
// that event created it). So a scan at R merges the 'k' scan with those "patches" from history.
//
// Both iterators are opened together, before the first await, so by the backend's view contract they
// see the same state even while new revisions are written.

import type { BackendIterator, KvBackend } from './backend.ts'
import { ClosingIterator, EntryStream, entriesOf } from './backend.ts'
import { bytesToBinaryString, compareBytes } from './bytes.ts'
import type { KeyInterval } from './interval.ts'
import { intervalContains, intervalIsEmpty } from './interval.ts'
import { historyBounds, keyOfKeyspaceKey, keyspaceBounds, keyspaceKey } from './layout.ts'
import { decodeEventRecord, decodeKeyValueRecord } from './records.ts'
import type { KeyValue } from './types.ts'

/** A key's state replacing whatever the base scan says: `kv` undefined means "absent". */
export interface Patch {
  key: Uint8Array
  kv: KeyValue | undefined
}

/** Sorts patches ascending by key (the order mergePatches expects). */
export function sortPatches(patches: Iterable<Patch>): Patch[] {
  return [...patches].sort((a, b) => compareBytes(a.key, b.key))
}

/** A scan that releases its backend views on return(), whether or not it was started. */
export interface Scan extends AsyncIterableIterator<KeyValue, undefined> {
  return(): Promise<IteratorResult<KeyValue, undefined>>
}

export function openLatestScan(backend: KvBackend, interval: KeyInterval, reverse: boolean): Scan {
  const iterator = backend.iterate({ ...keyspaceBounds(interval), reverse })
  return new EntryStream(iterator, (entry) => decodeKeyValueRecord(keyOfKeyspaceKey(entry.key), entry.value))
}

/**
 * The base scan with patches applied. `patches` are sorted ascending by key and lie inside the
 * scanned interval; the output keeps the scan's direction.
 */
export async function* mergePatches(
  base: AsyncIterable<KeyValue>,
  patches: readonly Patch[],
  reverse: boolean,
): AsyncGenerator<KeyValue, undefined> {
  const step = reverse ? -1 : 1
  let next = reverse ? patches.length - 1 : 0
  const before = (a: Uint8Array, b: Uint8Array): boolean => (reverse ? compareBytes(a, b) > 0 : compareBytes(a, b) < 0)
  for await (const kv of base) {
    while (next >= 0 && next < patches.length && before(patches[next]!.key, kv.key)) {
      const patched = patches[next]!.kv
      next += step
      if (patched !== undefined) yield patched
    }
    const current = patches[next]
    if (current !== undefined && compareBytes(current.key, kv.key) === 0) {
      next += step
      if (current.kv !== undefined) yield current.kv
    } else {
      yield kv
    }
  }
  for (; next >= 0 && next < patches.length; next += step) {
    const patched = patches[next]!.kv
    if (patched !== undefined) yield patched
  }
}

/** Patches that turn the state after all history into the state at `revision`. */
async function historyPatches(history: BackendIterator, interval: KeyInterval): Promise<Patch[]> {
  const firstChange = new Map<string, Patch>()
  for await (const entry of entriesOf(history)) {
    const event = decodeEventRecord(entry.value)
    if (!intervalContains(interval, event.kv.key)) continue
    const id = bytesToBinaryString(event.kv.key)
    if (!firstChange.has(id)) firstChange.set(id, { key: event.kv.key, kv: event.prevKv })
  }
  return sortPatches(firstChange.values())
}

async function* scanWithHistory(
  latest: Scan,
  history: BackendIterator,
  interval: KeyInterval,
  reverse: boolean,
): AsyncGenerator<KeyValue, undefined> {
  const patches = await historyPatches(history, interval)
  yield* mergePatches(latest, patches, reverse)
}

async function* nothing(): AsyncGenerator<KeyValue, undefined> {}

async function* listed(kvs: readonly KeyValue[]): AsyncGenerator<KeyValue, undefined> {
  yield* kvs
}

/**
 * The latest state of one key as a scan, by a point read: no iterator, no trip to the thread pool.
 * Most reads (a lock, a leader key, a config value) are of one key at the head revision.
 */
export async function openLatestKey(backend: KvBackend, key: Uint8Array): Promise<Scan> {
  const kv = await readLatestKey(backend, key)
  return new ClosingIterator(listed(kv === undefined ? [] : [kv]), [])
}

/** The latest state of one key by a point read, or undefined when it does not exist. */
export async function readLatestKey(backend: KvBackend, key: Uint8Array): Promise<KeyValue | undefined> {
  const record = await backend.get(keyspaceKey(key))
  return record === undefined ? undefined : decodeKeyValueRecord(key.slice(), record)
}

/**
 * Opens a scan of `interval` at `revision`, given that the backend's latest state is `headRevision`.
 * Callers check revision <= headRevision and that history after `revision` is still kept. The
 * iterators are opened synchronously here; the returned generator must be drained or returned.
 */
export function openScanAt(
  backend: KvBackend,
  interval: KeyInterval,
  revision: number,
  headRevision: number,
  reverse: boolean,
): Scan {
  if (intervalIsEmpty(interval)) return new ClosingIterator(nothing(), [])
  const latest = openLatestScan(backend, interval, reverse)
  if (revision >= headRevision) return latest
  const history = backend.iterate(historyBounds(revision + 1, headRevision + 1))
  return new ClosingIterator(scanWithHistory(latest, history, interval, reverse), [
    () => latest.return(),
    () => history.close(),
  ])
}
