// The reboot window (locksmith's `--reboot-window-start "Thu 04:00" --reboot-window-length 1h`):
// a start time of day in local time, on one weekday or every day, and a length. Pure: every function
// takes the time it reasons about. Seconds (`04:00:30`) are accepted too.

import { parseDuration } from './duration.ts'

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']
const DAY_MS = 86_400_000
const WEEK_MS = 7 * DAY_MS

export interface RebootWindow {
  /** 0 = Sunday … 6 = Saturday; undefined: every day. */
  weekday: number | undefined
  hours: number
  minutes: number
  seconds: number
  lengthMs: number
}

/** Parses the two settings; both or neither must be given (undefined: no window, always open). */
export function parseWindow(start: string | undefined, length: string | undefined): RebootWindow | undefined {
  if (start === undefined && length === undefined) return undefined
  if (start === undefined || start.trim() === '') throw new RangeError('--reboot-window-length needs --reboot-window-start too')
  if (length === undefined || length.trim() === '') throw new RangeError('--reboot-window-start needs --reboot-window-length too')
  const m = /^\s*(?:([A-Za-z]+)\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?\s*$/.exec(start)
  if (m === null) throw new RangeError(`--reboot-window-start: expected "[Day ]HH:MM" such as "Thu 04:00", got "${start}"`)
  let weekday: number | undefined
  if (m[1] !== undefined) {
    const name = m[1].toLowerCase()
    weekday = DAYS.findIndex((d) => name === d || name === fullDayName(d))
    if (weekday < 0) throw new RangeError(`--reboot-window-start: unknown day "${m[1]}" (Sun, Mon, Tue, Wed, Thu, Fri or Sat)`)
  }
  const hours = Number(m[2])
  const minutes = Number(m[3])
  const seconds = m[4] === undefined ? 0 : Number(m[4])
  if (hours > 23 || minutes > 59 || seconds > 59) throw new RangeError(`--reboot-window-start: no such time of day "${start}"`)
  let lengthMs: number
  try {
    lengthMs = parseDuration(length)
  } catch (e) {
    throw new RangeError(`--reboot-window-length: ${(e as Error).message}`)
  }
  if (lengthMs <= 0) throw new RangeError(`--reboot-window-length: expected a positive duration, got "${length}"`)
  return { weekday, hours, minutes, seconds, lengthMs }
}

function fullDayName(d: string): string {
  return { sun: 'sunday', mon: 'monday', tue: 'tuesday', wed: 'wednesday', thu: 'thursday', fri: 'friday', sat: 'saturday' }[d]!
}

/** The latest window start at or before `nowMs` (local time). */
export function lastStart(w: RebootWindow, nowMs: number): number {
  const d = new Date(nowMs)
  d.setHours(w.hours, w.minutes, w.seconds, 0)
  if (w.weekday !== undefined) d.setDate(d.getDate() - ((d.getDay() - w.weekday + 7) % 7))
  while (d.getTime() > nowMs) d.setDate(d.getDate() - (w.weekday === undefined ? 1 : 7))
  return d.getTime()
}

/** The first window start after `nowMs`. */
export function nextStart(w: RebootWindow, nowMs: number): number {
  const d = new Date(lastStart(w, nowMs))
  d.setDate(d.getDate() + (w.weekday === undefined ? 1 : 7))
  return d.getTime()
}

/** Is the window open at `nowMs`? No window: always. */
export function inWindow(w: RebootWindow | undefined, nowMs: number): boolean {
  if (w === undefined) return true
  const period = w.weekday === undefined ? DAY_MS : WEEK_MS
  if (w.lengthMs >= period) return true
  return nowMs < lastStart(w, nowMs) + w.lengthMs
}

/** Milliseconds until the window next opens (0 if open now). */
export function untilOpen(w: RebootWindow | undefined, nowMs: number): number {
  if (inWindow(w, nowMs)) return 0
  return nextStart(w!, nowMs) - nowMs
}

/** Milliseconds the window stays open from `nowMs` (Infinity without a window; 0 if closed). */
export function untilClose(w: RebootWindow | undefined, nowMs: number): number {
  if (w === undefined) return Infinity
  if (!inWindow(w, nowMs)) return 0
  const period = w.weekday === undefined ? DAY_MS : WEEK_MS
  if (w.lengthMs >= period) return Infinity
  return lastStart(w, nowMs) + w.lengthMs - nowMs
}
