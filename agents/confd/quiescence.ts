// The pure decision step of watch mode: when a burst of changes has gone quiet, render once.
//
// A burst starts with the first change after the last render. It is rendered when no change came for
// `minMs` (quiescence), or when it has lasted `maxMs` (so a key that changes forever still renders),
// as consul-template's `wait = "min:max"`. With min = 0 every delivered batch of changes renders at
// once. Nothing here touches a clock or a timer: the loop feeds in `now` and arms a timer for `wakeAt`.

export interface WaitWindow {
  minMs: number
  /** 0 = no upper bound beyond min (min alone decides). */
  maxMs: number
}

export interface Burst {
  /** When the first change of the pending burst arrived; undefined = nothing pending. */
  firstAt: number | undefined
  /** When its latest change arrived. */
  lastAt: number | undefined
  /** Changes in the burst (for the log). */
  changes: number
}

export const EMPTY_BURST: Burst = { firstAt: undefined, lastAt: undefined, changes: 0 }

export function noteChange(b: Burst, now: number, count = 1): Burst {
  return { firstAt: b.firstAt ?? now, lastAt: now, changes: b.changes + count }
}

export type Decision = { kind: 'idle' } | { kind: 'render' } | { kind: 'wait'; wakeAt: number }

/** What to do about a burst at `now`. */
export function decide(b: Burst, now: number, w: WaitWindow): Decision {
  if (b.firstAt === undefined || b.lastAt === undefined) return { kind: 'idle' }
  const quietAt = b.lastAt + w.minMs
  const deadline = w.maxMs > 0 ? b.firstAt + w.maxMs : Infinity
  const due = Math.min(quietAt, deadline)
  if (now >= due) return { kind: 'render' }
  return { kind: 'wait', wakeAt: due }
}

/** Parses `--wait MIN[:MAX]` (Go durations); MAX defaults to 4×MIN as in consul-template. */
export function parseWait(text: string, parseDuration: (s: string) => number): WaitWindow {
  const [minText, maxText, extra] = text.split(':')
  if (extra !== undefined || minText === undefined || minText === '') throw new RangeError(`--wait: expected MIN[:MAX] durations, got "${text}"`)
  const minMs = parseDuration(minText)
  const maxMs = maxText === undefined ? minMs * 4 : parseDuration(maxText)
  if (maxMs < minMs) throw new RangeError(`--wait: MAX (${maxText}) is below MIN (${minText})`)
  return { minMs, maxMs }
}
