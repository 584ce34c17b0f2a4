// Go values as the template engine sees them. The mapping keeps the distinctions Go's templates
// depend on:
//   undefined        an invalid reflect.Value ("no value": a missing map key, nil data)
//   null             a nil interface{} (JSON null, the `nil` constant given as interface{})
//   string, boolean  string, bool
//   bigint           int (64-bit, wrapping like Go's)
//   number           float64
//   GoSlice          a slice with its element type ([]string, []interface {}, []memkv.KVPair, …)
//   GoMap            map[string]T (iterated and printed in key order, as Go does)
//   GoStruct         a struct or pointer to one (memkv.KVPair, *net.SRV, time.Time) with fields and methods

export type GoType = string

export class GoSlice {
  constructor(
    readonly elem: GoType,
    readonly items: GoValue[],
  ) {}

  get type(): GoType {
    return `[]${this.elem}`
  }
}

export class GoMap {
  constructor(
    readonly elem: GoType,
    readonly entries: Map<string, GoValue>,
  ) {}

  get type(): GoType {
    return `map[string]${this.elem}`
  }

  sortedKeys(): string[] {
    return [...this.entries.keys()].sort(compareStrings)
  }
}

/** A Go function or method as templates call it: parameter types decide how constants convert. */
export interface GoFunc {
  readonly params: readonly GoType[]
  /** Element type of a final `...T` parameter. */
  readonly variadic?: GoType
  /** Throws an Error for Go's non-nil error result. */
  readonly call: (...args: GoValue[]) => GoValue
}

export abstract class GoStruct {
  /** The Go type as %T prints it (`memkv.KVPair`, `*net.SRV`). */
  abstract readonly goType: GoType
  /** Exported fields in declaration order. */
  abstract fieldNames(): readonly string[]
  abstract field(name: string): GoValue
  method(_name: string): GoFunc | undefined {
    return undefined
  }
  /** fmt.Stringer, when the type has a String method. */
  stringer(): string | undefined {
    return undefined
  }
  get isPointer(): boolean {
    return this.goType.startsWith('*')
  }
}

export type GoValue = undefined | null | string | boolean | bigint | number | GoSlice | GoMap | GoStruct

/** Go's byte-wise string order (UTF-8 order equals code point order). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done) return y.done ? 0 : -1
    if (y.done) return 1
    const cx = x.value.codePointAt(0)!
    const cy = y.value.codePointAt(0)!
    if (cx !== cy) return cx < cy ? -1 : 1
  }
}

export function typeName(v: GoValue): GoType {
  if (v === undefined || v === null) return '<nil>'
  if (typeof v === 'string') return 'string'
  if (typeof v === 'boolean') return 'bool'
  if (typeof v === 'bigint') return 'int'
  if (typeof v === 'number') return 'float64'
  if (v instanceof GoSlice || v instanceof GoMap) return v.type
  return v.goType
}

/** Go's truth in if/with/and/or/not: zero values, nil and empty collections are false; structs are true. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined || v === null) return false
  if (typeof v === 'string') return v.length > 0
  if (typeof v === 'boolean') return v
  if (typeof v === 'bigint') return v !== 0n
  if (typeof v === 'number') return v !== 0
  if (v instanceof GoSlice) return v.items.length > 0
  if (v instanceof GoMap) return v.entries.size > 0
  return true
}

export function zeroOf(t: GoType): GoValue {
  if (t === 'string') return ''
  if (t === 'int') return 0n
  if (t === 'float64') return 0
  if (t === 'bool') return false
  if (t.startsWith('[]')) return new GoSlice(t.slice(2), [])
  if (t.startsWith('map[string]')) return new GoMap(t.slice('map[string]'.length), new Map())
  return null
}

/** Whether a value of v's type may be passed where `t` is expected. */
export function assignable(v: GoValue, t: GoType): boolean {
  if (t === 'interface {}' || t === 'reflect.Value') return true
  return typeName(v) === t
}

/** Wraps a Go int result, wrapping around at 64 bits like Go's int. */
export function goInt(n: bigint): bigint {
  return BigInt.asIntN(64, n)
}

export const stringSlice = (items: string[]): GoSlice => new GoSlice('string', items)

const utf8 = new TextEncoder()

/** len() of a Go string: its UTF-8 bytes. */
export function byteLength(s: string): number {
  return utf8.encode(s).length
}

/** Converts decoded JSON the way encoding/json fills an interface{}: objects become map[string]interface {}, numbers float64. */
export function fromJson(v: unknown): GoValue {
  if (v === null) return null
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v
  if (Array.isArray(v)) return new GoSlice('interface {}', v.map(fromJson))
  if (typeof v === 'object') {
    const m = new Map<string, GoValue>()
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, fromJson(x))
    return new GoMap('interface {}', m)
  }
  return null
}
