// confd's template functions with confd's semantics (resource/template/template_funcs.go and memkv):
// the store functions over a resource's keys, and base split json jsonArray dir map getenv join
// datetime toUpper toLower contains replace trimSuffix lookupIP lookupIPV4 lookupIPV6 lookupSRV
// fileExists base64Encode base64Decode parseBool reverse sortByLength sortKVByLength add sub div mod
// mul seq atoi. Everything outside the store (environment, clock, files, DNS) comes from a
// ConfdEnvironment, so rendering stays a pure function of its inputs.

import type { TemplateFunc } from './exec.ts'
import { sprintf } from './fmt.ts'
import { KV_PAIR_TYPE, KVPair, kvSlice } from './kvstore.ts'
import type { KVStore } from './kvstore.ts'
import { base, dir } from './path.ts'
import { GoTime, localZone } from './time.ts'
import type { Zone } from './time.ts'
import { byteLength, compareStrings, fromJson, GoMap, GoSlice, GoStruct, goInt, stringSlice, typeName } from './values.ts'
import type { GoValue } from './values.ts'

/** net.SRV as lookupSRV returns it (a pointer in Go: *net.SRV). */
export class SrvRecord extends GoStruct {
  readonly goType = '*net.SRV'
  constructor(
    readonly Target: string,
    readonly Port: number,
    readonly Priority: number,
    readonly Weight: number,
  ) {
    super()
  }

  fieldNames(): readonly string[] {
    return ['Target', 'Port', 'Priority', 'Weight']
  }

  field(name: string): GoValue {
    switch (name) {
      case 'Target':
        return this.Target
      case 'Port':
        return BigInt(this.Port)
      case 'Priority':
        return BigInt(this.Priority)
      case 'Weight':
        return BigInt(this.Weight)
    }
    return undefined
  }
}

export interface SrvAnswer {
  target: string
  port: number
  priority: number
  weight: number
}

/**
 * The world outside the store, as the template functions see it. Lookups are asynchronous in Node, so
 * they are answered from a cache: a lookup not cached yet answers `undefined`, is recorded in
 * `pending`, and the caller resolves the pending lookups and renders again (see LookupCache).
 */
export interface ConfdEnvironment {
  getenv(name: string): string | undefined
  /** Milliseconds since 1970 (the `datetime` function). */
  nowMs(): number
  zone?(epochMs: number): Zone
  fileExists(path: string): boolean
  lookupIP(host: string): string[] | undefined
  lookupSRV(service: string, proto: string, name: string): SrvAnswer[] | undefined
}

/** Lookup results for one render, and the lookups a render asked for that were not known yet. */
export class LookupCache {
  readonly ips = new Map<string, string[]>()
  readonly srvs = new Map<string, SrvAnswer[]>()
  readonly pendingIps = new Set<string>()
  readonly pendingSrvs = new Map<string, [string, string, string]>()

  static srvKey(service: string, proto: string, name: string): string {
    return `_${service}._${proto}.${name}`
  }

  lookupIP(host: string): string[] | undefined {
    const v = this.ips.get(host)
    if (v === undefined) this.pendingIps.add(host)
    return v
  }

  lookupSRV(service: string, proto: string, name: string): SrvAnswer[] | undefined {
    const key = LookupCache.srvKey(service, proto, name)
    const v = this.srvs.get(key)
    if (v === undefined) this.pendingSrvs.set(key, [service, proto, name])
    return v
  }

  get hasPending(): boolean {
    return this.pendingIps.size > 0 || this.pendingSrvs.size > 0
  }

  clearPending(): void {
    this.pendingIps.clear()
    this.pendingSrvs.clear()
  }
}

const S = 'string'
const I = 'int'
const ANY = 'interface {}'

const f = (params: string[], call: (...a: GoValue[]) => GoValue, variadic?: string): TemplateFunc =>
  variadic === undefined ? { params, call } : { params, variadic, call }

const str = (v: GoValue): string => v as string
const int = (v: GoValue): bigint => v as bigint

/** strings.Split: sep "" splits into characters; otherwise every occurrence. */
function split(s: string, sep: string): string[] {
  if (sep === '') return [...s]
  return s.split(sep)
}

/** strings.Replace: the first n occurrences (all when n < 0). */
function replace(s: string, old: string, repl: string, n: bigint): string {
  if (n === 0n || old === repl) return s
  if (old === '') {
    const chars = [...s]
    let out = ''
    let done = 0n
    for (let i = 0; i <= chars.length; i++) {
      if (n < 0n || done < n) {
        out += repl
        done++
      }
      if (i < chars.length) out += chars[i]
    }
    return out
  }
  if (n < 0n) return s.split(old).join(repl)
  let out = ''
  let rest = s
  for (let done = 0n; done < n; done++) {
    const at = rest.indexOf(old)
    if (at < 0) break
    out += rest.slice(0, at) + repl
    rest = rest.slice(at + old.length)
  }
  return out + rest
}

