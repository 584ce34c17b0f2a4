// The changes one applied entry makes, gathered in memory on top of the backend's state and written
// as one batch at the end. Reads through it see the changes made so far (an op later in a txn sees
// the earlier ones, as in etcd). If applying fails, the object is dropped and nothing is written.
//
// Invariant: the backend is not written while a WriteTxn is alive (apply runs one entry at a time),
// so reading the backend directly gives the state at `baseRevision`.

import type { BackendOp, KvBackend } from './backend.ts'
import { ClosingIterator, entriesOf } from './backend.ts'
import { bytesToBinaryString, emptyBytes } from './bytes.ts'
import { intervalContains, singleKeyOf, type KeyInterval } from './interval.ts'
import {
  historyKey,
  keyOfLeaseAttachmentKey,
  keyspaceKey,
  leaseAttachmentBounds,
  leaseAttachmentKey,
  leaseGrantKey,
  metaCompactRevisionKey,
  metaRevisionKey,
} from './layout.ts'
import type { LeaseRecord } from './records.ts'
import type { RecentKeys } from './recent-keys.ts'
import { decodeKeyValueRecord, decodeLeaseRecord, encodeEventRecord, encodeKeyValueRecord, encodeLeaseRecord, encodeNumber } from './records.ts'
import { mergePatches, openLatestScan, sortPatches, type Patch, type Scan } from './scan.ts'
import type { Event, KeyValue } from './types.ts'

interface Attachment {
  leaseId: number
  key: Uint8Array
  attached: boolean
}

export class WriteTxn {
  private readonly keys = new Map<string, Patch>()
  /** Keys read from the backend (state at baseRevision, absent ones included): a put reads its key twice. */
  private readonly baseReads = new Map<string, KeyValue | undefined>()
  private readonly leases = new Map<number, LeaseRecord | undefined>()
  private readonly attachments = new Map<string, Attachment>()
  readonly events: Event[] = []
  private compactRevisionNext: number | undefined

  constructor(
    private readonly backend: KvBackend,
    readonly baseRevision: number,
    /** Recently written keys as of baseRevision, consulted before the backend. */
    private readonly recent?: RecentKeys,
  ) {}

  /** The revision this entry's changes get (one per entry, however many keys it changes). */
  get writeRevision(): number {
    return this.baseRevision + 1
  }

  get changed(): boolean {
    return this.events.length > 0
  }

  /** The revision a read sees now: the new one once anything has changed. */
  get visibleRevision(): number {
    return this.changed ? this.writeRevision : this.baseRevision
  }

  get compactRevision(): number | undefined {
    return this.compactRevisionNext
  }

  async get(key: Uint8Array): Promise<KeyValue | undefined> {
    const id = bytesToBinaryString(key)
    const patch = this.keys.get(id)
    if (patch !== undefined) return patch.kv
    if (this.baseReads.has(id)) return this.baseReads.get(id)
    const known = this.recent?.get(id)
    if (known !== undefined) return known
    const record = await this.backend.get(keyspaceKey(key))
    const kv = record === undefined ? undefined : decodeKeyValueRecord(key, record)
    this.baseReads.set(id, kv)
    return kv
  }

  /** The current state of `interval`, changes so far included. */
  scan(interval: KeyInterval, reverse: boolean): Scan {
    // One key (a delete, a get inside a txn): a point read, not an iterator through the thread pool,
    // which cost ~100 us on every member even when the key was in the recently-written cache.
    const single = singleKeyOf(interval)
    if (single !== undefined) return new ClosingIterator(this.latestOf(single), [])
    const base = openLatestScan(this.backend, interval, reverse)
    if (this.keys.size === 0) return base
    const patches = sortPatches([...this.keys.values()].filter((p) => intervalContains(interval, p.key)))
    return new ClosingIterator(mergePatches(base, patches, reverse), [() => base.return()])
  }

  private async *latestOf(key: Uint8Array): AsyncGenerator<KeyValue, undefined> {
    const kv = await this.get(key)
    if (kv !== undefined) yield kv
    return undefined
  }

