// Where the v2 keyspace lives inside the v3 keyspace, and how its records are written.
//
// Everything v2 sits under the reserved prefix "\0v2/" (a NUL byte first, so it cannot collide with
// any printable v3 key and sorts before them all):
//
//   "\0v2/k" + path            one key per v2 node (file or directory; the root has none)
//   "\0v2/a"                   the action record, rewritten by every v2 write that deletes a node
//   "\0v2/x" + expiry + path   expiry index: one key per node with a TTL (expiry = 16-digit Unix ms)
//   "\0v2/q" + path            in-order marker: rewritten by every POST into the directory `path`
//
// A node's value is a short ASCII header and then the node's value bytes:
//   kind      "f" (file) or "d" (directory)
//   created   "=" (created at this key's mod revision) or the createdIndex in decimal
//   expiry    optional "@" + Unix ms at which the node expires
//   action    optional "!" + the write that stored this record: "s" set, "c" create, "u" update,
//             "w" compareAndSwap, then "r" if it was a TTL refresh, then its time in Unix ms
//   ":"       then the value (empty for directories)
// e.g. "f=:hello", "d=@1764345600000:", "f42!s1764345500000:world".
//
// A v2 write is one v3 txn and so one revision: its index is the txn's revision. A reader of the
// history finds in each revision which v2 event it was: a write that leaves a node behind marks that
// node's record with its action (directories it creates on the way are not marked); a write that
// deletes a node puts the action record. (Stores written before the mark existed hold an action
// record for every write; both forms are read.)

import type { KeyValue } from '../../mvcc/types.ts'

export const v2Prefix = '\u0000v2/'
const nodePrefix = v2Prefix + 'k'
export const actionKeyText = v2Prefix + 'a'
const expiryPrefix = v2Prefix + 'x'
const inOrderPrefix = v2Prefix + 'q'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

export function text(data: Uint8Array): string {
  return decoder.decode(data)
}

export function nodeKey(path: string): Uint8Array {
  return bytes(nodePrefix + path)
}

/** [start, end) of every key strictly below the directory `path` ("/" → every node). */
export function subtreeRange(path: string): { key: Uint8Array; rangeEnd: Uint8Array } {
  const base = path === '/' ? nodePrefix : nodePrefix + path
  // '0' is the byte after '/', so [base + "/", base + "0") is exactly the keys that continue with "/".
  return { key: bytes(base + '/'), rangeEnd: bytes(base + '0') }
}

/** The path of a node key, or undefined for any other key. */
export function pathOfKey(key: Uint8Array): string | undefined {
  const k = text(key)
  return k.startsWith(nodePrefix + '/') ? k.slice(nodePrefix.length) : undefined
}

export const actionKey = bytes(actionKeyText)

/** The watch range holding the action record and every node key: ["\0v2/a", "\0v2/l"). */
export const historyRange = { key: actionKey, rangeEnd: bytes(v2Prefix + 'l') }

const expiryDigits = 16

export function expiryKey(expirationMs: number, path: string): Uint8Array {
  return bytes(expiryPrefix + String(expirationMs).padStart(expiryDigits, '0') + path)
}

/** Expiry index keys of nodes expiring at or before `nowMs`: [start, end). */
export function expiredRange(nowMs: number): { key: Uint8Array; rangeEnd: Uint8Array } {
  return { key: bytes(expiryPrefix), rangeEnd: bytes(expiryPrefix + String(nowMs + 1).padStart(expiryDigits, '0')) }
}

export function parseExpiryKey(key: Uint8Array): { expirationMs: number; path: string } | undefined {
  const k = text(key)
  if (!k.startsWith(expiryPrefix)) return undefined
  const digits = k.slice(expiryPrefix.length, expiryPrefix.length + expiryDigits)
  const path = k.slice(expiryPrefix.length + expiryDigits)
  if (!/^[0-9]{16}$/.test(digits) || !path.startsWith('/')) return undefined
  return { expirationMs: Number(digits), path }
}

export function inOrderMarkerKey(dirPath: string): Uint8Array {
  return bytes(inOrderPrefix + dirPath)
}

// ---- node records ----

/** A v2 node as stored: what the v3 key-value says about it. */
export interface StoredNode {
  path: string
  dir: boolean
  /** Empty for a directory. */
  value: string
  createdIndex: number
  modifiedIndex: number
  /** Unix ms; absent for a permanent node. */
  expirationMs?: number
}