/** Go's simple case mapping: a character whose mapping is several characters (ß → SS) is kept. */
function mapCase(s: string, upper: boolean): string {
  let out = ''
  for (const ch of s) {
    const m = upper ? ch.toUpperCase() : ch.toLowerCase()
    out += [...m].length === 1 ? m : ch
  }
  return out
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

function base64Decode(s: string): string {
  if (s.length % 4 !== 0 || !BASE64.test(s) || /=[^=]/.test(s)) {
    let at = 0
    while (at < s.length && /[A-Za-z0-9+/]/.test(s[at]!)) at++
    if (at === s.length) at = s.length - (s.length % 4 === 0 ? 0 : s.length % 4)
    throw new Error(`illegal base64 data at input byte ${at}`)
  }
  return Buffer.from(s, 'base64').toString('utf8')
}

function parseBool(s: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false
  throw new Error(`strconv.ParseBool: parsing ${JSON.stringify(s)}: invalid syntax`)
}

function atoi(s: string): bigint {
  if (!/^[+-]?\d+$/.test(s)) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`)
  const v = BigInt(s)
  if (v < -(2n ** 63n) || v > 2n ** 63n - 1n) throw new Error(`strconv.Atoi: parsing ${JSON.stringify(s)}: value out of range`)
  return v
}

/** encoding/json's wording for a syntax error: end of input, or the offending character. */
function jsonError(e: unknown, data: string): Error {
  const msg = (e as Error).message
  const at = /position (\d+)/.exec(msg)
  const pos = at === null ? -1 : Number(at[1])
  if (data.trim() === '' || /end of (JSON )?input/i.test(msg) || pos >= data.length) return new Error('unexpected end of JSON input')
  const ch = pos >= 0 ? data[pos] : undefined
  if (ch !== undefined) return new Error(`invalid character ${JSON.stringify(ch).replace(/^"|"$/g, "'")} at offset ${pos + 1}`)
  return new Error(msg)
}

function unmarshalObject(data: string): GoValue {
  let v: unknown
  try {
    v = JSON.parse(data)
  } catch (e) {
    throw jsonError(e, data)
  }
  if (v === null) return new GoMap(ANY, new Map())
  if (typeof v !== 'object' || Array.isArray(v)) {
    const what = Array.isArray(v) ? 'array' : typeof v === 'boolean' ? 'bool' : typeof v
    throw new Error(`json: cannot unmarshal ${what} into Go value of type map[string]interface {}`)
  }
  return fromJson(v)
}

function unmarshalArray(data: string): GoValue {
  let v: unknown
  try {
    v = JSON.parse(data)
  } catch (e) {
    throw jsonError(e, data)
  }
  if (v === null) return new GoSlice(ANY, [])
  if (!Array.isArray(v)) {
    const what = typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : typeof v
    throw new Error(`json: cannot unmarshal ${what} into Go value of type []interface {}`)
  }
  return fromJson(v)
}

function createMap(values: GoValue[]): GoValue {
  if (values.length % 2 !== 0) throw new Error('invalid map call')
  const m = new Map<string, GoValue>()
  for (let i = 0; i < values.length; i += 2) {
    const k = values[i]
    if (typeof k !== 'string') throw new Error('map keys must be strings')
    m.set(k, values[i + 1])
  }
  return new GoMap(ANY, m)
}

/** reverse: reverses a []string or []memkv.KVPair in place; anything else comes back unchanged (as in confd). */
function reverse(v: GoValue): GoValue {
  if (v instanceof GoSlice && (v.elem === 'string' || v.elem === KV_PAIR_TYPE)) v.items.reverse()
  return v
}

function sortByLength(v: GoValue): GoValue {
  const s = v as GoSlice
  s.items.sort((a, b) => byteLength(a as string) - byteLength(b as string))
  return s
}

function sortKVByLength(v: GoValue): GoValue {
  const s = v as GoSlice
  s.items.sort((a, b) => byteLength((a as KVPair).Key) - byteLength((b as KVPair).Key))
  return s
}

function divide(a: bigint, b: bigint, op: 'div' | 'mod'): bigint {
  if (b === 0n) throw new Error('runtime error: integer divide by zero')
  return goInt(op === 'div' ? a / b : a % b)
}

function seq(first: bigint, last: bigint): GoValue {
  const items: GoValue[] = []
  if (last - first > 10_000_000n) throw new Error(`seq: more than 10000000 elements`)
  for (let i = first; i <= last; i++) items.push(i)
  return new GoSlice(I, items)
}

function sortIPs(ips: string[]): string[] {
  return [...ips].sort(compareStrings)
}

function srvSortKey(r: SrvAnswer): string {
  return sprintf('%s%d%d%d', [r.target, BigInt(r.port), BigInt(r.priority), BigInt(r.weight)])
}

/** confd's functions for one render: the store functions read `store`, the rest ask `env`. */
export function confdFuncs(store: KVStore, env: ConfdEnvironment): Map<string, TemplateFunc> {
  const lookupIP = (host: string): string[] => sortIPs(env.lookupIP(host) ?? [])
  const onlyWith = (needle: string) => (host: GoValue): GoValue => {
    const found = lookupIP(str(host)).filter((ip) => ip.includes(needle))
    return stringSlice(found)
  }
  return new Map<string, TemplateFunc>([
    // memkv
    ['exists', f([S], (k) => store.exists(str(k)))],
    ['get', f([S], (k) => store.get(str(k)))],
    ['gets', f([S], (p) => kvSlice(store.getAll(str(p))))],
    ['getv', f([S], (k, ...d) => store.getValue(str(k), d as string[]), S)],
    ['getvs', f([S], (p) => stringSlice(store.getAllValues(str(p))))],
    ['ls', f([S], (p) => stringSlice(store.list(str(p))))],
    ['lsdir', f([S], (p) => stringSlice(store.listDir(str(p))))],
    // template_funcs.go
    ['base', f([S], (p) => base(str(p)))],
    ['split', f([S, S], (s, sep) => stringSlice(split(str(s), str(sep))))],
    ['json', f([S], (d) => unmarshalObject(str(d)))],
    ['jsonArray', f([S], (d) => unmarshalArray(str(d)))],
    ['dir', f([S], (p) => dir(str(p)))],
    ['map', f([], (...v) => createMap(v), ANY)],
    ['getenv', f([S], (k, ...d) => {
      const v = env.getenv(str(k)) ?? ''
      return v === '' ? ((d[0] as string | undefined) ?? '') : v
    }, S)],
    ['join', f(['[]string', S], (a, sep) => (a === null ? [] : (a as GoSlice).items).join(str(sep)))],
    ['datetime', f([], () => {
      const ms = env.nowMs()
      return new GoTime(ms, env.zone ? env.zone(ms) : localZone(ms))
    })],
    ['toUpper', f([S], (s) => mapCase(str(s), true))],
    ['toLower', f([S], (s) => mapCase(str(s), false))],
    ['contains', f([S, S], (s, sub) => str(s).includes(str(sub)))],
    ['replace', f([S, S, S, I], (s, o, n, c) => replace(str(s), str(o), str(n), int(c)))],
    ['trimSuffix', f([S, S], (s, suf) => (str(suf) !== '' && str(s).endsWith(str(suf)) ? str(s).slice(0, -str(suf).length) : str(s)))],
    ['lookupIP', f([S], (h) => stringSlice(lookupIP(str(h))))],
    ['lookupIPV4', f([S], onlyWith('.'))],
    ['lookupIPV6', f([S], onlyWith(':'))],
    ['lookupSRV', f([S, S, S], (s, p, n) => {
      const answers = [...(env.lookupSRV(str(s), str(p), str(n)) ?? [])].sort((a, b) => compareStrings(srvSortKey(a), srvSortKey(b)))
      return new GoSlice('*net.SRV', answers.map((r) => new SrvRecord(r.target, r.port, r.priority, r.weight)))
    })],
    ['fileExists', f([S], (p) => env.fileExists(str(p)))],
    ['base64Encode', f([S], (s) => Buffer.from(str(s), 'utf8').toString('base64'))],
    ['base64Decode', f([S], (s) => base64Decode(str(s)))],
    ['parseBool', f([S], (s) => parseBool(str(s)))],
    ['reverse', f([ANY], (v) => reverse(v))],
    ['sortByLength', f(['[]string'], (v) => (v === null ? stringSlice([]) : sortByLength(v)))],
    ['sortKVByLength', f([`[]${KV_PAIR_TYPE}`], (v) => (v === null ? kvSlice([]) : sortKVByLength(v)))],
    ['add', f([I, I], (a, b) => goInt(int(a) + int(b)))],
    ['sub', f([I, I], (a, b) => goInt(int(a) - int(b)))],
    ['mul', f([I, I], (a, b) => goInt(int(a) * int(b)))],
    ['div', f([I, I], (a, b) => divide(int(a), int(b), 'div'))],
    ['mod', f([I, I], (a, b) => divide(int(a), int(b), 'mod'))],
    ['seq', f([I, I], (a, b) => seq(int(a), int(b)))],
    ['atoi', f([S], (s) => atoi(str(s)))],
  ])
}

export { KVPair, typeName }
