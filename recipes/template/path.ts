// Go's `path` package for slash-separated keys: Clean, Join, Base, Dir and Match (the glob syntax of
// confd's gets/getvs: `*` any run of non-/ characters, `?` one non-/ character, `[a-z]` / `[^a-z]`
// classes, `\` escapes).

/** path.Clean: the shortest equivalent path (no //, no /./, /../ resolved, no trailing slash). */
export function clean(p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(part)
  }
  const s = (rooted ? '/' : '') + out.join('/')
  return s === '' ? '.' : s
}

/** path.Join: the non-empty elements joined by slashes, cleaned. */
export function join(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '')
  return parts.length === 0 ? '' : clean(parts.join('/'))
}

/** path.Base: the last element (trailing slashes removed); "." for "", "/" for only slashes. */
export function base(p: string): string {
  if (p === '') return '.'
  const t = p.replace(/\/+$/, '')
  if (t === '') return '/'
  return t.slice(t.lastIndexOf('/') + 1)
}

/** path.Dir: everything but the last element, cleaned. */
export function dir(p: string): string {
  return clean(p.slice(0, p.lastIndexOf('/') + 1))
}

export class BadPatternError extends Error {
  constructor() {
    super('syntax error in pattern')
  }
}

type Term =
  | { kind: 'star' }
  | { kind: 'any' }
  | { kind: 'char'; ch: string }
  | { kind: 'class'; negated: boolean; ranges: Array<[number, number]> }

/** Compiles a pattern into terms; throws BadPatternError for a malformed one (as path.Match reports). */
function compile(pattern: string): Term[] {
  const chars = [...pattern]
  const terms: Term[] = []
  let i = 0
  const escaped = (): string => {
    i++
    const c = chars[i]
    if (c === undefined) throw new BadPatternError()
    i++
    return c
  }
  while (i < chars.length) {
    const c = chars[i]!
    if (c === '*') {
      terms.push({ kind: 'star' })
      i++
    } else if (c === '?') {
      terms.push({ kind: 'any' })
      i++
    } else if (c === '\\') {
      terms.push({ kind: 'char', ch: escaped() })
    } else if (c === '[') {
      i++
      let negated = false
      if (chars[i] === '^') {
        negated = true
        i++
      }
      const ranges: Array<[number, number]> = []
      for (;;) {
        const d = chars[i]
        if (d === undefined) throw new BadPatternError()
        if (d === ']' && ranges.length > 0) {
          i++
          break
        }
        const lo = classChar()
        let hi = lo
        if (chars[i] === '-') {
          i++
          hi = classChar()
        }
        if (hi < lo) throw new BadPatternError()
        ranges.push([lo, hi])
      }
      terms.push({ kind: 'class', negated, ranges })
    } else {
      terms.push({ kind: 'char', ch: c })
      i++
    }
  }
  return terms

  function classChar(): number {
    const c = chars[i]
    if (c === undefined || c === '-' || c === ']') throw new BadPatternError()
    if (c === '\\') return escaped().codePointAt(0)!
    i++
    return c.codePointAt(0)!
  }
}

function matchTerm(t: Term, ch: string): boolean {
  if (ch === '/') return t.kind === 'char' && t.ch === '/'
  switch (t.kind) {
    case 'any':
      return true
    case 'char':
      return t.ch === ch
    case 'class': {
      const cp = ch.codePointAt(0)!
      const inRange = t.ranges.some(([lo, hi]) => cp >= lo && cp <= hi)
      return inRange !== t.negated
    }
    case 'star':
      return false
  }
}

/** path.Match: whether `name` matches the shell pattern whole. */
export function match(pattern: string, name: string): boolean {
  const terms = compile(pattern)
  const chars = [...name]
  // Backtracking over stars, bounded: each star remembers one resume point (classic glob matching).
  let t = 0
  let n = 0
  let starT = -1
  let starN = 0
  while (n < chars.length) {
    const term = terms[t]
    if (term?.kind === 'star') {
      starT = t++
      starN = n
      continue
    }
    if (term !== undefined && matchTerm(term, chars[n]!)) {
      t++
      n++
      continue
    }
    // Let the last star absorb one more character, unless that character is a slash.
    if (starT >= 0 && chars[starN] !== '/') {
      starN++
      t = starT + 1
      n = starN
      continue
    }
    return false
  }
  while (terms[t]?.kind === 'star') t++
  return t === terms.length
}
