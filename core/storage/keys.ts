// The one place that says which key prefixes exist in a member's RocksDB. Every key starts with one
// byte naming its owner; families never share a prefix, so a range scan of one family never sees
// another's keys. Numbers inside keys are big-endian so byte order is numeric order.
//
//   'r'  Raft log store (core/storage), with a second byte naming the family:
//        'r' 'v'                  format version of this layout
//        'r' 'h'                  hard state (term, vote, commit)
//        'r' 'c'                  conf state applied, with the index that produced it
//        'r' 's'                  snapshot metadata
//        'r' 'd' <u32 chunk>      snapshot data, in chunks
//        'r' 'o'                  log offset: index and term of the entry just before the first retained one
//        'r' 'e' <u64 index>      log entry
//   'k'  keyspace: latest value per key             (reserved for core/mvcc)
//   'h'  revision history: events by revision      (reserved for core/mvcc)
//   'l'  leases                                     (reserved for core/mvcc)
//   'm'  keyspace meta: applied index, compact revision, consistent index  (reserved for core/mvcc)
//   'A'  active alarms (NOSPACE, CORRUPT), replicated like the keyspace      (reserved for core/mvcc)
//   'a'  auth: users, roles, the auth switch         (core/auth, written by core/mvcc's apply)
//   'c'  cluster membership and this member's identity                   (core/server/registry.ts)
//   'j'  the sequence number of the last batch written (core/storage/rocks-db.ts): which journal
//        records a recovered database still needs (core/storage/journal.ts)
// Any other first byte is unassigned; claim it here before using it.

import { ByteWriter } from './binary.ts'

function byte(character: string): number {
  return character.charCodeAt(0)
}

/** First bytes of keys, by owner. */
export const ownerPrefix = {
  raft: byte('r'),
  mvccKeyspace: byte('k'),
  mvccHistory: byte('h'),
  mvccLeases: byte('l'),
  mvccMeta: byte('m'),
  mvccAlarms: byte('A'),
  auth: byte('a'),
  cluster: byte('c'),
  journal: byte('j'),
} as const

/** The one key of the 'j' family. */
export const journalSeqKey = Uint8Array.of(byte('j'))

/** Second bytes of the Raft log store's keys. */
const raftFamily = {
  format: byte('v'),
  hardState: byte('h'),
  confState: byte('c'),
  snapshotMeta: byte('s'),
  snapshotData: byte('d'),
  logOffset: byte('o'),
  entry: byte('e'),
} as const

function raftKey(family: number): Uint8Array {
  return Uint8Array.of(ownerPrefix.raft, family)
}

export const formatKey = raftKey(raftFamily.format)
export const hardStateKey = raftKey(raftFamily.hardState)
export const confStateKey = raftKey(raftFamily.confState)
export const snapshotMetaKey = raftKey(raftFamily.snapshotMeta)
export const logOffsetKey = raftKey(raftFamily.logOffset)
export const entryPrefix = raftKey(raftFamily.entry)
export const snapshotDataPrefix = raftKey(raftFamily.snapshotData)

export function entryKey(index: number): Uint8Array {
  return new ByteWriter(10).raw(entryPrefix).u64(index).finish()
}

export function snapshotDataKey(chunk: number): Uint8Array {
  return new ByteWriter(6).raw(snapshotDataPrefix).u32(chunk).finish()
}

/** The entry index in an entry key, or undefined when the key is not one (wrong prefix or length). */
export function entryIndexOf(key: Uint8Array): number | undefined {
  if (key.length !== entryPrefix.length + 8 || !hasPrefix(key, entryPrefix)) return undefined
  const view = new DataView(key.buffer, key.byteOffset + entryPrefix.length, 8)
  const high = view.getUint32(0)
  if (high > 0x1f_ffff) return undefined
  return high * 0x1_0000_0000 + view.getUint32(4)
}

/** The chunk number in a snapshot data key, or undefined when the key is not one. */
export function snapshotChunkOf(key: Uint8Array): number | undefined {
  if (key.length !== snapshotDataPrefix.length + 4 || !hasPrefix(key, snapshotDataPrefix)) return undefined
  return new DataView(key.buffer, key.byteOffset + snapshotDataPrefix.length, 4).getUint32(0)
}

export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false
  return true
}

/** The range [gte, lt) holding exactly the keys that start with `prefix` (prefix must not be all 0xff). */
export function prefixRange(prefix: Uint8Array): { gte: Uint8Array; lt: Uint8Array } {
  const end = new Uint8Array(prefix) // a copy: the caller's prefix must not change
  let i = end.length - 1
  while (i >= 0 && end[i] === 0xff) i--
  if (i < 0) throw new RangeError('a prefix of only 0xff bytes has no upper bound')
  end[i]! += 1
  return { gte: prefix, lt: end.subarray(0, i + 1) }
}
