// Go's strconv.FormatFloat for float64 with the 'e', 'E', 'f', 'g', 'G' formats. Shortest forms take
// their digits from JavaScript (both languages print the shortest digits that round-trip); fixed
// precisions round the float's exact decimal expansion half-to-even, as Go does.

/** A decimal: value = 0.d₁d₂…dₙ × 10^dp; no trailing zeros; zero has nd = 0, dp = 0. */
interface Decimal {
  d: string
  dp: number
}

function trim(x: Decimal): Decimal {
  const d = x.d.replace(/0+$/, '')
  return d === '' ? { d: '', dp: 0 } : { d, dp: x.dp }
}

/** The exact decimal expansion of a positive finite float. */
function exactDecimal(x: number): Decimal {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, x)
  const bits = view.getBigUint64(0)
  let exp = Number((bits >> 52n) & 0x7ffn)
  let mant = bits & ((1n << 52n) - 1n)
  if (exp === 0) exp = 1
  else mant |= 1n << 52n
  exp -= 1075
  if (mant === 0n) return { d: '', dp: 0 }
  if (exp >= 0) {
    const s = (mant << BigInt(exp)).toString()
    return trim({ d: s, dp: s.length })
  }
  const s = (mant * 5n ** BigInt(-exp)).toString()
  return trim({ d: s, dp: s.length + exp })
}

/** Shortest round-tripping digits of a positive finite float. */
function shortestDecimal(x: number): Decimal {
  const [mant, e] = x.toExponential().split('e') as [string, string]
  return trim({ d: mant.replace('.', ''), dp: Number(e) + 1 })
}

/** Rounds to nd digits, half to even on an exact tie (the expansion is exact, so a tie is a tie). */
function roundDecimal(x: Decimal, nd: number): Decimal {
  if (nd < 0 || nd >= x.d.length) return nd < 0 ? { d: '', dp: 0 } : x
  const next = x.d.charCodeAt(nd) - 48
  let up: boolean
  if (next === 5 && nd + 1 === x.d.length) up = nd > 0 && (x.d.charCodeAt(nd - 1) - 48) % 2 === 1
  else up = next >= 5
  if (!up) return trim({ d: x.d.slice(0, nd), dp: x.dp })
  const digits = x.d.slice(0, nd).split('').map(Number)
  let i = nd - 1
  while (i >= 0 && digits[i] === 9) i--
  if (i < 0) return { d: '1', dp: x.dp + 1 }
  digits[i]!++
  return trim({ d: digits.slice(0, i + 1).join(''), dp: x.dp })
}

function fmtE(neg: boolean, x: Decimal, prec: number, fmt: 'e' | 'E'): string {
  let s = neg ? '-' : ''
  s += x.d.length > 0 ? x.d[0] : '0'
  if (prec > 0) {
    s += '.'
    for (let i = 1; i <= prec; i++) s += i < x.d.length ? x.d[i] : '0'
  }
  let exp = x.d.length === 0 ? 0 : x.dp - 1
  s += fmt
  if (exp < 0) {
    s += '-'
    exp = -exp
  } else s += '+'
  return s + (exp < 10 ? '0' + exp : String(exp))
}

function fmtF(neg: boolean, x: Decimal, prec: number): string {
  let s = neg ? '-' : ''
  if (x.dp > 0) {
    const m = Math.min(x.d.length, x.dp)
    s += x.d.slice(0, m) + '0'.repeat(x.dp - m)
  } else s += '0'
  if (prec > 0) {
    s += '.'
    for (let i = 1; i <= prec; i++) {
      const j = x.dp + i - 1
      s += j >= 0 && j < x.d.length ? x.d[j] : '0'
    }
  }
  return s
}

/** strconv.FormatFloat(v, fmt, prec, 64); prec -1 = shortest. */
export function formatFloat(v: number, fmt: 'e' | 'E' | 'f' | 'g' | 'G', prec: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  const neg = v < 0 || Object.is(v, -0)
  const abs = Math.abs(v)
  const shortest = prec < 0
  let x: Decimal
  if (shortest) {
    x = abs === 0 ? { d: '', dp: 0 } : shortestDecimal(abs)
    if (fmt === 'e' || fmt === 'E') prec = Math.max(x.d.length - 1, 0)
    else if (fmt === 'f') prec = Math.max(x.d.length - x.dp, 0)
    else prec = x.d.length
  } else {
    const exact = abs === 0 ? { d: '', dp: 0 } : exactDecimal(abs)
    if (fmt === 'e' || fmt === 'E') x = roundDecimal(exact, prec + 1)
    else if (fmt === 'f') x = roundDecimal(exact, exact.dp + prec)
    else {
      if (prec === 0) prec = 1
      x = roundDecimal(exact, prec)
    }
  }
  if (fmt === 'e' || fmt === 'E') return fmtE(neg, x, prec, fmt)
  if (fmt === 'f') return fmtF(neg, x, prec)
  // %g: %e for large and small exponents, else %f.
  let eprec = prec
  if (eprec > x.d.length && x.d.length >= x.dp) eprec = x.d.length
  if (shortest) eprec = 6
  const exp = x.dp - 1
  if (exp < -4 || exp >= eprec) {
    if (prec > x.d.length) prec = x.d.length
    return fmtE(neg, x, prec - 1, fmt === 'g' ? 'e' : 'E')
  }
  if (prec > x.dp) prec = x.d.length
  return fmtF(neg, x, Math.max(prec - x.dp, 0))
}
