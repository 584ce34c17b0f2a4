// Durations written as Go writes them (`300ms`, `2s`, `1m30s`, `1h`), parsed to milliseconds. Shared by
// the CLI and every agent (the client is the layer they all may use): one grammar, one set of error messages.

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Throws RangeError for a malformed duration, naming a bare number's missing unit. */
export function parseDuration(text: string): number {
  const s = text.trim()
  if (s === '0') return 0
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy
  let total = 0
  let end = 0
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!
    end = re.lastIndex
  }
  if (end === 0 || end !== s.length) {
    throw new RangeError(/^\d+(\.\d+)?$/.test(s) ? `missing unit in duration "${s}" (e.g. 30s, 1h)` : `invalid duration "${s}"`)
  }
  return total
}
