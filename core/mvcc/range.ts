// Answering a RangeRequest from an ordered scan of the state at the read revision, as etcd's
// applier does: count every key in range (the min/max revision filters do not reduce the count),
// filter, sort, cut to `limit` and say whether there was `more`.
//
// Results sorted by key are taken straight from a scan in the wanted direction and can be streamed
// (streamRange), so memory stays bounded however large the range; sorting on another field has to
// see every match first (as etcd does for every range).

import { compareBytes, emptyBytes } from './bytes.ts'
import { ClosingIterator } from './backend.ts'
import type { RangeRequest, RangeResponse, SortOrder, SortTarget } from './requests.ts'
import type { Scan } from './scan.ts'
import type { KeyValue, ResponseHeader } from './types.ts'

interface EffectiveSort {
  target: SortTarget
  order: SortOrder
}

function effectiveSort(request: RangeRequest): EffectiveSort {
  const target = request.sortTarget ?? 'KEY'
  const order = request.sortOrder ?? 'NONE'
  // etcd: a non-key target without an order means ascending; keys come ascending anyway.
  if (target !== 'KEY' && order === 'NONE') return { target, order: 'ASCEND' }
  return { target, order }
}

/** Whether the range's scan should run in descending key order. */
export function rangeScansReverse(request: RangeRequest): boolean {
  const sort = effectiveSort(request)
  return sort.target === 'KEY' && sort.order === 'DESCEND'
}

function passesFilters(request: RangeRequest, kv: KeyValue): boolean {
  const { minModRevision = 0, maxModRevision = 0, minCreateRevision = 0, maxCreateRevision = 0 } = request
  if (minModRevision > 0 && kv.modRevision < minModRevision) return false
  if (maxModRevision > 0 && kv.modRevision > maxModRevision) return false
  if (minCreateRevision > 0 && kv.createRevision < minCreateRevision) return false
  if (maxCreateRevision > 0 && kv.createRevision > maxCreateRevision) return false
  return true
}

function compareByTarget(target: SortTarget, a: KeyValue, b: KeyValue): number {
  switch (target) {
    case 'KEY':
      return compareBytes(a.key, b.key)
    case 'VERSION':
      return a.version - b.version
    case 'CREATE':
      return a.createRevision - b.createRevision
    case 'MOD':
      return a.modRevision - b.modRevision
    case 'VALUE':
      return compareBytes(a.value, b.value)
  }
}

/**
 * Sorts on a non-key target. Ties keep ascending key order (etcd's sort is not stable, so it leaves
 * tie order unspecified; a fixed order is more useful).
 */
function sortByTarget(kvs: KeyValue[], sort: EffectiveSort): void {
  const sign = sort.order === 'DESCEND' ? -1 : 1
  kvs.sort((a, b) => sign * compareByTarget(sort.target, a, b))
}

/** A range answer whose key-values are produced while the scan runs. */
export interface RangeStream {
  header: ResponseHeader
  /** The answer's key-values in order. Drain it (or call return()) to release the backend view. */
  kvs: AsyncIterableIterator<KeyValue, undefined>
  /** `count` and `more`: final once `kvs` is drained. */
  summary(): { count: number; more: boolean }
}

/**
 * Streams the answer from `scan` (opened in the direction rangeScansReverse() gave). Sorted by key,
 * memory stays bounded whatever the range size; sorted on another field, matches are gathered first.
 */
export function streamRange(request: RangeRequest, scan: Scan, headerRevision: number): RangeStream {
  const sort = effectiveSort(request)
  const limit = request.limit ?? 0
  const countOnly = request.countOnly === true
  const keysOnly = request.keysOnly === true
  const totals = { count: 0, more: false }
  const shape = (kv: KeyValue): KeyValue => (keysOnly ? { ...kv, value: emptyBytes } : kv)

  async function* byKey(): AsyncGenerator<KeyValue, undefined> {
    let returned = 0
    for await (const kv of scan) {
      totals.count++
      if (countOnly || !passesFilters(request, kv)) continue
      if (limit === 0 || returned < limit) {
        returned++
        yield shape(kv)
      } else {
        totals.more = true
      }
    }
  }

  async function* byTarget(): AsyncGenerator<KeyValue, undefined> {
    const matches: KeyValue[] = []
    for await (const kv of scan) {
      totals.count++
      if (!countOnly && passesFilters(request, kv)) matches.push(kv)
    }
    sortByTarget(matches, sort)
    if (limit > 0 && matches.length > limit) totals.more = true
    for (const kv of limit > 0 ? matches.slice(0, limit) : matches) yield shape(kv)
  }

  const generator = sort.target === 'KEY' ? byKey() : byTarget()
  return {
    header: { revision: headerRevision },
    kvs: new ClosingIterator(generator, [() => scan.return()]),
    summary: () => ({ ...totals }),
  }
}

/** The whole answer in memory (for txns, and callers that want one object). */
export async function runRange(request: RangeRequest, scan: Scan, headerRevision: number): Promise<RangeResponse> {
  const stream = streamRange(request, scan, headerRevision)
  const kvs: KeyValue[] = []
  for await (const kv of stream.kvs) kvs.push(kv)
  return { header: stream.header, kvs, ...stream.summary() }
}
