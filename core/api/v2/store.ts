// The v2 keyspace as a view over the replicated MVCC store: reads walk node keys at one revision,
// writes are decided (plan.ts) and committed as one guarded v3 txn, retried when a concurrent write
// changed what the decision used.

import { CompactedError } from '../../errors.ts'
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '../../mvcc/requests.ts'
import type { KeyValue } from '../../mvcc/types.ts'
import type { Watcher } from '../../mvcc/watcher.ts'
import type { WatchCreateRequest } from '../../mvcc/watch-types.ts'
import { V2Code, V2Error } from './errors.ts'
import { decodeNode, inOrderMarkerKey, nodeKey, pathOfKey, subtreeRange } from './layout.ts'
import type { StoredNode } from './layout.ts'
import { deletedNodeJson, dirJson, eventJson, nodeJson } from './node-json.ts'
import type { EventJson, NodeJson } from './node-json.ts'
import { ancestorsOf, baseName, childPath, inOrderName, isHiddenName, parentOf, rootPath } from './path.ts'
import { KeyedLock } from './keyed-lock.ts'
import { decideWrite } from './plan.ts'
import type { WritePlan, WriteState } from './plan.ts'
import type { KeyOperation, WriteOperation } from './request.ts'
import { V2Stats } from './stats.ts'

/** What the v2 view needs from the member. */
export interface V2Backend {
  /** A local read of the keyspace (never through Raft). */
  range(request: RangeRequest): Promise<RangeResponse>
  /** The latest state of each key (local, never through Raft), all at one revision. */
  latest(keys: readonly Uint8Array[]): Promise<{ revision: number; kvs: (KeyValue | undefined)[] }>
  /**
   * A txn committed through Raft; resolves once applied here. With `as`, the txn is refused when
   * applied if that user's permissions changed since they were checked (AuthOldRevision).
   */
  txn(request: TxnRequest, as?: WriteAs): Promise<TxnResponse>
  /** Resolves once a local read would be linearizable (ReadIndex). */
  linearizableBarrier(): Promise<void>
  currentRevision(): number
  compactRevision(): number
  watch(request: WatchCreateRequest): Watcher
}

/** The user a write is made for, with the permission revision it was checked against. */
export interface WriteAs {
  user: string
  revision: number
}

export interface V2Result {
  event: EventJson
  /** X-Etcd-Index: the write's index, or the store's index for a read. */
  index: number
  /** The answer is 201 Created. */
  created: boolean
}

/** Attempts at a write whose guards keep failing under concurrent writes, before giving up. */
export const writeAttemptsMax = 32
/** Keys per read while listing a directory's children. */
const listPageKeys = 256
/** Deeper paths read their ancestors one by one, stopping at the first missing one, not all at once. */
const latestReadDepthMax = 32

export class V2Store {
  readonly stats = new V2Stats()
  private readonly locks = new KeyedLock()

  constructor(
    readonly backend: V2Backend,
    readonly clock: () => number = Date.now,
  ) {}

  // ---- reads ----

  /** The node at `path` as of `revision`, or undefined (the root has no stored node). */
  async readNode(path: string, revision: number): Promise<StoredNode | undefined> {
    if (path === rootPath) return undefined
    const r = await this.backend.range({ key: nodeKey(path), revision })
    const kv = r.kvs[0]
    return kv === undefined ? undefined : decodeNode(path, kv)
  }

  private async hasChildren(path: string, revision: number): Promise<boolean> {
    const r = await this.backend.range({ ...subtreeRange(path), revision, countOnly: true })
    return r.count > 0
  }

  /** What a write decision needs, read at one revision. */
  async readWriteState(path: string, revision: number, inOrderDir?: string): Promise<WriteState> {
    const ancestors: WriteState['ancestors'] = []
    for (const a of ancestorsOf(path)) {
      const node = await this.readNode(a, revision)
      ancestors.push({ path: a, node })
      if (node === undefined || !node.dir) break
    }
    const reachable = ancestors.every((a) => a.node?.dir === true)
    const node = reachable ? await this.readNode(path, revision) : undefined
    const hasChildren = node?.dir === true ? await this.hasChildren(path, revision) : false
    const state: WriteState = { revision, ancestors, node, hasChildren }
    if (inOrderDir !== undefined) {
      const marker = await this.backend.range({ key: inOrderMarkerKey(inOrderDir), revision })
      state.inOrderMarkerRevision = marker.kvs[0]?.modRevision ?? 0
    }
    return state
  }