export interface NodeRecord {
  dir: boolean
  value: string
  /** undefined: created by the write that stores this record (createdIndex = its mod revision). */
  createdIndex: number | undefined
  expirationMs: number | undefined
}

/** The v2 write that stored a node record (see the action mark above). */
export interface NodeAction {
  action: NodeWriteAction
  /** Unix ms at which the writer decided the write: TTLs in the event are counted from it. */
  timeMs: number
  /** A TTL refresh: recorded but not reported to watchers. */
  refresh: boolean
}

/** The writes that leave a node behind (the others delete it and put the action record). */
export type NodeWriteAction = 'set' | 'create' | 'update' | 'compareAndSwap'

const actionLetters: Record<NodeWriteAction, string> = { set: 's', create: 'c', update: 'u', compareAndSwap: 'w' }
const actionsByLetter: Record<string, NodeWriteAction> = { s: 'set', c: 'create', u: 'update', w: 'compareAndSwap' }

export function encodeNodeRecord(r: NodeRecord, by?: NodeAction): Uint8Array {
  const created = r.createdIndex === undefined ? '=' : String(r.createdIndex)
  const expiry = r.expirationMs === undefined ? '' : `@${r.expirationMs}`
  const action = by === undefined ? '' : `!${actionLetters[by.action]}${by.refresh ? 'r' : ''}${by.timeMs}`
  return bytes(`${r.dir ? 'd' : 'f'}${created}${expiry}${action}:${r.dir ? '' : r.value}`)
}

const headerPattern = /^([fd])(=|[0-9]{1,16})(?:@([0-9]{1,16}))?(?:!([scuw])(r?)([0-9]{1,16}))?:/

/**
 * The node a v3 key-value holds. A value that is not a node record (a v3 client wrote under the
 * reserved prefix) reads as a file holding those bytes, so the v2 view never fails on it.
 */
export function decodeNode(path: string, kv: KeyValue): StoredNode {
  const raw = text(kv.value)
  const m = headerPattern.exec(raw)
  if (m === null) return { path, dir: false, value: raw, createdIndex: kv.createRevision, modifiedIndex: kv.modRevision }
  const dir = m[1] === 'd'
  const createdIndex = m[2] === '=' ? kv.modRevision : Number(m[2])
  const node: StoredNode = { path, dir, value: dir ? '' : raw.slice(m[0].length), createdIndex, modifiedIndex: kv.modRevision }
  if (m[3] !== undefined) node.expirationMs = Number(m[3])
  return node
}

/** The action mark of a node record, or undefined when it has none. */
export function decodeNodeAction(value: Uint8Array): NodeAction | undefined {
  // Only the header is decoded: the mark, when there is one, is within its first 54 bytes.
  const m = headerPattern.exec(text(value.subarray(0, 64)))
  if (m === null || m[4] === undefined) return undefined
  return { action: actionsByLetter[m[4]]!, refresh: m[5] === 'r', timeMs: Number(m[6]) }
}

// ---- the action record ----

export const v2Actions = ['get', 'set', 'create', 'update', 'compareAndSwap', 'delete', 'compareAndDelete', 'expire'] as const
export type V2Action = (typeof v2Actions)[number]
export type V2WriteAction = Exclude<V2Action, 'get'>

export interface ActionRecord {
  action: V2WriteAction
  /** The node's path (for an in-order create, the generated key). */
  path: string
  /** Unix ms at which the writer decided the write: TTLs in the event are counted from it. */
  timeMs: number
  /** A TTL refresh: recorded but not reported to watchers. */
  refresh: boolean
}

export function encodeActionRecord(r: ActionRecord): Uint8Array {
  return bytes(JSON.stringify(r.refresh ? { a: r.action, p: r.path, t: r.timeMs, r: 1 } : { a: r.action, p: r.path, t: r.timeMs }))
}

export function decodeActionRecord(value: Uint8Array): ActionRecord | undefined {
  let v: unknown
  try {
    v = JSON.parse(text(value))
  } catch {
    return undefined
  }
  if (typeof v !== 'object' || v === null) return undefined
  const o = v as Record<string, unknown>
  if (typeof o.a !== 'string' || !(v2Actions as readonly string[]).includes(o.a) || o.a === 'get') return undefined
  if (typeof o.p !== 'string' || !o.p.startsWith('/') || typeof o.t !== 'number') return undefined
  return { action: o.a as V2WriteAction, path: o.p, timeMs: o.t, refresh: o.r === 1 }
}
