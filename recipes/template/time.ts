// time.Time for templates (`datetime`, `{{datetime.Format "Jan 2, 2006 at 3:04pm (MST)"}}`): Go's
// reference-time layouts, String(), and the common accessor methods.

import { GoStruct } from './values.ts'
import type { GoFunc, GoValue } from './values.ts'

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday']

/** A zone: offset east of UTC in seconds and its abbreviation ("" when unknown). */
export interface Zone {
  offsetSeconds: number
  name: string
}

export const UTC: Zone = { offsetSeconds: 0, name: 'UTC' }

/** The process's local zone at an instant, as far as the JavaScript runtime knows it. */
export function localZone(epochMs: number): Zone {
  const offsetSeconds = -new Date(epochMs).getTimezoneOffset() * 60
  let name = ''
  try {
    const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' })
      .formatToParts(new Date(epochMs))
      .find((p) => p.type === 'timeZoneName')
    if (part !== undefined && !/^GMT[+-]/.test(part.value)) name = part.value === 'GMT' && offsetSeconds === 0 ? 'UTC' : part.value
  } catch {
    // no Intl zone names: print the numeric offset, as Go does for an unnamed zone
  }
  return { offsetSeconds, name }
}

type Std =
  | 'Jan' | 'January' | '1' | '01' | 'Mon' | 'Monday' | '2' | '_2' | '02' | '__2' | '002' | '15' | '3' | '03'
  | '4' | '04' | '5' | '05' | '2006' | '06' | 'PM' | 'pm' | 'MST'
  | '-070000' | '-07:00:00' | '-0700' | '-07:00' | '-07' | 'Z070000' | 'Z07:00:00' | 'Z0700' | 'Z07:00' | 'Z07'
  | 'frac'

interface Chunk {
  prefix: string
  std: Std | undefined
  /** For a fractional second: the separator, digit count and whether trailing zeros are trimmed (.999). */
  frac?: { sep: string; digits: number; trim: boolean }
  suffix: string
}

const startsWithLower = (s: string): boolean => s.length > 0 && s[0]! >= 'a' && s[0]! <= 'z'
const isDigitAt = (s: string, i: number): boolean => i < s.length && s[i]! >= '0' && s[i]! <= '9'

/** The next layout element in `layout` and the text before and after it (Go's reference-time rules). */
function nextChunk(layout: string): Chunk {
  const at = (i: number, s: string): boolean => layout.startsWith(s, i)
  for (let i = 0; i < layout.length; i++) {
    const cut = (std: Std, len: number): Chunk => ({ prefix: layout.slice(0, i), std, suffix: layout.slice(i + len) })
    switch (layout[i]) {
      case 'J':
        if (at(i, 'January')) return cut('January', 7)
        if (at(i, 'Jan') && !startsWithLower(layout.slice(i + 3))) return cut('Jan', 3)
        break
      case 'M':
        if (at(i, 'Monday')) return cut('Monday', 6)
        if (at(i, 'Mon') && !startsWithLower(layout.slice(i + 3))) return cut('Mon', 3)
        if (at(i, 'MST')) return cut('MST', 3)
        break
      case '0': {
        const d = layout[i + 1]
        if (d !== undefined && d >= '1' && d <= '6') return cut(('0' + d) as Std, 2)
        if (at(i, '002')) return cut('002', 3)
        break
      }
      case '1':
        if (at(i, '15')) return cut('15', 2)
        return cut('1', 1)
      case '2':
        if (at(i, '2006')) return cut('2006', 4)
        return cut('2', 1)
      case '_':
        if (layout[i + 1] === '2') {
          if (at(i + 1, '2006')) return { prefix: layout.slice(0, i + 1), std: '2006', suffix: layout.slice(i + 5) }
          return cut('_2', 2)
        }
        if (at(i, '__2')) return cut('__2', 3)
        break
      case '3':
      case '4':
      case '5':
        return cut(layout[i] as Std, 1)
      case 'P':
        if (at(i, 'PM')) return cut('PM', 2)
        break
      case 'p':
        if (at(i, 'pm')) return cut('pm', 2)
        break
      case '-':
        for (const s of ['-070000', '-07:00:00', '-0700', '-07:00', '-07'] as const) if (at(i, s)) return cut(s, s.length)
        break
      case 'Z':
        for (const s of ['Z070000', 'Z07:00:00', 'Z0700', 'Z07:00', 'Z07'] as const) if (at(i, s)) return cut(s, s.length)
        break
      case '.':
      case ',': {
        const ch = layout[i + 1]
        if (ch === '0' || ch === '9') {
          let j = i + 1
          while (j < layout.length && layout[j] === ch) j++
          if (!isDigitAt(layout, j)) {
            return { prefix: layout.slice(0, i), std: 'frac', frac: { sep: layout[i]!, digits: j - (i + 1), trim: ch === '9' }, suffix: layout.slice(j) }
          }
        }
        break
      }
    }
  }
  return { prefix: layout, std: undefined, suffix: '' }
}

const pad = (n: number, width: number, fill = '0'): string => {
  const s = String(Math.abs(n)).padStart(width, fill)
  return n < 0 ? '-' + s : s
}

/** Broken-down wall clock in a zone. */
interface Civil {
  year: number
  month: number // 1-12
  day: number
  hour: number
  minute: number
  second: number
  weekday: number // 0 = Sunday
  yearDay: number // 1-366
}

export class GoTime extends GoStruct {
  readonly goType = 'time.Time'

  /** epochMs: milliseconds since 1970 UTC; nanos: extra nanoseconds within the millisecond. */
  constructor(
    readonly epochMs: number,
    readonly zone: Zone,
    readonly extraNanos = 0,
  ) {
    super()
  }