  async put(key: Uint8Array, value: Uint8Array, lease: number): Promise<KeyValue | undefined> {
    const prev = await this.get(key)
    const revision = this.writeRevision
    const kv: KeyValue = {
      key,
      createRevision: prev?.createRevision ?? revision,
      modRevision: revision,
      version: (prev?.version ?? 0) + 1,
      value,
      lease,
    }
    this.keys.set(bytesToBinaryString(key), { key, kv })
    this.moveAttachment(key, prev?.lease ?? 0, lease)
    this.events.push(prev === undefined ? { type: 'PUT', kv } : { type: 'PUT', kv, prevKv: prev })
    return prev
  }

  /** Each changed key's new state (undefined: deleted), by binary-string key. */
  changedKeys(): IterableIterator<[string, Patch]> {
    return this.keys.entries()
  }

  /** Deletes a key known to exist with state `prev`. */
  delete(prev: KeyValue): void {
    const key = prev.key
    this.keys.set(bytesToBinaryString(key), { key, kv: undefined })
    this.moveAttachment(key, prev.lease, 0)
    const kv: KeyValue = { key, createRevision: 0, modRevision: this.writeRevision, version: 0, value: emptyBytes, lease: 0 }
    this.events.push({ type: 'DELETE', kv, prevKv: prev })
  }

  private moveAttachment(key: Uint8Array, from: number, to: number): void {
    if (from === to) return
    if (from !== 0) this.attachments.set(`${from}:${bytesToBinaryString(key)}`, { leaseId: from, key, attached: false })
    if (to !== 0) this.attachments.set(`${to}:${bytesToBinaryString(key)}`, { leaseId: to, key, attached: true })
  }

  async lease(leaseId: number): Promise<LeaseRecord | undefined> {
    if (this.leases.has(leaseId)) return this.leases.get(leaseId)
    const record = await this.backend.get(leaseGrantKey(leaseId))
    return record === undefined ? undefined : decodeLeaseRecord(record)
  }

  grantLease(leaseId: number, lease: LeaseRecord): void {
    this.leases.set(leaseId, lease)
  }

  /** Keys attached to the lease, changes so far included, in key order. */
  async leaseKeys(leaseId: number): Promise<Uint8Array[]> {
    const keys = new Map<string, Uint8Array>()
    for await (const entry of entriesOf(this.backend.iterate({ ...leaseAttachmentBounds(leaseId), few: true }))) {
      const key = keyOfLeaseAttachmentKey(entry.key)
      keys.set(bytesToBinaryString(key), key)
    }
    for (const a of this.attachments.values()) {
      if (a.leaseId !== leaseId) continue
      if (a.attached) keys.set(bytesToBinaryString(a.key), a.key)
      else keys.delete(bytesToBinaryString(a.key))
    }
    return [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, key]) => key)
  }

  /** Removes the lease record; its keys must have been deleted first. */
  removeLease(leaseId: number): void {
    this.leases.set(leaseId, undefined)
  }

  compact(revision: number): void {
    this.compactRevisionNext = revision
  }

  /** The batch that makes every change durable, meta included (the caller adds the applied index). */
  toBackendOps(): BackendOp[] {
    const ops: BackendOp[] = []
    for (const { key, kv } of this.keys.values()) {
      if (kv === undefined) ops.push({ type: 'del', key: keyspaceKey(key) })
      else ops.push({ type: 'put', key: keyspaceKey(key), value: encodeKeyValueRecord(kv) })
    }
    this.events.forEach((event, sub) => {
      ops.push({ type: 'put', key: historyKey(this.writeRevision, sub), value: encodeEventRecord(event) })
    })
    for (const a of this.attachments.values()) {
      const key = leaseAttachmentKey(a.leaseId, a.key)
      ops.push(a.attached ? { type: 'put', key, value: emptyBytes } : { type: 'del', key })
    }
    for (const [leaseId, lease] of this.leases) {
      const key = leaseGrantKey(leaseId)
      ops.push(lease === undefined ? { type: 'del', key } : { type: 'put', key, value: encodeLeaseRecord(lease) })
    }
    if (this.changed) ops.push({ type: 'put', key: metaRevisionKey, value: encodeNumber(this.writeRevision) })
    if (this.compactRevisionNext !== undefined) {
      ops.push({ type: 'put', key: metaCompactRevisionKey, value: encodeNumber(this.compactRevisionNext) })
    }
    return ops
  }
}
