// Go's fmt for template values: Sprint, Sprintln, Sprintf with flags (+ - # space 0), width,
// precision, `*`, explicit argument indexes, and the verbs v T t b c d o O q x X U e E f F g G s %;
// mistakes print as Go prints them (%!d(string=x), %!s(MISSING), %!(EXTRA int=1), %!(NOVERB)).

import { formatFloat } from './float.ts'
import { canBackquote, goQuote, goQuoteRune } from './quote.ts'
import { GoMap, GoSlice, GoStruct, typeName } from './values.ts'
import type { GoValue } from './values.ts'

interface Flags {
  plus: boolean
  minus: boolean
  sharp: boolean
  space: boolean
  zero: boolean
  plusV: boolean
  sharpV: boolean
  width: number | undefined
  prec: number | undefined
}

function noFlags(): Flags {
  return { plus: false, minus: false, sharp: false, space: false, zero: false, plusV: false, sharpV: false, width: undefined, prec: undefined }
}

const runeCount = (s: string): number => [...s].length

class Printer {
  out = ''
  f: Flags = noFlags()

  private writePadding(n: number): void {
    if (n <= 0) return
    this.out += (this.f.zero ? '0' : ' ').repeat(n)
  }

  /** Appends s padded to the width (left or right by the minus flag). */
  pad(s: string): void {
    const w = this.f.width
    if (w === undefined || w === 0) {
      this.out += s
      return
    }
    const n = w - runeCount(s)
    if (this.f.minus) {
      this.out += s
      this.writePadding(n)
    } else {
      this.writePadding(n)
      this.out += s
    }
  }

  badVerb(verb: string, arg: GoValue): void {
    this.out += `%!${verb}(`
    if (arg === undefined || arg === null) this.out += '<nil>'
    else {
      this.out += typeName(arg) + '='
      this.printValue(arg, 'v', 0)
    }
    this.out += ')'
  }

  fmtInteger(v: bigint, base: number, verb: string, upper: boolean): void {
    const negative = v < 0n
    let digits = (negative ? -v : v).toString(base)
    if (upper) digits = digits.toUpperCase()
    let prec = 0
    if (this.f.prec !== undefined) {
      prec = this.f.prec
      if (prec === 0 && v === 0n) {
        const zero = this.f.zero
        this.f.zero = false
        this.writePadding(this.f.width ?? 0)
        this.f.zero = zero
        return
      }
    } else if (this.f.zero && !this.f.minus && this.f.width !== undefined) {
      prec = this.f.width
      if (negative || this.f.plus || this.f.space) prec--
    }
    if (digits.length < prec) digits = '0'.repeat(prec - digits.length) + digits
    if (this.f.sharp) {
      if (base === 2) digits = '0b' + digits
      else if (base === 8 && !digits.startsWith('0')) digits = '0' + digits
      else if (base === 16) digits = (upper ? '0X' : '0x') + digits
    }
    if (verb === 'O') digits = '0o' + digits
    if (negative) digits = '-' + digits
    else if (this.f.plus) digits = '+' + digits
    else if (this.f.space) digits = ' ' + digits
    const zero = this.f.zero
    this.f.zero = false
    this.pad(digits)
    this.f.zero = zero
  }

  fmtFloat(v: number, verb: 'e' | 'E' | 'f' | 'g' | 'G', defaultPrec: number): void {
    const prec = this.f.prec ?? defaultPrec
    let num = formatFloat(v, verb, prec)
    if (this.f.sharp && (verb === 'g' || verb === 'G') && !/[.eEIN]/.test(num)) num += '.'
    let sign = '+'
    if (num.startsWith('-') || num.startsWith('+')) {
      sign = num[0]!
      num = num.slice(1)
    }
    if (this.f.space && sign === '+' && !this.f.plus) sign = ' '
    if (num === 'Inf' || num === 'NaN') {
      const zero = this.f.zero
      this.f.zero = false
      if (num === 'NaN' && !this.f.space && !this.f.plus) this.pad(num)
      else this.pad(sign + num)
      this.f.zero = zero
      return
    }
    if (this.f.plus || sign !== '+') {
      const full = sign + num
      const w = this.f.width
      if (this.f.zero && w !== undefined && w > full.length) {
        this.out += sign
        this.writePadding(w - full.length)
        this.out += num
        return
      }
      this.pad(full)
      return
    }
    this.pad(num)
  }

