// The pure part of every v2 write: given what the keyspace held at one revision, decide the answer —
// an etcd error, or one v3 txn (guard compares + operations) and the event it will produce.
//
// The guards make the decision atomic. A txn commits only if every fact the decision used still
// holds: the node's mod revision (0 = absent), and when nodes are created, the deepest existing
// ancestor's mod revision and the absence of the first missing one. Because a node never exists
// without its parent directories (creations make every missing ancestor in the same txn, deletions
// take whole subtrees), those few compares pin the whole path. A txn whose guards fail changed
// nothing; the caller reads again and decides again.

import type { Compare, RequestOp } from '../../mvcc/requests.ts'
import { V2Code, V2Error } from './errors.ts'
import type { V2ErrorCode } from './errors.ts'
import {
  actionKey,
  encodeActionRecord,
  encodeNodeRecord,
  expiryKey,
  inOrderMarkerKey,
  nodeKey,
  subtreeRange,
} from './layout.ts'
import type { NodeRecord, NodeWriteAction, StoredNode, V2WriteAction } from './layout.ts'
import { ancestorsOf, rootPath } from './path.ts'
import type { TtlOptions, WriteOperation } from './request.ts'

/** The nodes a decision reads, all at one revision. */
export interface WriteState {
  revision: number
  /**
   * The path's ancestors below the root, outermost first, read up to and including the first one
   * that is absent or a file (the ones below it cannot exist).
   */
  ancestors: { path: string; node: StoredNode | undefined }[]
  node: StoredNode | undefined
  /** Whether the node, a directory, has any children (hidden ones count). */
  hasChildren: boolean
  /** For an in-order create: the mod revision of the parent's in-order marker (0 = none). */
  inOrderMarkerRevision?: number
}

export interface WritePlan {
  action: V2WriteAction
  path: string
  refresh: boolean
  compares: Compare[]
  ops: RequestOp[]
  /** The node after the write; undefined when the write deletes it. */
  after: NodeRecord | undefined
  prev: StoredNode | undefined
}

export type Decision = { error: V2Error } | { plan: WritePlan }

/** Go's time.Duration overflows past this many seconds; etcd then stores no expiry at all. */
const ttlSecondsMax = 9_223_372_036n

/** The expiry time a TTL gives, or undefined for a permanent node. */
export function expirationOf(ttl: TtlOptions, nowMs: number): number | undefined {
  if (ttl.ttlSeconds === undefined || ttl.ttlSeconds > ttlSecondsMax) return undefined
  return nowMs + Number(ttl.ttlSeconds) * 1000
}

function fail(code: V2ErrorCode, cause: string, state: WriteState): Decision {
  return { error: new V2Error(code, cause, state.revision) }
}

type Walk = { node: StoredNode; error?: undefined } | { node?: undefined; error: V2Error }

/** etcd's walk to an existing node: a missing or file ancestor is reported by its own path. */
function walkToExisting(path: string, state: WriteState): Walk {
  const failure = walkFailure(path, state)
  if (failure !== undefined) return { error: new V2Error(failure.code, failure.path, state.revision) }
  return { node: state.node! }
}

/** Why the path does not lead to an existing node, without building an Error (a set of a new key is routine). */
function walkFailure(path: string, state: WriteState): { code: V2ErrorCode; path: string } | undefined {
  for (const a of state.ancestors) {
    if (a.node === undefined) return { code: V2Code.KeyNotFound, path: a.path }
    if (!a.node.dir) return { code: V2Code.NotDir, path: a.path }
  }
  if (state.node === undefined) return { code: V2Code.KeyNotFound, path }
  return undefined
}

/** For creations: the first file ancestor is an error; missing ones will be made. */
function fileAncestor(state: WriteState): Decision | undefined {
  for (const a of state.ancestors) {
    if (a.node === undefined) return undefined
    if (!a.node.dir) return fail(V2Code.NotDir, a.path, state)
  }
  return undefined
}

function modIs(key: Uint8Array, modRevision: number): Compare {
  return { result: 'EQUAL', target: 'MOD', key, modRevision }
}

function put(key: Uint8Array, value: Uint8Array): RequestOp {
  return { requestPut: { key, value } }
}

function del(key: Uint8Array): RequestOp {
  return { requestDeleteRange: { key } }
}

const directoryRecord: NodeRecord = { dir: true, value: '', createdIndex: undefined, expirationMs: undefined }

/**
 * Guards and puts that create the path's missing ancestors and pin the deepest existing one. Nothing
 * when the node itself exists: its own guard pins the path then (removing or replacing an ancestor
 * deletes the node too), as for update and compareAndSwap.
 */
