// text/template's predefined functions: and or not len index slice print printf println, the
// comparisons eq ne lt le gt ge, and the escapers html js urlquery. Their messages are Go's.

import type { TemplateFunc } from './exec.ts'
import { sprint, sprintf, sprintln } from './fmt.ts'
import { byteLength, GoMap, GoSlice, GoStruct, isTrue, typeName, zeroOf } from './values.ts'
import type { GoValue } from './values.ts'

type Kind = 'invalid' | 'bool' | 'int' | 'float' | 'string' | 'other'

/** A nil interface{} is no value to the comparisons (Go's indirectInterface). */
const indirect = (v: GoValue): GoValue => (v === null ? undefined : v)

function basicKind(v: GoValue): Kind {
  if (v === undefined || v === null) return 'invalid'
  switch (typeof v) {
    case 'boolean':
      return 'bool'
    case 'bigint':
      return 'int'
    case 'number':
      return 'float'
    case 'string':
      return 'string'
  }
  return 'other'
}

const errBadComparisonType = 'invalid type for comparison'
const errBadComparison = 'incompatible types for comparison'
const errNoComparison = 'missing argument for comparison'

function comparable(v: GoValue): boolean {
  return !(v instanceof GoSlice || v instanceof GoMap)
}

export function eq(arg1: GoValue, ...rest: GoValue[]): boolean {
  arg1 = indirect(arg1)
  if (arg1 !== undefined && !comparable(arg1)) throw new Error(errBadComparisonType)
  if (rest.length === 0) throw new Error(errNoComparison)
  const k1 = basicKind(arg1)
  for (let arg of rest) {
    arg = indirect(arg)
    const k2 = basicKind(arg)
    let truth = false
    if (k1 !== k2) {
      if (arg1 !== undefined && arg !== undefined) throw new Error(errBadComparison)
    } else if (k1 === 'invalid') {
      truth = true
    } else if (k1 === 'other') {
      if (!comparable(arg)) throw new Error(`non-comparable type ${sprint([arg])}: ${typeName(arg)}`)
      if (typeName(arg1) !== typeName(arg)) throw new Error(`non-comparable types ${sprint([arg1])}: ${typeName(arg1)}, ${typeName(arg)}: ${sprint([arg])}`)
      truth = structEqual(arg1, arg)
    } else {
      truth = arg1 === arg
    }
    if (truth) return true
  }
  return false
}

function structEqual(a: GoValue, b: GoValue): boolean {
  if (a === b) return true
  if (!(a instanceof GoStruct) || !(b instanceof GoStruct)) return false
  if (a.isPointer) return false // pointers compare by identity
  return a.fieldNames().every((f) => {
    const x = a.field(f)
    const y = b.field(f)
    return x === y || structEqual(x, y)
  })
}

export function lt(arg1: GoValue, arg2: GoValue): boolean {
  arg1 = indirect(arg1)
  arg2 = indirect(arg2)
  const k1 = basicKind(arg1)
  const k2 = basicKind(arg2)
  if (k1 === 'invalid' || k1 === 'other' || k2 === 'invalid' || k2 === 'other') throw new Error(errBadComparisonType)
  if (k1 !== k2) throw new Error(errBadComparison)
  if (k1 === 'bool') throw new Error(errBadComparisonType)
  if (k1 === 'string') return compareBytes(arg1 as string, arg2 as string)
  return (arg1 as number | bigint) < (arg2 as number | bigint)
}

/** Go compares strings by bytes: UTF-8 order, which is code point order (not UTF-16 order). */
function compareBytes(a: string, b: string): boolean {
  const ea = [...a]
  const eb = [...b]
  for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
    const x = ea[i]!.codePointAt(0)!
    const y = eb[i]!.codePointAt(0)!
    if (x !== y) return x < y
  }
  return ea.length < eb.length
}

const lessThan = lt

export function le(arg1: GoValue, arg2: GoValue): boolean {
  return lessThan(arg1, arg2) || eq(arg1, arg2)
}

function length(item: GoValue): bigint {
  if (item === undefined) throw new Error('reflect: call of reflect.Value.Type on zero Value')
  if (item === null) throw new Error('len of nil pointer')
  if (typeof item === 'string') return BigInt(byteLength(item))
  if (item instanceof GoSlice) return BigInt(item.items.length)
  if (item instanceof GoMap) return BigInt(item.entries.size)
  throw new Error(`len of type ${typeName(item)}`)
}

function indexArg(index: GoValue, cap: number): number {
  index = indirect(index)
  if (index === undefined) throw new Error('cannot index slice/array with nil')
  if (typeof index !== 'bigint') throw new Error(`cannot index slice/array with type ${typeName(index)}`)
  if (index < 0n || index > BigInt(cap)) throw new Error(`index out of range: ${index}`)
  return Number(index)
}