  fmtString(s: string, verb: string): void {
    switch (verb) {
      case 'v':
        if (this.f.sharpV) this.pad(goQuote(s))
        else this.padString(s)
        return
      case 's':
        this.padString(s)
        return
      case 'q':
        this.fmtQ(s)
        return
      case 'x':
      case 'X':
        this.fmtSx(s, verb === 'X')
        return
    }
    this.badVerb(verb, s)
  }

  private truncate(s: string): string {
    if (this.f.prec === undefined) return s
    const chars = [...s]
    return chars.length > this.f.prec ? chars.slice(0, this.f.prec).join('') : s
  }

  padString(s: string): void {
    this.pad(this.truncate(s))
  }

  private fmtQ(s: string): void {
    s = this.truncate(s)
    if (this.f.sharp && canBackquote(s)) this.pad('`' + s + '`')
    else this.pad(goQuote(s, this.f.plus))
  }

  private fmtSx(s: string, upper: boolean): void {
    let bytes = [...new TextEncoder().encode(s)]
    if (this.f.prec !== undefined && bytes.length > this.f.prec) bytes = bytes.slice(0, this.f.prec)
    const parts: string[] = []
    bytes.forEach((b, i) => {
      let h = b.toString(16).padStart(2, '0')
      if (upper) h = h.toUpperCase()
      if (this.f.space) {
        if (this.f.sharp) h = (upper ? '0X' : '0x') + h
        parts.push((i > 0 ? ' ' : '') + h)
      } else {
        parts.push(i === 0 && this.f.sharp ? (upper ? '0X' : '0x') + h : h)
      }
    })
    this.pad(parts.join(''))
  }

  fmtBool(b: boolean, verb: string): void {
    if (verb === 't' || verb === 'v') this.padString(String(b))
    else this.badVerb(verb, b)
  }

  fmtInt(v: bigint, verb: string): void {
    switch (verb) {
      case 'v':
      case 'd':
        return this.fmtInteger(v, 10, verb, false)
      case 'b':
        return this.fmtInteger(v, 2, verb, false)
      case 'o':
      case 'O':
        return this.fmtInteger(v, 8, verb, false)
      case 'x':
        return this.fmtInteger(v, 16, verb, false)
      case 'X':
        return this.fmtInteger(v, 16, verb, true)
      case 'c':
        return this.pad(String.fromCodePoint(validRune(v)))
      case 'q':
        return this.pad(goQuoteRune(Number(v), this.f.plus))
      case 'U': {
        let s = 'U+' + (v < 0n ? BigInt.asUintN(64, v) : v).toString(16).toUpperCase().padStart(this.f.prec ?? 4, '0')
        if (this.f.sharp && v >= 0n && v <= 0x10ffffn) s += ` '${String.fromCodePoint(Number(v))}'`
        const zero = this.f.zero
        this.f.zero = false
        this.pad(s)
        this.f.zero = zero
        return
      }
    }
    this.badVerb(verb, v)
  }

  fmtFloat64(v: number, verb: string): void {
    switch (verb) {
      case 'v':
        return this.fmtFloat(v, 'g', -1)
      case 'g':
      case 'G':
        return this.fmtFloat(v, verb, -1)
      case 'e':
      case 'E':
      case 'f':
        return this.fmtFloat(v, verb, 6)
      case 'F':
        return this.fmtFloat(v, 'f', 6)
    }
    this.badVerb(verb, v)
  }

