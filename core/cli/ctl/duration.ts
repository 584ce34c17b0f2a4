// Durations written as Go writes them (`300ms`, `2s`, `1m30s`), parsed to milliseconds; and Go's
// time.Duration String() for printing.

export { parseDuration } from '../../client/duration.ts'

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