  /**
   * The state a decision about `path` needs, as of the latest revision: the ancestors and the node
   * by point reads in one go (a read per key at an older revision would merge history, and under
   * writes the head moves on between reads).
   */
  async readLatestState(path: string): Promise<WriteState> {
    const paths = ancestorsOf(path)
    if (paths.length > latestReadDepthMax) return this.atCurrentRevision((revision) => this.readWriteState(path, revision))
    paths.push(path)
    const { revision, kvs } = await this.backend.latest(paths.map(nodeKey))
    const nodes = kvs.map((kv, i) => (kv === undefined ? undefined : decodeNode(paths[i]!, kv)))
    const ancestors: WriteState['ancestors'] = []
    for (let i = 0; i < paths.length - 1; i++) {
      const node = nodes[i]
      ancestors.push({ path: paths[i]!, node })
      if (node === undefined || !node.dir) break
    }
    const reachable = ancestors.every((a) => a.node?.dir === true)
    const node = reachable ? nodes[nodes.length - 1] : undefined
    // A directory also needs a count of its children: read the whole state again at one revision.
    if (node?.dir === true) return this.atCurrentRevision((at) => this.readWriteState(path, at))
    return { revision, ancestors, node, hasChildren: false }
  }

  /** Runs `read` at the current revision, again at a newer one if compaction overtook it. */
  private async atCurrentRevision<T>(read: (revision: number) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const revision = this.backend.currentRevision()
      try {
        return await read(revision)
      } catch (e) {
        if (!(e instanceof CompactedError) || attempt >= 3) throw e
      }
    }
  }

  async get(op: Extract<KeyOperation, { type: 'get' }>): Promise<V2Result> {
    try {
      if (op.quorum) await this.backend.linearizableBarrier()
      const result = await this.atCurrentRevision(() => this.getOnce(op))
      this.stats.count('get', true)
      return result
    } catch (e) {
      this.stats.count('get', false)
      throw e
    }
  }

  /** One attempt at a get: throws CompactedError if compaction overtook the revision it read at. */
  private async getOnce(op: Extract<KeyOperation, { type: 'get' }>): Promise<V2Result> {
    const now = this.clock()
    if (op.path === rootPath) {
      const revision = this.backend.currentRevision()
      const children = await this.listChildren(rootPath, op.recursive, revision, now)
      return { event: eventJson('get', dirJson(undefined, children, now), undefined), index: revision, created: false }
    }
    const state = await this.readLatestState(op.path)
    const revision = state.revision
    for (const a of state.ancestors) {
      if (a.node === undefined) throw new V2Error(V2Code.KeyNotFound, a.path, revision)
      if (!a.node.dir) throw new V2Error(V2Code.NotDir, a.path, revision)
    }
    const node = state.node
    if (node === undefined) throw new V2Error(V2Code.KeyNotFound, op.path, revision)
    if (!node.dir) return { event: eventJson('get', nodeJson(node, now), undefined), index: revision, created: false }
    const children = await this.listChildren(node.path, op.recursive, revision, now)
    return { event: eventJson('get', dirJson(node, children, now), undefined), index: revision, created: false }
  }

  /** A directory's visible children in name order (nested when recursive); hidden ones are left out. */
  private async listChildren(dir: string, recursive: boolean, revision: number, now: number): Promise<NodeJson[]> {
    return recursive ? this.listSubtree(dir, revision, now) : this.listDirect(dir, revision, now)
  }

  /** Direct children only: a child directory's subtree is skipped with a fresh read past it. */
  private async listDirect(dir: string, revision: number, now: number): Promise<NodeJson[]> {
    const below = subtreeRange(dir)
    const out: NodeJson[] = []
    let start = below.key
    for (;;) {
      const r = await this.backend.range({ key: start, rangeEnd: below.rangeEnd, revision, limit: listPageKeys })
      let next: Uint8Array | undefined
      for (const kv of r.kvs) {
        const path = pathOfKey(kv.key)
        if (path === undefined) continue
        const rest = path.slice(dir === rootPath ? 1 : dir.length + 1)
        const slash = rest.indexOf('/')
        if (slash !== -1) {
          // A grandchild: everything of this child's subtree is skipped.
          next = subtreeRange(childPath(dir, rest.slice(0, slash))).rangeEnd
          break
        }
        if (!isHiddenName(rest)) out.push(this.childJson(path, kv, now))
      }
      if (next === undefined) {
        const last = r.kvs[r.kvs.length - 1]
        if (!r.more || last === undefined) return out
        next = new Uint8Array([...last.key, 0])
      }
      start = next
    }
  }

  private childJson(path: string, kv: KeyValue, now: number): NodeJson {
    const node = decodeNode(path, kv)
    return node.dir ? dirJson(node, [], now) : nodeJson(node, now)
  }

  /** The whole subtree as nested nodes. */
  private async listSubtree(dir: string, revision: number, now: number): Promise<NodeJson[]> {
    const r = await this.backend.range({ ...subtreeRange(dir), revision })
    const top: Tree[] = []
    const childrenOf = new Map<string, Tree[]>([[dir, top]])
    for (const kv of r.kvs) {
      const path = pathOfKey(kv.key)
      if (path === undefined) continue
      const siblings = childrenOf.get(parentOf(path))
      if (siblings === undefined || isHiddenName(baseName(path))) continue // below a hidden or missing node
      const tree: Tree = { node: decodeNode(path, kv), children: [] }
      if (tree.node.dir) childrenOf.set(path, tree.children)
      siblings.push(tree)
    }
    const render = (t: Tree): NodeJson => (t.node.dir ? dirJson(t.node, t.children.map(render), now) : nodeJson(t.node, now))
    return top.map(render)
  }

  // ---- writes ----

  /** Makes a write; `as` names the user it was checked for (while auth is on). */
  async write(op: WriteOperation, as?: WriteAs): Promise<V2Result> {
    try {
      // In-order creations contend on their directory's marker, other writes on their own node.
      const contended = op.type === 'create' && op.inOrder ? `q${op.path}` : `k${op.path}`
      const busy = () => new V2Error(V2Code.RaftInternal, 'cairn: too many concurrent writes to one key', this.backend.currentRevision())
      const result = await this.locks.run(contended, () => this.writeOnce(op, as), busy)
      this.stats.count(op.type, true)
      return result
    } catch (e) {
      this.stats.count(op.type, false)
      throw e
    }
  }

  private async writeOnce(op: WriteOperation, as: WriteAs | undefined): Promise<V2Result> {
    // An error decided from a local read may be stale on a follower: it is confirmed on a state read
    // after a ReadIndex barrier (or after our own txn failed, which is just as recent).
    let fresh = false
    for (let attempt = 1; ; attempt++) {
      const now = this.clock()
      const inOrder = op.type === 'create' && op.inOrder
      const { state, target } = inOrder
        ? await this.atCurrentRevision(async (revision) => {
            // The new key is named after the revision read, so this one reads at a revision first.
            const target: WriteOperation = { ...op, path: childPath(op.path, inOrderName(revision + 1)) }
            return { state: await this.readWriteState(target.path, revision, op.path), target }
          })
        : { state: await this.readLatestState(op.path), target: op }
      const decision = decideWrite(target, state, now)
      if ('error' in decision) {
        if (fresh) throw decision.error
        await this.backend.linearizableBarrier()
        fresh = true
        continue
      }
      const plan = decision.plan
      const r = await this.backend.txn({ compare: plan.compares, success: plan.ops }, as)
      if (r.succeeded) return planResult(plan, r.header.revision, now)
      if (attempt >= writeAttemptsMax) {
        throw new V2Error(V2Code.RaftInternal, 'cairn: gave up after too many conflicting concurrent writes', r.header.revision)
      }
      fresh = true
      // Writers on other members raced us: step aside a little, longer the more often it happens.
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, attempt * 5)))
    }
  }

  /** Commits a prepared plan as is (the expiry loop uses this); false when its guards failed. */
  async commit(plan: WritePlan): Promise<boolean> {
    const r = await this.backend.txn({ compare: plan.compares, success: plan.ops })
    return r.succeeded
  }
}

interface Tree {
  node: StoredNode
  children: Tree[]
}

/** The event a committed plan produced, as its writer answers it. */
export function planResult(plan: WritePlan, index: number, nowMs: number): V2Result {
  const prevNode = plan.prev === undefined ? undefined : nodeJson(plan.prev, nowMs)
  if (plan.after === undefined) {
    return { event: eventJson(plan.action, deletedNodeJson(plan.prev!, index), prevNode), index, created: false }
  }
  const after = plan.after
  const node: StoredNode = {
    path: plan.path,
    dir: after.dir,
    value: after.value,
    createdIndex: after.createdIndex ?? index,
    modifiedIndex: index,
  }
  if (after.expirationMs !== undefined) node.expirationMs = after.expirationMs
  const created = plan.action === 'create' || (plan.action === 'set' && plan.prev === undefined)
  return { event: eventJson(plan.action, nodeJson(node, nowMs), prevNode), index, created }
}

