// Writing a snapshot stream into a backend: the old keyspace is removed, the entries are written in
// bounded batches, and only then (by the caller) the meta that makes the state visible.

import { CorruptDataError } from '../errors.ts'
import type { BackendOp, KvBackend } from './backend.ts'
import { entriesOf } from './backend.ts'
import { equalBytes } from './bytes.ts'
import { ownedPrefixes, prefixAlarm, prefixAuth, prefixBounds, prefixHistory, prefixKeyspace, prefixLease } from './layout.ts'
import { compactionBatchKeysMax } from './limits.ts'
import { decodeSnapshot, type SnapshotHeader } from './snapshot-stream.ts'

/** Bytes of entries written per batch while restoring. */
const restoreBatchBytesMax = 4 * 1024 * 1024

/** Deletes every key under this module's prefixes except `keep`, in bounded batches. */
export async function clearOwnedPrefixes(backend: KvBackend, keep: Uint8Array[]): Promise<void> {
  for (const prefix of ownedPrefixes) {
    for (;;) {
      const doomed: BackendOp[] = []
      for await (const entry of entriesOf(backend.iterate(prefixBounds(prefix)))) {
        if (keep.some((k) => equalBytes(k, entry.key))) continue
        doomed.push({ type: 'del', key: entry.key })
        if (doomed.length >= compactionBatchKeysMax) break
      }
      if (doomed.length === 0) break
      await backend.write(doomed)
    }
  }
}

const restorablePrefixes: ReadonlySet<number> = new Set([prefixAlarm, prefixAuth, prefixHistory, prefixKeyspace, prefixLease])

/** Writes the stream's entries; returns its header. Throws CorruptDataError on a bad stream. */
export async function restoreEntries(backend: KvBackend, chunks: AsyncIterable<Uint8Array>): Promise<SnapshotHeader> {
  let header: SnapshotHeader | undefined
  let batch: BackendOp[] = []
  let batchBytes = 0
  for await (const item of decodeSnapshot(chunks)) {
    if ('header' in item) {
      header = item.header
      continue
    }
    const { key, value } = item.entry
    if (!restorablePrefixes.has(key[0] ?? -1)) throw new CorruptDataError('snapshot', `entry outside the keyspace prefixes`)
    batch.push({ type: 'put', key, value })
    batchBytes += key.length + value.length
    if (batchBytes >= restoreBatchBytesMax) {
      await backend.write(batch)
      batch = []
      batchBytes = 0
    }
  }
  await backend.write(batch)
  if (header === undefined) throw new CorruptDataError('snapshot', 'no header')
  return header
}
