// Where the keyspace lives in the member's one ordered store. Six one-byte prefixes are reserved for
// it (auth's 'a' is written by core/auth through apply); everything else in the RocksDB belongs to other modules (the raft log store).
//
//   'k' key                      → latest KeyValue record of a live key (deleted keys have none)
//   'h' rev:u64be sub:u32be       → history event: the sub-th change made at revision rev
//   'l' 'a' lease:u64be key       → (empty) the key is attached to the lease
//   'l' 'g' lease:u64be           → lease record (granted TTL)
//   'm' name                      → meta: revision, compact revision, applied index, format
//   'A' member:u64be type:u8       → (format byte) an active alarm (see alarms.ts)
//   'a' …                         → auth state: users, roles, the auth switch (core/auth/records.ts)
//
// Big-endian numbers make byte order equal numeric order, so history iterates in revision order.

import { concatBytes, utf8 } from './bytes.ts'
import { readUint64BigEndian, writeUint64BigEndian } from './codec.ts'
import type { KeyInterval } from './interval.ts'

export const prefixAlarm = 0x41 // 'A'
export const prefixHistory = 0x68 // 'h'
export const prefixKeyspace = 0x6b // 'k'
export const prefixLease = 0x6c // 'l'
export const prefixMeta = 0x6d // 'm'
/** The auth state (core/auth/records.ts) lives beside the keyspace and travels in its snapshots. */
export const prefixAuth = 0x61 // 'a'

/** All prefixes this module owns, in byte order. */
export const ownedPrefixes = [prefixAlarm, prefixAuth, prefixHistory, prefixKeyspace, prefixLease, prefixMeta] as const

const leaseAttachmentTag = 0x61 // 'a'
const leaseGrantTag = 0x67 // 'g'

export interface StorageBounds {
  gte: Uint8Array
  lt: Uint8Array
}

export function prefixBounds(prefix: number): StorageBounds {
  return { gte: new Uint8Array([prefix]), lt: new Uint8Array([prefix + 1]) }
}

export function keyspaceKey(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length + 1)
  out[0] = prefixKeyspace
  out.set(key, 1)
  return out
}

export function keyOfKeyspaceKey(storageKey: Uint8Array): Uint8Array {
  return storageKey.subarray(1)
}

export function keyspaceBounds(interval: KeyInterval): StorageBounds {
  return {
    gte: keyspaceKey(interval.start),
    lt: interval.end === undefined ? new Uint8Array([prefixKeyspace + 1]) : keyspaceKey(interval.end),
  }
}

export function historyKey(revision: number, sub: number): Uint8Array {
  const out = new Uint8Array(13)
  out[0] = prefixHistory
  writeUint64BigEndian(out, 1, revision)
  out[9] = sub >>> 24
  out[10] = sub >>> 16
  out[11] = sub >>> 8
  out[12] = sub
  return out
}

export function revisionOfHistoryKey(storageKey: Uint8Array): number {
  return readUint64BigEndian(storageKey, 1)
}

/** History of revisions in [fromRevision, toRevisionExclusive), or to the end if that is undefined. */
export function historyBounds(fromRevision: number, toRevisionExclusive?: number): StorageBounds {
  const lt =
    toRevisionExclusive === undefined ? new Uint8Array([prefixHistory + 1]) : historyKey(toRevisionExclusive, 0)
  return { gte: historyKey(fromRevision, 0), lt }
}

function leaseIdKey(tag: number, leaseId: number, suffix?: Uint8Array): Uint8Array {
  const out = new Uint8Array(10 + (suffix?.length ?? 0))
  out[0] = prefixLease
  out[1] = tag
  writeUint64BigEndian(out, 2, leaseId)
  if (suffix !== undefined) out.set(suffix, 10)
  return out
}

export function leaseGrantKey(leaseId: number): Uint8Array {
  return leaseIdKey(leaseGrantTag, leaseId)
}

export function leaseGrantBounds(): StorageBounds {
  return { gte: new Uint8Array([prefixLease, leaseGrantTag]), lt: new Uint8Array([prefixLease, leaseGrantTag + 1]) }
}

export function leaseIdOfLeaseKey(storageKey: Uint8Array): number {
  return readUint64BigEndian(storageKey, 2)
}

export function leaseAttachmentKey(leaseId: number, key: Uint8Array): Uint8Array {
  return leaseIdKey(leaseAttachmentTag, leaseId, key)
}

/** Attachments of one lease; the attached key is the storage key's bytes after offset 10. */
export function leaseAttachmentBounds(leaseId: number): StorageBounds {
  return { gte: leaseIdKey(leaseAttachmentTag, leaseId), lt: leaseIdKey(leaseAttachmentTag, leaseId + 1) }
}

export function keyOfLeaseAttachmentKey(storageKey: Uint8Array): Uint8Array {
  return storageKey.subarray(10)
}

export const metaRevisionKey = concatBytes(new Uint8Array([prefixMeta]), utf8('revision'))
export const metaCompactRevisionKey = concatBytes(new Uint8Array([prefixMeta]), utf8('compact-revision'))
export const metaAppliedIndexKey = concatBytes(new Uint8Array([prefixMeta]), utf8('applied-index'))
export const metaFormatKey = concatBytes(new Uint8Array([prefixMeta]), utf8('format'))
/** Present while a snapshot restore is under way: a store found with it was left half-restored. */
export const metaRestoringKey = concatBytes(new Uint8Array([prefixMeta]), utf8('restoring'))

/** Version of this layout, stored under metaFormatKey; a store written by a newer layout is refused. */
export const layoutFormat = 1
