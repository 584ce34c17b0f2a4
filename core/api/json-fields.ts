// Field readers for etcd's v3 JSON (grpc-gateway / jsonpb) request bodies. jsonpb accepts a field under
// its proto name (range_end) or its camelCase name (rangeEnd); int64 values as numbers or strings;
// enums as names or numbers; bytes as standard base64. Unknown fields are ignored, as etcd does.

import { InvalidArgumentError } from '../errors.ts'

export type JsonObject = Record<string, unknown>

export function field(o: JsonObject, protoName: string): unknown {
  if (protoName in o) return o[protoName]
  const camel = protoName.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
  return o[camel]
}

export function asObject(v: unknown, what: string): JsonObject {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidArgumentError(`${what} must be a JSON object`)
  return v as JsonObject
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/

export function bytesField(o: JsonObject, name: string): Uint8Array | undefined {
  const v = field(o, name)
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') throw new InvalidArgumentError(`${name}: expected a base64 string`)
  // jsonpb takes standard or URL-safe base64, padded (as Go's decoders require).
  const ok = (BASE64.test(v) || BASE64URL.test(v)) && v.length % 4 === 0
  if (!ok) throw new InvalidArgumentError(`${name}: illegal base64 data`)
  return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64')
}

export function int64Field(o: JsonObject, name: string): number | undefined {
  const v = field(o, name)
  if (v === undefined || v === null) return undefined
  let n: number
  if (typeof v === 'number') n = v
  else if (typeof v === 'string' && /^-?\d+$/.test(v)) n = Number(v)
  else throw new InvalidArgumentError(`${name}: expected an integer, got ${JSON.stringify(v)}`)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`${name}: ${JSON.stringify(v)} is out of the supported integer range`)
  return n
}

export function boolField(o: JsonObject, name: string): boolean | undefined {
  const v = field(o, name)
  if (v === undefined || v === null) return undefined
  if (typeof v === 'boolean') return v
  if (v === 'true') return true
  if (v === 'false') return false
  throw new InvalidArgumentError(`${name}: expected true or false, got ${JSON.stringify(v)}`)
}

export function enumField<T extends string>(o: JsonObject, name: string, names: readonly T[]): T | undefined {
  const v = field(o, name)
  if (v === undefined || v === null) return undefined
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < names.length) return names[v]
  if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v as T
  throw new InvalidArgumentError(`${name}: unknown value ${JSON.stringify(v)} (expected one of ${names.join(', ')})`)
}

export function arrayField(o: JsonObject, name: string): unknown[] {
  const v = field(o, name)
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new InvalidArgumentError(`${name}: expected a list`)
  return v
}

/** Sets optional properties only when defined (exactOptionalPropertyTypes). */
export function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k]
  return o
}
