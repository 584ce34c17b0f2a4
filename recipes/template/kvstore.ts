// confd's in-memory view of a resource's keys (kelseyhightower/memkv semantics): keys are "/"-paths
// relative to the resource's prefix; exists/get/getv/gets/getvs/ls/lsdir answer from it.

import { clean, dir, base, join, match } from './path.ts'
import { compareStrings, GoSlice, GoStruct, stringSlice } from './values.ts'
import type { GoValue } from './values.ts'

/** memkv.KVPair: {Key, Value}. */
export class KVPair extends GoStruct {
  readonly goType = 'memkv.KVPair'
  constructor(
    readonly Key: string,
    readonly Value: string,
  ) {
    super()
  }

  fieldNames(): readonly string[] {
    return ['Key', 'Value']
  }

  field(name: string): GoValue {
    return name === 'Key' ? this.Key : name === 'Value' ? this.Value : undefined
  }
}

export const KV_PAIR_TYPE = 'memkv.KVPair'

export class KeyNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`key does not exist: ${key}`)
  }
}

function terms(p: string): string[] {
  return clean(p).split('/')
}

function samePrefixTerms(prefix: string[], test: string[]): boolean {
  if (test.length < prefix.length) return false
  return prefix.every((t, i) => t === test[i])
}

export class KVStore {
  readonly map: ReadonlyMap<string, string>

  constructor(entries: Iterable<readonly [string, string]> = []) {
    this.map = new Map(entries)
  }

  /**
   * The store confd builds for a resource: each key read from the cluster with its prefix cut off and
   * made a rooted, cleaned path (`/production/app/x` under prefix `/production` is `/app/x`).
   */
  static fromPrefixed(kvs: Iterable<readonly [string, string]>, prefix: string): KVStore {
    const out: Array<[string, string]> = []
    for (const [k, v] of kvs) out.push([join('/', k.startsWith(prefix) ? k.slice(prefix.length) : k), v])
    return new KVStore(out)
  }

  exists(key: string): boolean {
    return this.map.has(key)
  }

  get(key: string): KVPair {
    const v = this.map.get(key)
    if (v === undefined) throw new KeyNotFoundError(key)
    return new KVPair(key, v)
  }

  /** getv: the value, or the first default when the key is missing, else an error naming the key. */
  getValue(key: string, defaults: readonly string[] = []): string {
    const v = this.map.get(key)
    if (v !== undefined) return v
    if (defaults.length > 0) return defaults[0]!
    throw new KeyNotFoundError(key)
  }

  /** gets: every pair whose key matches the glob, sorted by key; an empty list when none does. */
  getAll(pattern: string): KVPair[] {
    const out: KVPair[] = []
    for (const [k, v] of this.map) if (match(pattern, k)) out.push(new KVPair(k, v))
    return out.sort((a, b) => compareStrings(a.Key, b.Key))
  }

  /** getvs: the values of every matching key, sorted by value (as memkv sorts them). */
  getAllValues(pattern: string): string[] {
    return this.getAll(pattern)
      .map((kv) => kv.Value)
      .sort(compareStrings)
  }

  /** ls: the names directly under a path (keys and directories alike), sorted. */
  list(path: string): string[] {
    const names = new Set<string>()
    const prefix = terms(path)
    for (const k of this.map.keys()) {
      if (k === path) {
        names.add(base(k))
        continue
      }
      if (samePrefixTerms(prefix, terms(dir(k)))) {
        const rest = k.startsWith(path) ? k.slice(path.length) : k
        names.add(rest.replace(/^\//, '').split('/')[0]!)
      }
    }
    return [...names].sort(compareStrings)
  }

  /** lsdir: the names directly under a path that have keys below them, sorted. */
  listDir(path: string): string[] {
    const names = new Set<string>()
    const prefix = terms(path)
    for (const k of this.map.keys()) {
      if (!k.startsWith(path)) continue
      const items = terms(dir(k))
      if (samePrefixTerms(prefix, items) && items.length - prefix.length >= 1) names.add(items[prefix.length]!)
    }
    return [...names].sort(compareStrings)
  }
}

export const kvSlice = (pairs: KVPair[]): GoSlice => new GoSlice(KV_PAIR_TYPE, pairs)
export { stringSlice }
