// Durations written as Go writes them (`300ms`, `2s`, `1m30s`), parsed to milliseconds; and Go's
// time.Duration String() for printing.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

export function parseDuration(text: string): number {
  const s = text.trim()
  if (s === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy
  let total = 0
  let matched = 0
  let m: RegExpExecArray | null
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!
    matched = re.lastIndex
  }
  if (matched === 0 || matched !== s.length) {
    throw new RangeError(/^\d+(\.\d+)?$/.test(s) ? `missing unit in duration "${s}"` : `invalid duration "${s}"`)
  }
  return total
}

/** Go's time.Duration.String() of a duration in nanoseconds (e.g. 1.026862ms, 819.925µs, 1m2.5s). */
export function goDuration(nanos: bigint): string {
  if (nanos === 0n) return '0s'
  const neg = nanos < 0n
  const n = neg ? -nanos : nanos
  let s: string
  if (n < 1000n) s = `${n}ns`
  else if (n < 1_000_000n) s = `${fraction(n, 1000n)}µs`
  else if (n < 1_000_000_000n) s = `${fraction(n, 1_000_000n)}ms`
  else {
    const hours = n / 3_600_000_000_000n
    const minutes = (n / 60_000_000_000n) % 60n
    const secondsNs = n % 60_000_000_000n
    s = `${fraction(secondsNs, 1_000_000_000n)}s`
    if (hours > 0n) s = `${hours}h${minutes}m${s}`
    else if (minutes > 0n) s = `${minutes}m${s}`
  }
  return neg ? `-${s}` : s
}

function fraction(n: bigint, unit: bigint): string {
  const whole = n / unit
  const rest = n % unit
  if (rest === 0n) return String(whole)
  const digits = String(unit).length - 1
  return `${whole}.${String(rest).padStart(digits, '0').replace(/0+$/, '')}`
}
