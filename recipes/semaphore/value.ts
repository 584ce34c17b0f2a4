// The reboot semaphore's key layout and value, as locksmith wrote them (a contract: dashboards and
// locksmithctl read it), and the pure state changes on it. No I/O here: semaphore.ts reads, decides
// with these functions and writes by compare-and-swap.
//
//   coreos.com/updateengine/rebootlock/semaphore                      {"semaphore":1,"max":1,"holders":[]}
//   coreos.com/updateengine/rebootlock/groups/<escaped>/semaphore     the same, one per group
//
// Holder liveness (optional, Cairn's addition) keeps two more keys per holder beside the semaphore:
//   …/holders/<escaped id>    bound to the holder's lease: present while the holder is alive
//   …/liveness/<escaped id>   permanent marker: this holder uses liveness, so it may be pruned
// A holder is pruned only when its marker exists and its lease-bound key is gone, so holders that
// locksmith or `cairn lock lock` added (no marker) are never pruned.

export const KEY_PREFIX = 'coreos.com/updateengine/rebootlock'

/** Most holders a semaphore may list (a bound on the value's size). */
export const HOLDERS_MAX = 10_000

export interface SemaphoreValue {
  /** Free slots; negative after set-max lowered the maximum below the holders. */
  semaphore: number
  max: number
  holders: string[]
}

/** Go's url.QueryEscape, which locksmith applies to group names. */
export function queryEscape(s: string): string {
  let out = ''
  for (const byte of new TextEncoder().encode(s)) {
    const c = String.fromCharCode(byte)
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0')
  }
  return out
}

/** The directory of a group's keys ('' or undefined: the default semaphore). */
export function semaphoreDir(group?: string): string {
  if (group === undefined || group === '') return KEY_PREFIX
  return `${KEY_PREFIX}/groups/${queryEscape(group)}`
}

export function semaphoreKey(group?: string): string {
  return `${semaphoreDir(group)}/semaphore`
}

export function holderKeyPrefix(group?: string): string {
  return `${semaphoreDir(group)}/holders/`
}

export function livenessMarkerPrefix(group?: string): string {
  return `${semaphoreDir(group)}/liveness/`
}

export function holderKey(id: string, group?: string): string {
  return holderKeyPrefix(group) + queryEscape(id)
}

export function livenessMarkerKey(id: string, group?: string): string {
  return livenessMarkerPrefix(group) + queryEscape(id)
}

export function initialValue(): SemaphoreValue {
  return { semaphore: 1, max: 1, holders: [] }
}

/** Parses a stored value; `holders: null` (Go's nil slice) reads as no holders. */
export function parseValue(text: string): SemaphoreValue {
  let o: unknown
  try {
    o = JSON.parse(text)
  } catch {
    throw new TypeError(`semaphore value: expected JSON {"semaphore","max","holders"}, got ${JSON.stringify(text.slice(0, 100))}`)
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new TypeError(`semaphore value: expected a JSON object, got ${text.slice(0, 100)}`)
  const r = o as Record<string, unknown>
  const semaphore = r.semaphore ?? 0
  const max = r.max ?? 0
  const holders = r.holders ?? []
  if (!Number.isSafeInteger(semaphore)) throw new TypeError(`semaphore value: expected an integer "semaphore", got ${JSON.stringify(r.semaphore)}`)
  if (!Number.isSafeInteger(max)) throw new TypeError(`semaphore value: expected an integer "max", got ${JSON.stringify(r.max)}`)
  if (!Array.isArray(holders) || !holders.every((h) => typeof h === 'string')) {
    throw new TypeError(`semaphore value: expected "holders" to be a list of strings or null, got ${JSON.stringify(r.holders)}`)
  }
  return { semaphore: semaphore as number, max: max as number, holders: [...(holders as string[])] }
}

/** The stored form, fields in locksmith's order. */
export function encodeValue(v: SemaphoreValue): string {
  return JSON.stringify({ semaphore: v.semaphore, max: v.max, holders: v.holders })
}

export type LockDecision =
  | { kind: 'already-holder' }
  | { kind: 'take'; next: SemaphoreValue }
  | { kind: 'full'; semaphore: number }

/** Taking a slot for `id`: idempotent for a holder (locksmith refuses there, locksmith#58). */
export function decideLock(v: SemaphoreValue, id: string): LockDecision {
  if (v.holders.includes(id)) return { kind: 'already-holder' }
  if (v.semaphore <= 0) return { kind: 'full', semaphore: v.semaphore }
  if (v.holders.length >= HOLDERS_MAX) return { kind: 'full', semaphore: v.semaphore }
  return { kind: 'take', next: { semaphore: v.semaphore - 1, max: v.max, holders: [...v.holders, id] } }
}

export type UnlockDecision = { kind: 'not-holder' } | { kind: 'release'; next: SemaphoreValue }

export function decideUnlock(v: SemaphoreValue, id: string): UnlockDecision {
  if (!v.holders.includes(id)) return { kind: 'not-holder' }
  return { kind: 'release', next: { semaphore: v.semaphore + 1, max: v.max, holders: v.holders.filter((h) => h !== id) } }
}

/** A new maximum: the free count moves by the difference (it may go negative); holders stay. */
export function decideSetMax(v: SemaphoreValue, max: number): SemaphoreValue {
  return { semaphore: v.semaphore + (max - v.max), max, holders: [...v.holders] }
}

/**
 * Dead holders: those with a liveness marker and no lease-bound key. Returns the value without them
 * (each gives its slot back) and the ids removed.
 */
export function decidePrune(v: SemaphoreValue, marked: ReadonlySet<string>, alive: ReadonlySet<string>): { next: SemaphoreValue; pruned: string[] } {
  const pruned = v.holders.filter((h) => marked.has(h) && !alive.has(h))
  if (pruned.length === 0) return { next: v, pruned }
  return { next: { semaphore: v.semaphore + pruned.length, max: v.max, holders: v.holders.filter((h) => !pruned.includes(h)) }, pruned }
}