  fieldNames(): readonly string[] {
    return []
  }

  field(): GoValue {
    return undefined
  }

  get nanosecond(): number {
    return (((this.epochMs % 1000) + 1000) % 1000) * 1_000_000 + this.extraNanos
  }

  civil(): Civil {
    const d = new Date(this.epochMs + this.zone.offsetSeconds * 1000)
    const start = Date.UTC(d.getUTCFullYear(), 0, 1)
    const dayStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
      yearDay: Math.round((dayStart - start) / 86_400_000) + 1,
    }
  }

  format(layout: string): string {
    const c = this.civil()
    let out = ''
    let rest = layout
    while (rest !== '') {
      const chunk = nextChunk(rest)
      out += chunk.prefix
      if (chunk.std === undefined) break
      out += this.element(chunk, c)
      rest = chunk.suffix
    }
    return out
  }

  private element(chunk: Chunk, c: Civil): string {
    const hour12 = c.hour % 12 === 0 ? 12 : c.hour % 12
    switch (chunk.std!) {
      case 'January':
        return MONTHS[c.month - 1]!
      case 'Jan':
        return MONTHS[c.month - 1]!.slice(0, 3)
      case '1':
        return String(c.month)
      case '01':
        return pad(c.month, 2)
      case 'Monday':
        return DAYS[c.weekday]!
      case 'Mon':
        return DAYS[c.weekday]!.slice(0, 3)
      case '2':
        return String(c.day)
      case '_2':
        return pad(c.day, 2, ' ')
      case '02':
        return pad(c.day, 2)
      case '__2':
        return pad(c.yearDay, 3, ' ')
      case '002':
        return pad(c.yearDay, 3)
      case '15':
        return pad(c.hour, 2)
      case '3':
        return String(hour12)
      case '03':
        return pad(hour12, 2)
      case '4':
        return String(c.minute)
      case '04':
        return pad(c.minute, 2)
      case '5':
        return String(c.second)
      case '05':
        return pad(c.second, 2)
      case '2006':
        return pad(c.year, 4)
      case '06':
        return pad(((c.year % 100) + 100) % 100, 2)
      case 'PM':
        return c.hour >= 12 ? 'PM' : 'AM'
      case 'pm':
        return c.hour >= 12 ? 'pm' : 'am'
      case 'MST':
        return this.zone.name !== '' ? this.zone.name : this.offset(false, false, false)
      case 'frac': {
        const f = chunk.frac!
        let digits = String(this.nanosecond).padStart(9, '0').slice(0, f.digits)
        if (f.trim) {
          digits = digits.replace(/0+$/, '')
          return digits === '' ? '' : f.sep + digits
        }
        return f.sep + digits
      }
      default:
        return this.zoneElement(chunk.std!)
    }
  }

  private zoneElement(std: Std): string {
    const iso = std.startsWith('Z')
    if (iso && this.zone.offsetSeconds === 0) return 'Z'
    const colon = std.includes(':')
    const short = std === '-07' || std === 'Z07'
    const seconds = std.endsWith('0000') || std.endsWith(':00:00')
    if (short) {
      const h = Math.trunc(Math.abs(this.zone.offsetSeconds) / 3600)
      return (this.zone.offsetSeconds < 0 ? '-' : '+') + pad(h, 2)
    }
    return this.offset(colon, seconds, true)
  }

  private offset(colon: boolean, seconds: boolean, _withSign: boolean): string {
    const off = this.zone.offsetSeconds
    const abs = Math.abs(off)
    const sep = colon ? ':' : ''
    let s = (off < 0 ? '-' : '+') + pad(Math.trunc(abs / 3600), 2) + sep + pad(Math.trunc(abs / 60) % 60, 2)
    if (seconds) s += sep + pad(abs % 60, 2)
    return s
  }

  override stringer(): string {
    return this.format('2006-01-02 15:04:05.999999999 -0700 MST')
  }

  override method(name: string): GoFunc | undefined {
    const c = (): Civil => this.civil()
    const noArgs = (fn: () => GoValue): GoFunc => ({ params: [], call: fn })
    switch (name) {
      case 'Format':
        return { params: ['string'], call: (layout) => this.format(layout as string) }
      case 'String':
        return noArgs(() => this.stringer())
      case 'Unix':
        return noArgs(() => BigInt(Math.floor(this.epochMs / 1000)))
      case 'UnixMilli':
        return noArgs(() => BigInt(Math.floor(this.epochMs)))
      case 'UnixNano':
        return noArgs(() => BigInt(Math.floor(this.epochMs)) * 1_000_000n + BigInt(this.extraNanos))
      case 'Year':
        return noArgs(() => BigInt(c().year))
      case 'Month':
        return noArgs(() => MONTHS[c().month - 1]!)
      case 'Day':
        return noArgs(() => BigInt(c().day))
      case 'Hour':
        return noArgs(() => BigInt(c().hour))
      case 'Minute':
        return noArgs(() => BigInt(c().minute))
      case 'Second':
        return noArgs(() => BigInt(c().second))
      case 'Nanosecond':
        return noArgs(() => BigInt(this.nanosecond))
      case 'YearDay':
        return noArgs(() => BigInt(c().yearDay))
      case 'Weekday':
        return noArgs(() => DAYS[c().weekday]!)
      case 'UTC':
        return noArgs(() => new GoTime(this.epochMs, UTC, this.extraNanos))
      case 'Local':
        return noArgs(() => new GoTime(this.epochMs, localZone(this.epochMs), this.extraNanos))
    }
    return undefined
  }
}
