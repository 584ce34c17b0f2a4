// Go's strconv quoting: Unquote for template string and character literals, Quote / QuoteRune for
// printf's %q.

const SIMPLE_ESCAPES: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\' }

export class SyntaxError extends Error {
  constructor() {
    super('invalid syntax')
  }
}

/** One (possibly escaped) character at s[i] inside a literal quoted by `quote`: [value, next index]. */
export function unquoteChar(s: string, i: number, quote: string): [string, number] {
  const c = s[i]
  if (c === undefined) throw new SyntaxError()
  if (c === quote && (quote === "'" || quote === '"')) throw new SyntaxError()
  if (c !== '\\') {
    const cp = s.codePointAt(i)!
    const ch = String.fromCodePoint(cp)
    return [ch, i + ch.length]
  }
  const e = s[i + 1]
  if (e === undefined) throw new SyntaxError()
  const simple = SIMPLE_ESCAPES[e]
  if (simple !== undefined) return [simple, i + 2]
  if (e === "'" || e === '"') {
    if (e !== quote) throw new SyntaxError()
    return [e, i + 2]
  }
  if (e === 'x' || e === 'u' || e === 'U') {
    const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
    const hex = s.slice(i + 2, i + 2 + n)
    if (hex.length !== n || !/^[0-9a-fA-F]+$/.test(hex)) throw new SyntaxError()
    const v = parseInt(hex, 16)
    if (e === 'x') return [String.fromCharCode(v), i + 2 + n] // a byte; Latin-1 here
    if (v > 0x10ffff || (v >= 0xd800 && v < 0xe000)) throw new SyntaxError()
    return [String.fromCodePoint(v), i + 2 + n]
  }
  if (e >= '0' && e <= '7') {
    const oct = s.slice(i + 1, i + 4)
    if (!/^[0-7]{3}$/.test(oct)) throw new SyntaxError()
    const v = parseInt(oct, 8)
    if (v > 255) throw new SyntaxError()
    return [String.fromCharCode(v), i + 4]
  }
  throw new SyntaxError()
}

/** strconv.Unquote of a "double-quoted" or `raw` literal. */
export function unquote(lit: string): string {
  const q = lit[0]
  if (lit.length < 2 || lit[lit.length - 1] !== q) throw new SyntaxError()
  const body = lit.slice(1, -1)
  if (q === '`') {
    if (body.includes('`')) throw new SyntaxError()
    return body.replaceAll('\r', '')
  }
  if (q !== '"') throw new SyntaxError()
  let out = ''
  let i = 0
  while (i < body.length) {
    if (body[i] === '\n') throw new SyntaxError()
    const [ch, next] = unquoteChar(body, i, '"')
    out += ch
    i = next
  }
  return out
}

/** The code point of a 'c' character literal. */
export function unquoteRune(lit: string): number {
  if (lit.length < 3 || lit[0] !== "'" || lit[lit.length - 1] !== "'") throw new SyntaxError()
  const body = lit.slice(1, -1)
  const [ch, next] = unquoteChar(body, 0, "'")
  if (next !== body.length) throw new SyntaxError()
  return ch.codePointAt(0)!
}

function isPrint(ch: string): boolean {
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch)
}

function escapeRune(cp: number, quote: string, asciiOnly: boolean): string {
  const ch = String.fromCodePoint(cp)
  if (ch === quote || ch === '\\') return '\\' + ch
  if (asciiOnly ? cp < 0x80 && isPrint(ch) : isPrint(ch)) return ch
  switch (ch) {
    case '\x07':
      return '\\a'
    case '\b':
      return '\\b'
    case '\f':
      return '\\f'
    case '\n':
      return '\\n'
    case '\r':
      return '\\r'
    case '\t':
      return '\\t'
    case '\v':
      return '\\v'
  }
  if (cp < 0x20 || cp === 0x7f) return '\\x' + cp.toString(16).padStart(2, '0')
  if (cp === 0xfffd) return '\\ufffd'
  if (cp < 0x10000) return '\\u' + cp.toString(16).padStart(4, '0')
  return '\\U' + cp.toString(16).padStart(8, '0')
}

/** strconv.Quote (asciiOnly: QuoteToASCII). */
export function goQuote(s: string, asciiOnly = false): string {
  let out = '"'
  for (const ch of s) out += escapeRune(ch.codePointAt(0)!, '"', asciiOnly)
  return out + '"'
}

/** strconv.QuoteRune (asciiOnly: QuoteRuneToASCII). */
export function goQuoteRune(cp: number, asciiOnly = false): string {
  if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000) || cp < 0) cp = 0xfffd
  return "'" + escapeRune(cp, "'", asciiOnly) + "'"
}

/** strconv.CanBackquote. */
export function canBackquote(s: string): boolean {
  for (const ch of s) {
    if (ch === '`' || ch === '\ufeff') return false
    const cp = ch.codePointAt(0)!
    if (cp < 0x20 && ch !== '\t') return false
    if (cp === 0x7f) return false
  }
  return true
}