const utf8 = new TextEncoder()

function index(item: GoValue, ...indexes: GoValue[]): GoValue {
  item = indirect(item)
  if (item === undefined) throw new Error('index of untyped nil')
  for (let ix of indexes) {
    ix = indirect(ix)
    if (item === undefined || item === null) throw new Error('index of nil pointer')
    if (item instanceof GoSlice) {
      const x = indexArg(ix, item.items.length)
      if (x === item.items.length) throw new Error('reflect: slice index out of range')
      item = item.items[x]
    } else if (typeof item === 'string') {
      const bytes = utf8.encode(item)
      const x = indexArg(ix, bytes.length)
      if (x === bytes.length) throw new Error('reflect: string index out of range')
      item = BigInt(bytes[x]!)
    } else if (item instanceof GoMap) {
      if (ix === undefined) throw new Error('value is nil; should be of type string')
      if (typeof ix !== 'string') throw new Error(`value has type ${typeName(ix)}; should be string`)
      item = item.entries.has(ix) ? item.entries.get(ix) : zeroOf(item.elem)
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`)
    }
  }
  return item
}

function slice(item: GoValue, ...indexes: GoValue[]): GoValue {
  item = indirect(item)
  if (item === undefined) throw new Error('slice of untyped nil')
  if (indexes.length > 3) throw new Error(`too many slice indexes: ${indexes.length}`)
  let cap: number
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new Error('cannot 3-index slice a string')
    cap = utf8.encode(item).length
  } else if (item instanceof GoSlice) cap = item.items.length
  else throw new Error(`can't slice item of type ${typeName(item)}`)
  const idx = [0, cap]
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(ix, cap)
  })
  const [lo, hi] = [idx[0]!, idx[1]!]
  if (lo > hi) throw new Error(`invalid slice index: ${lo} > ${hi}`)
  if (typeof item === 'string') return new TextDecoder().decode(utf8.encode(item).slice(lo, hi))
  return new GoSlice(item.elem, item.items.slice(lo, hi))
}

function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!)
}

function jsEscape(s: string): string {
  let out = ''
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    switch (ch) {
      case '\\': out += '\\\\'; continue
      case "'": out += "\\'"; continue
      case '"': out += '\\"'; continue
      case '<': out += '\\u003C'; continue
      case '>': out += '\\u003E'; continue
      case '&': out += '\\u0026'; continue
      case '=': out += '\\u003D'; continue
    }
    if (cp < 0x20) out += '\\u' + cp.toString(16).toUpperCase().padStart(4, '0')
    else out += ch
  }
  return out
}

function queryEscape(s: string): string {
  return [...utf8.encode(s)]
    .map((b) => {
      const c = String.fromCharCode(b)
      if (/[A-Za-z0-9\-_.~]/.test(c)) return c
      if (c === ' ') return '+'
      return '%' + b.toString(16).toUpperCase().padStart(2, '0')
    })
    .join('')
}

/** Go's evalArgs for html/js/urlquery: one string argument as is, else fmt.Sprint of all. */
const textOf = (args: GoValue[]): string => (args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args.map((a) => (a === undefined ? null : a))))

const V = 'reflect.Value'
const ANY = 'interface {}'

function fn(params: string[], call: (...a: GoValue[]) => GoValue, variadic?: string): TemplateFunc {
  return variadic === undefined ? { params, call, builtin: true } : { params, variadic, call, builtin: true }
}

export const BUILTINS: ReadonlyMap<string, TemplateFunc> = new Map<string, TemplateFunc>([
  ['and', fn([V], () => undefined, V)],
  ['or', fn([V], () => undefined, V)],
  ['not', fn([V], (a) => !isTrue(indirect(a)))],
  ['len', fn([V], (a) => length(a))],
  ['index', fn([V], (item, ...ix) => index(item, ...ix), V)],
  ['slice', fn([V], (item, ...ix) => slice(item, ...ix), V)],
  ['print', fn([], (...a) => sprint(a), ANY)],
  ['printf', fn(['string'], (f, ...a) => sprintf(f as string, a), ANY)],
  ['println', fn([], (...a) => sprintln(a), ANY)],
  ['eq', fn([V], (a, ...b) => eq(a, ...b), V)],
  ['ne', fn([V, V], (a, b) => !eq(a, b))],
  ['lt', fn([V, V], (a, b) => lessThan(a, b))],
  ['le', fn([V, V], (a, b) => le(a, b))],
  ['gt', fn([V, V], (a, b) => !le(a, b))],
  ['ge', fn([V, V], (a, b) => !lessThan(a, b))],
  ['html', fn([], (...a) => htmlEscape(textOf(a)), ANY)],
  ['js', fn([], (...a) => jsEscape(textOf(a)), ANY)],
  ['urlquery', fn([], (...a) => queryEscape(textOf(a)), ANY)],
])