  /** printArg: one operand at depth 0. */
  printArg(arg: GoValue, verb: string): void {
    if (arg === undefined || arg === null) {
      if (verb === 'T' || verb === 'v') this.pad('<nil>')
      else this.badVerb(verb, arg)
      return
    }
    if (verb === 'T') {
      this.fmtString(typeName(arg), 's')
      return
    }
    this.printValue(arg, verb, 0)
  }

  printValue(v: GoValue, verb: string, depth: number): void {
    if (v === undefined || v === null) {
      if (depth === 0 && v === undefined) this.out += '<invalid reflect.Value>'
      else if (verb === 'v') this.pad('<nil>')
      else this.badVerb(verb, v)
      return
    }
    if (typeof v === 'string') return this.fmtString(v, verb)
    if (typeof v === 'boolean') return this.fmtBool(v, verb)
    if (typeof v === 'bigint') return this.fmtInt(v, verb)
    if (typeof v === 'number') return this.fmtFloat64(v, verb)
    if (v instanceof GoSlice) {
      if (this.f.sharpV) {
        this.out += v.type + '{'
        v.items.forEach((x, i) => {
          if (i > 0) this.out += ', '
          this.printValue(x, verb, depth + 1)
        })
        this.out += '}'
        return
      }
      this.out += '['
      v.items.forEach((x, i) => {
        if (i > 0) this.out += ' '
        this.printValue(x, verb, depth + 1)
      })
      this.out += ']'
      return
    }
    if (v instanceof GoMap) {
      this.out += this.f.sharpV ? v.type + '{' : 'map['
      v.sortedKeys().forEach((k, i) => {
        if (i > 0) this.out += this.f.sharpV ? ', ' : ' '
        this.printValue(k, verb, depth + 1)
        this.out += ':'
        this.printValue(v.entries.get(k), verb, depth + 1)
      })
      this.out += this.f.sharpV ? '}' : ']'
      return
    }
    this.printStruct(v, verb, depth)
  }

  private printStruct(v: GoStruct, verb: string, depth: number): void {
    const s = v.stringer()
    if (s !== undefined && !this.f.sharpV && (verb === 'v' || verb === 's' || verb === 'x' || verb === 'X' || verb === 'q')) {
      this.fmtString(s, verb)
      return
    }
    if (v.isPointer && depth === 0) this.out += '&'
    if (this.f.sharpV) this.out += v.goType.replace(/^\*/, '')
    this.out += '{'
    v.fieldNames().forEach((name, i) => {
      if (i > 0) this.out += this.f.sharpV ? ', ' : ' '
      if (this.f.plusV || this.f.sharpV) this.out += name + ':'
      this.printValue(v.field(name), verb, depth + 1)
    })
    this.out += '}'
  }
}

function validRune(v: bigint): number {
  if (v < 0n || v > 0x10ffffn || (v >= 0xd800n && v < 0xe000n)) return 0xfffd
  return Number(v)
}

/** fmt.Sprint: operands in %v, a space between two operands when neither is a string. */
export function sprint(args: readonly GoValue[]): string {
  const p = new Printer()
  let prevString = false
  args.forEach((a, i) => {
    const isString = typeof a === 'string'
    if (i > 0 && !isString && !prevString) p.out += ' '
    p.printArg(a, 'v')
    prevString = isString
  })
  return p.out
}

/** fmt.Sprintln: operands in %v separated by spaces, then a newline. */
export function sprintln(args: readonly GoValue[]): string {
  const p = new Printer()
  args.forEach((a, i) => {
    if (i > 0) p.out += ' '
    p.printArg(a, 'v')
  })
  return p.out + '\n'
}