function ancestorSteps(path: string, state: WriteState): { compares: Compare[]; ops: RequestOp[] } {
  const compares: Compare[] = []
  const ops: RequestOp[] = []
  if (state.node !== undefined) return { compares, ops }
  const all = ancestorsOf(path)
  // The state holds the ancestors down to the first missing one; every one below it is missing too.
  const firstMissing = state.ancestors.findIndex((a) => a.node === undefined)
  const existing = firstMissing === -1 ? state.ancestors.length : firstMissing
  const deepest = existing > 0 ? state.ancestors[existing - 1]!.node! : undefined
  if (deepest !== undefined) compares.push(modIs(nodeKey(deepest.path), deepest.modifiedIndex))
  if (existing < all.length) compares.push(modIs(nodeKey(all[existing]!), 0))
  for (const missing of all.slice(existing)) ops.push(put(nodeKey(missing), encodeNodeRecord(directoryRecord)))
  return { compares, ops }
}

/** Expiry index changes when a node's expiry goes from `before` to `after`. */
function expirySteps(path: string, before: number | undefined, after: number | undefined): RequestOp[] {
  if (before === after) return []
  const ops: RequestOp[] = []
  if (before !== undefined) ops.push(del(expiryKey(before, path)))
  if (after !== undefined) ops.push(put(expiryKey(after, path), new Uint8Array()))
  return ops
}

function actionOp(action: V2WriteAction, path: string, nowMs: number): RequestOp {
  return put(actionKey, encodeActionRecord({ action, path, timeMs: nowMs, refresh: false }))
}

/** Decides a write. `nowMs` is the writer's clock, from which TTLs count. */
export function decideWrite(op: WriteOperation, state: WriteState, nowMs: number): Decision {
  switch (op.type) {
    case 'set':
      return decideSet(op, state, nowMs)
    case 'create':
      return decideCreate(op, state, nowMs)
    case 'update':
      return decideUpdate(op, state, nowMs)
    case 'compareAndSwap':
      return decideCompareAndSwap(op, state, nowMs)
    case 'delete':
      return decideDelete(op, state, nowMs)
    case 'compareAndDelete':
      return decideCompareAndDelete(op, state, nowMs)
  }
}

/** A write that leaves a node at `path` (creating it or replacing what was there). */
function writeNode(
  action: NodeWriteAction,
  path: string,
  state: WriteState,
  after: NodeRecord,
  refresh: boolean,
  nowMs: number,
  extra: { compares: Compare[]; ops: RequestOp[] } = { compares: [], ops: [] },
): Decision {
  const prev = state.node
  const compares = [modIs(nodeKey(path), prev?.modifiedIndex ?? 0), ...extra.compares]
  // The node's record says which write stored it: no action record needed (see layout.ts).
  const record = encodeNodeRecord(after, { action, timeMs: nowMs, refresh })
  const ops = [...extra.ops, put(nodeKey(path), record), ...expirySteps(path, prev?.expirationMs, after.expirationMs)]
  return { plan: { action, path, refresh, compares, ops, after, prev } }
}

function decideSet(op: Extract<WriteOperation, { type: 'set' }>, state: WriteState, nowMs: number): Decision {
  if (op.path === rootPath) return fail(V2Code.RootReadOnly, rootPath, state)
  const failure = walkFailure(op.path, state)
  // A missing node is fine for set (it is created), unless this is a refresh.
  if (failure && (failure.code !== V2Code.KeyNotFound || op.refresh)) return { error: new V2Error(failure.code, failure.path, state.revision) }
  const prev = state.node
  if (prev?.dir) return fail(V2Code.NotFile, op.path, state)
  const value = op.refresh && prev !== undefined ? prev.value : op.value
  const after: NodeRecord = { dir: op.dir, value: op.dir ? '' : value, createdIndex: undefined, expirationMs: expirationOf(op, nowMs) }
  return writeNode('set', op.path, state, after, op.refresh, nowMs, ancestorSteps(op.path, state))
}

function decideCreate(op: Extract<WriteOperation, { type: 'create' }>, state: WriteState, nowMs: number): Decision {
  if (op.path === rootPath) return fail(V2Code.RootReadOnly, rootPath, state)
  const blocked = fileAncestor(state)
  if (blocked) return blocked
  if (state.node !== undefined) return fail(V2Code.NodeExist, op.path, state)
  const after: NodeRecord = { dir: op.dir, value: op.dir ? '' : op.value, createdIndex: undefined, expirationMs: expirationOf(op, nowMs) }
  const steps = ancestorSteps(op.path, state)
  if (op.inOrder) {
    // Serializes in-order creations in one directory: names then follow commit order.
    const dirPath = state.ancestors[state.ancestors.length - 1]?.path ?? rootPath
    const marker = inOrderMarkerKey(dirPath)
    steps.compares.push(modIs(marker, state.inOrderMarkerRevision ?? 0))
    steps.ops.push(put(marker, new Uint8Array()))
  }
  return writeNode('create', op.path, state, after, false, nowMs, steps)
}

