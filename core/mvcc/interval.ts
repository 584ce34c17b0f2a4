// etcd's (key, range_end) convention turned into one half-open interval, so every scan, compare,
// delete and watch matches keys the same way.

import { compareBytes, concatBytes } from './bytes.ts'

/** Keys k with start <= k < end; `end` undefined means no upper bound. May be empty (end <= start). */
export interface KeyInterval {
  start: Uint8Array
  end: Uint8Array | undefined
}

const zeroByte = new Uint8Array([0])

/**
 * range_end absent or empty: the single key. range_end "\0": every key >= key. Otherwise
 * [key, range_end), which is empty when range_end <= key (etcd answers such a range with nothing).
 */
export function toInterval(key: Uint8Array, rangeEnd: Uint8Array | undefined): KeyInterval {
  if (rangeEnd === undefined || rangeEnd.length === 0) return { start: key, end: concatBytes(key, zeroByte) }
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { start: key, end: undefined }
  return { start: key, end: rangeEnd }
}

/** The one key an interval holds when it is [key, key + "\0"), else undefined. */
export function singleKeyOf(interval: KeyInterval): Uint8Array | undefined {
  const { start, end } = interval
  if (end === undefined || end.length !== start.length + 1 || end[start.length] !== 0) return undefined
  for (let i = 0; i < start.length; i++) if (end[i] !== start[i]) return undefined
  return start
}

export function intervalContains(interval: KeyInterval, key: Uint8Array): boolean {
  if (compareBytes(key, interval.start) < 0) return false
  return interval.end === undefined || compareBytes(key, interval.end) < 0
}

export function intervalIsEmpty(interval: KeyInterval): boolean {
  return interval.end !== undefined && compareBytes(interval.end, interval.start) <= 0
}
