// Answering a RangeRequest from an ordered scan of the state at the read revision, as etcd's
// applier does: count every key in range (the min/max revision filters do not reduce the count),
// filter, sort, cut to `limit` and say whether there was `more`.
//
// Results sorted by key are taken straight from a scan in the wanted direction, so memory stays
// bounded by `limit`; sorting on another field has to see every match first (as etcd does too).

import { compareBytes, emptyBytes } from './bytes.ts'
import type { RangeRequest, RangeResponse, SortOrder, SortTarget } from './requests.ts'
import type { Scan } from './scan.ts'
import type { KeyValue } from './types.ts'

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

/** Consumes `scan` (opened in the direction rangeScansReverse() gave) and builds the answer. */
export async function runRange(request: RangeRequest, scan: Scan, headerRevision: number): Promise<RangeResponse> {
  const sort = effectiveSort(request)
  const byKey = sort.target === 'KEY'
  const limit = request.limit ?? 0
  const countOnly = request.countOnly === true
  let kvs: KeyValue[] = []
  let count = 0
  let more = false
  for await (const kv of scan) {
    count++
    if (countOnly || !passesFilters(request, kv)) continue
    if (!byKey || limit === 0 || kvs.length < limit) kvs.push(kv)
    else more = true
  }
  if (!byKey) {
    sortByTarget(kvs, sort)
    if (limit > 0 && kvs.length > limit) {
      kvs = kvs.slice(0, limit)
      more = true
    }
  }
  if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: emptyBytes }))
  return { header: { revision: headerRevision }, kvs, more, count }
}