/** Parses a decimal number at format[i]: [value, present, next index]. */
function parseNum(format: string, i: number): [number, boolean, number] {
  let n = 0
  let present = false
  while (i < format.length && format[i]! >= '0' && format[i]! <= '9') {
    if (n > 1e6) return [0, false, format.length]
    n = n * 10 + (format.charCodeAt(i) - 48)
    present = true
    i++
  }
  return [n, present, i]
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  const p = new Printer()
  let argNum = 0
  let reordered = false
  let i = 0
  const end = format.length

  // An explicit argument index [n]: returns [argNum, i, found]; goodArgNum is cleared on a bad one.
  let goodArgNum = true
  const argNumber = (current: number, at: number): [number, number, boolean] => {
    if (at >= end || format[at] !== '[') return [current, at, false]
    reordered = true
    const close = format.indexOf(']', at + 1)
    if (close < 0) {
      goodArgNum = false
      return [current, end, false]
    }
    const [n, ok, next] = parseNum(format, at + 1)
    if (!ok || next !== close || n < 1 || n > args.length) {
      goodArgNum = false
      return [current, close + 1, true]
    }
    return [n - 1, close + 1, true]
  }
  const intFromArg = (): [number | undefined] => {
    const a = args[argNum]
    argNum++
    if (typeof a === 'bigint' && a >= -1000000n && a <= 1000000n) return [Number(a)]
    return [undefined]
  }

  while (i < end) {
    goodArgNum = true
    const pct = format.indexOf('%', i)
    if (pct < 0) {
      p.out += format.slice(i)
      break
    }
    p.out += format.slice(i, pct)
    i = pct + 1
    p.f = noFlags()
    flags: for (; i < end; i++) {
      switch (format[i]) {
        case '#':
          p.f.sharp = true
          break
        case '0':
          p.f.zero = !p.f.minus
          break
        case '+':
          p.f.plus = true
          break
        case '-':
          p.f.minus = true
          p.f.zero = false
          break
        case ' ':
          p.f.space = true
          break
        default:
          break flags
      }
    }
    let afterIndex: boolean
    ;[argNum, i, afterIndex] = argNumber(argNum, i)
    if (i < end && format[i] === '*') {
      i++
      const [w] = intFromArg()
      if (w === undefined) p.out += '%!(BADWIDTH)'
      else if (w < 0) {
        p.f.width = -w
        p.f.minus = true
        p.f.zero = false
      } else p.f.width = w
      afterIndex = false
    } else {
      const [w, present, next] = parseNum(format, i)
      if (present) {
        p.f.width = w
        if (afterIndex) goodArgNum = false
      }
      i = next
    }
    if (i + 1 <= end && format[i] === '.') {
      i++
      if (afterIndex) goodArgNum = false
      ;[argNum, i, afterIndex] = argNumber(argNum, i)
      if (i < end && format[i] === '*') {
        i++
        const [prec] = intFromArg()
        if (prec === undefined) p.out += '%!(BADPREC)'
        else p.f.prec = prec < 0 ? undefined : prec
        afterIndex = false
      } else {
        const [prec, , next] = parseNum(format, i)
        p.f.prec = prec
        i = next
      }
    }
    if (!afterIndex) [argNum, i, afterIndex] = argNumber(argNum, i)
    if (i >= end) {
      p.out += '%!(NOVERB)'
      break
    }
    const verb = String.fromCodePoint(format.codePointAt(i)!)
    i += verb.length
    if (verb === '%') {
      p.out += '%'
      continue
    }
    if (!goodArgNum) {
      p.out += `%!${verb}(BADINDEX)`
      continue
    }
    if (argNum >= args.length) {
      p.out += `%!${verb}(MISSING)`
      continue
    }
    if (verb === 'v') {
      p.f.sharpV = p.f.sharp
      p.f.sharp = false
      p.f.plusV = p.f.plus
      p.f.plus = false
    }
    p.printArg(args[argNum], verb)
    argNum++
  }
  if (!reordered && argNum < args.length) {
    p.f = noFlags()
    p.out += '%!(EXTRA '
    args.slice(argNum).forEach((a, k) => {
      if (k > 0) p.out += ', '
      if (a === undefined || a === null) p.out += '<nil>'
      else {
        p.out += typeName(a) + '='
        p.printArg(a, 'v')
      }
    })
    p.out += ')'
  }
  return p.out
}

/** How an action prints its value: fmt.Fprint of one operand. */
export function printOne(v: GoValue): string {
  return sprint([v])
}