function decideUpdate(op: Extract<WriteOperation, { type: 'update' }>, state: WriteState, nowMs: number): Decision {
  if (op.path === rootPath) return fail(V2Code.RootReadOnly, rootPath, state)
  const walked = walkToExisting(op.path, state)
  if (walked.error) return { error: walked.error }
  const prev = walked.node
  if (prev.dir && op.value !== '') return fail(V2Code.NotFile, op.path, state)
  const value = op.refresh ? prev.value : op.value
  const after: NodeRecord = { dir: prev.dir, value: prev.dir ? '' : value, createdIndex: prev.createdIndex, expirationMs: expirationOf(op, nowMs) }
  return writeNode('update', op.path, state, after, op.refresh, nowMs)
}

/** etcd's cause for a failed compare: "[prevValue != value]", "[prevIndex != modifiedIndex]" or both. */
export function compareFailure(node: StoredNode, prevValue: string, prevIndex: bigint): string | undefined {
  const indexMatch = prevIndex === 0n || BigInt(node.modifiedIndex) === prevIndex
  const valueMatch = prevValue === '' || node.value === prevValue
  if (indexMatch && valueMatch) return undefined
  if (indexMatch) return `[${prevValue} != ${node.value}]`
  if (valueMatch) return `[${prevIndex} != ${node.modifiedIndex}]`
  return `[${prevValue} != ${node.value}] [${prevIndex} != ${node.modifiedIndex}]`
}

function decideCompareAndSwap(op: Extract<WriteOperation, { type: 'compareAndSwap' }>, state: WriteState, nowMs: number): Decision {
  if (op.path === rootPath) return fail(V2Code.RootReadOnly, rootPath, state)
  const walked = walkToExisting(op.path, state)
  if (walked.error) return { error: walked.error }
  const prev = walked.node
  if (prev.dir) return fail(V2Code.NotFile, op.path, state)
  const cause = compareFailure(prev, op.prevValue, op.prevIndex)
  if (cause !== undefined) return fail(V2Code.TestFailed, cause, state)
  const value = op.refresh ? prev.value : op.value
  const after: NodeRecord = { dir: false, value, createdIndex: prev.createdIndex, expirationMs: expirationOf(op, nowMs) }
  return writeNode('compareAndSwap', op.path, state, after, op.refresh, nowMs)
}

/** Deletes the node (its whole subtree if a directory) under the guards given. */
export function deleteNode(action: V2WriteAction, prev: StoredNode, nowMs: number, guardEmpty: boolean): WritePlan {
  const compares = [modIs(nodeKey(prev.path), prev.modifiedIndex)]
  const ops: RequestOp[] = [del(nodeKey(prev.path))]
  if (prev.dir) {
    const below = subtreeRange(prev.path)
    if (guardEmpty) compares.push({ result: 'EQUAL', target: 'MOD', key: below.key, rangeEnd: below.rangeEnd, modRevision: 0 })
    else ops.push({ requestDeleteRange: { key: below.key, rangeEnd: below.rangeEnd } })
    ops.push(del(inOrderMarkerKey(prev.path)))
  }
  ops.push(...expirySteps(prev.path, prev.expirationMs, undefined))
  ops.push(actionOp(action, prev.path, nowMs))
  return { action, path: prev.path, refresh: false, compares, ops, after: undefined, prev }
}

function decideDelete(op: Extract<WriteOperation, { type: 'delete' }>, state: WriteState, nowMs: number): Decision {
  if (op.path === rootPath) return fail(V2Code.RootReadOnly, rootPath, state)
  const walked = walkToExisting(op.path, state)
  if (walked.error) return { error: walked.error }
  const prev = walked.node
  if (prev.dir) {
    if (!op.dir) return fail(V2Code.NotFile, op.path, state)
    if (state.hasChildren && !op.recursive) return fail(V2Code.DirNotEmpty, op.path, state)
  }
  return { plan: deleteNode('delete', prev, nowMs, prev.dir && !op.recursive) }
}

function decideCompareAndDelete(op: Extract<WriteOperation, { type: 'compareAndDelete' }>, state: WriteState, nowMs: number): Decision {
  // etcd has no read-only check here: the root is a directory, and its cause is its (empty) name.
  if (op.path === rootPath) return fail(V2Code.NotFile, '', state)
  const walked = walkToExisting(op.path, state)
  if (walked.error) return { error: walked.error }
  const prev = walked.node
  if (prev.dir) return fail(V2Code.NotFile, op.path, state)
  const cause = compareFailure(prev, op.prevValue, op.prevIndex)
  if (cause !== undefined) return fail(V2Code.TestFailed, cause, state)
  return { plan: deleteNode('compareAndDelete', prev, nowMs, false) }
}
