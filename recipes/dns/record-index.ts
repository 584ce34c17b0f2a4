// The in-memory index DNS answers come from: a tree of labels (top-level label first, as the keys are
// laid out), each node holding the record whose key ends there, if any. Queries walk it label by label,
// so `web` never matches `webx`, and `*` or `any` in a query label matches every label at that level.
// Pure: the agent feeds it the store's keys (a consistent read, then watch events).

import { isValidName, keyPath, nameOfKey, normalizePrefix, PATH_PREFIX_DEFAULT } from './name.ts'
import { parseService } from './service.ts'
import type { ParseResult, Service } from './service.ts'

export interface IndexedRecord {
  key: string
  /** The record's own name, lower-case and absolute (`1.rails.skydns.local.`). */
  name: string
  /** Labels in the key below the prefix (the name's label count). */
  depth: number
  service: Service
  /** The lease the key is attached to; 0 for none. */
  lease: number
  modRevision: number
}

/** Records one query may gather before the answer is cut (and marked truncated). */
export const RECORDS_PER_QUERY_MAX = 1000
/** Invalid keys remembered (for `ls` and logs), beyond which only the count grows. */
const INVALID_KEYS_REMEMBERED_MAX = 100

class Node {
  readonly children = new Map<string, Node>()
  record: IndexedRecord | undefined = undefined
  /** Records in this node's subtree, its own included. Invariant: a node other than the root with count 0 is removed. */
  count = 0
}

export type PutOutcome = 'indexed' | 'invalid' | 'ignored'

export class RecordIndex {
  readonly prefix: string
  /** The store revision the index reflects. */
  revision = 0
  private readonly root = new Node()
  private readonly leaseKeys = new Map<number, number>()
  /** Keys whose value is not a valid record, with why (bounded). */
  readonly invalid = new Map<string, string>()
  private invalidNotRemembered = 0

  constructor(prefix: string = PATH_PREFIX_DEFAULT) {
    this.prefix = normalizePrefix(prefix)
  }

  get size(): number {
    return this.root.count
  }

  /** Leases that records are attached to. */
  leases(): number[] {
    return [...this.leaseKeys.keys()]
  }

  /** Applies a put: indexes the record, or drops the key's old record if the new value is not valid. */
  put(key: string, value: string | Uint8Array, lease: number, modRevision: number): PutOutcome {
    const path = keyPath(key, this.prefix)
    if (path === undefined) return 'ignored'
    const name = nameOfKey(key, this.prefix)!
    // The name goes on the wire (as an SRV/MX target, glue): labels over 63 bytes or a name over 255 cannot.
    const parsed: ParseResult = isValidName(name) ? parseService(value) : { ok: false, error: 'the key is not a valid domain name (a label over 63 bytes or a name over 255)' }
    if (!parsed.ok) {
      this.delete(key)
      this.noteInvalid(key, parsed.error)
      return 'invalid'
    }
    this.forgetInvalid(key)
    const record: IndexedRecord = { key, name, depth: path.length, service: parsed.service, lease, modRevision }
    const trail: Node[] = [this.root]
    let node = this.root
    for (const label of path) {
      let next = node.children.get(label)
      if (next === undefined) {
        next = new Node()
        node.children.set(label, next)
      }
      node = next
      trail.push(node)
    }
    const previous = node.record
    node.record = record
    if (previous) this.unrefLease(previous.lease)
    else for (const n of trail) n.count++
    this.refLease(lease)
    return 'indexed'
  }

  /** Applies a delete. */
  delete(key: string): void {
    this.forgetInvalid(key)
    const path = keyPath(key, this.prefix)
    if (path === undefined) return
    const trail: Node[] = [this.root]
    let node = this.root
    for (const label of path) {
      const next = node.children.get(label)
      if (next === undefined) return
      node = next
      trail.push(node)
    }
    const record = node.record
    if (record === undefined) return
    node.record = undefined
    this.unrefLease(record.lease)
    for (const n of trail) n.count--
    for (let i = trail.length - 1; i > 0; i--) {
      if (trail[i]!.count > 0) break
      trail[i - 1]!.children.delete(path[i - 1]!)
    }
  }

  /**
   * Nodes a query path reaches (labels from the top, lower-case); `*` and `any` match every label at
   * their level. Empty when the name does not exist in the tree.
   */
  match(path: readonly string[]): Node[] {
    let level: Node[] = [this.root]
    for (const label of path) {
      const next: Node[] = []
      const wild = label === '*' || label === 'any'
      for (const node of level) {
        if (wild) for (const child of node.children.values()) next.push(child)
        else {
          const child = node.children.get(label)
          if (child) next.push(child)
        }
      }
      if (next.length === 0) return []
      level = next
    }
    return level
  }

  /** Whether a path (with wildcards) reaches any record. */
  exists(path: readonly string[]): boolean {
    return this.match(path).some((n) => n.count > 0)
  }

  /**
   * Every record at or below the nodes a query reaches, shallowest first then by key, at most `max`;
   * `capped` says records were left out.
   */
  lookup(path: readonly string[], max: number = RECORDS_PER_QUERY_MAX): { records: IndexedRecord[]; capped: boolean } {
    const records: IndexedRecord[] = []
    let capped = false
    const stack = [...this.match(path)].reverse()
    while (stack.length > 0) {
      const node = stack.pop()!
      if (node.record) {
        if (records.length >= max) {
          capped = true
          break
        }
        records.push(node.record)
      }
      for (const child of node.children.values()) stack.push(child)
    }
    records.sort((a, b) => a.depth - b.depth || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return { records, capped }
  }

  /** The record stored exactly at a path (no wildcards, no subtree). */
  exact(path: readonly string[]): IndexedRecord | undefined {
    let node = this.root
    for (const label of path) {
      const next = node.children.get(label)
      if (next === undefined) return undefined
      node = next
    }
    return node.record
  }

  /** Every record, in key order (for listings and tests). */
  all(): IndexedRecord[] {
    return this.lookup([], Number.MAX_SAFE_INTEGER).records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
  }

  private refLease(lease: number): void {
    if (lease !== 0) this.leaseKeys.set(lease, (this.leaseKeys.get(lease) ?? 0) + 1)
  }

  private unrefLease(lease: number): void {
    if (lease === 0) return
    const n = (this.leaseKeys.get(lease) ?? 0) - 1
    if (n <= 0) this.leaseKeys.delete(lease)
    else this.leaseKeys.set(lease, n)
  }

  private noteInvalid(key: string, error: string): void {
    if (this.invalid.has(key) || this.invalid.size < INVALID_KEYS_REMEMBERED_MAX) this.invalid.set(key, error)
    else this.invalidNotRemembered++
  }

  private forgetInvalid(key: string): void {
    this.invalid.delete(key)
  }

  /** Keys seen with a value that is not a record (those past the remembered ones counted once each time seen). */
  get invalidCount(): number {
    return this.invalid.size + this.invalidNotRemembered
  }
}

export type { Node as IndexNode }
