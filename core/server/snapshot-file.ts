// Backup files: a consistent keyspace snapshot taken from a live member (writes go on meanwhile),
// verified and restored into fresh data dirs for a new cluster.
//
// File layout: the keyspace snapshot stream (core/mvcc/snapshot-stream.ts: magic, header, records,
// record count and crc32) followed by a 32-byte SHA-256 of everything before it, as etcd appends one.

import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { CorruptDataError } from '../errors.ts'
import { metaAppliedIndexKey, prefixKeyspace, prefixLease } from '../mvcc/layout.ts'
import { encodeNumber } from '../mvcc/records.ts'
import { RocksBackend } from '../mvcc/rocks-backend.ts'
import { decodeSnapshot } from '../mvcc/snapshot-stream.ts'
import { MvccStore } from '../mvcc/store.ts'
import { RocksDb, RocksLogStore } from '../storage/index.ts'
import type { Member } from './member.ts'
import { ConfigError } from './options.ts'
import type { ServeOptions } from './options.ts'
import { Registry } from './registry.ts'

export const SHA256_BYTES = 32

/** Streams a snapshot of the member's keyspace, followed by its SHA-256. */
export async function* snapshotStream(member: Member): AsyncGenerator<Uint8Array> {
  const snap = await member.mvcc.snapshot()
  const hash = createHash('sha256')
  for await (const chunk of snap.chunks) {
    hash.update(chunk)
    yield chunk
  }
  yield hash.digest()
}

export interface SnapshotFileStatus {
  revision: number
  compactRevision: number
  /** Keys in the keyspace at the snapshot's revision. */
  keys: number
  leases: number
  records: number
  bytes: number
  sha256: string
}

/** Reads the file's body (without the SHA-256 trailer) as chunks. */
async function* body(path: string, size: number): AsyncGenerator<Uint8Array> {
  let left = size - SHA256_BYTES
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, end: Math.max(0, size - SHA256_BYTES - 1) })) {
    const b = chunk as Buffer
    left -= b.byteLength
    yield b
  }
  if (left !== 0) throw new CorruptDataError('snapshot file', 'file changed while reading')
}

/** Checks the checksum and the whole stream; throws CorruptDataError describing what is wrong. */
export async function verifySnapshotFile(path: string): Promise<SnapshotFileStatus> {
  let size: number
  try {
    size = (await stat(path)).size
  } catch (e) {
    throw new ConfigError(`cannot read snapshot file ${path}: ${(e as Error).message}`)
  }
  if (size < SHA256_BYTES + 8) throw new CorruptDataError('snapshot file', `${path} is too short (${size} bytes) to be a snapshot`)
  const handle = await open(path, 'r')
  const trailer = Buffer.alloc(SHA256_BYTES)
  await handle.read(trailer, 0, SHA256_BYTES, size - SHA256_BYTES)
  await handle.close()
  const hash = createHash('sha256')
  let header: { revision: number; compactRevision: number } | undefined
  let keys = 0
  let leases = 0
  let records = 0
  const hashed = (async function* () {
    for await (const chunk of body(path, size)) {
      hash.update(chunk)
      yield chunk
    }
  })()
  for await (const item of decodeSnapshot(hashed)) {
    if ('header' in item) header = item.header
    else {
      records++
      if (item.entry.key[0] === prefixKeyspace) keys++
      else if (item.entry.key[0] === prefixLease) leases++
    }
  }
  const digest = hash.digest()
  if (!digest.equals(trailer)) throw new CorruptDataError('snapshot file', `${path}: SHA-256 mismatch (file is damaged or truncated)`)
  if (!header) throw new CorruptDataError('snapshot file', `${path}: no header`)
  return { revision: header.revision, compactRevision: header.compactRevision, keys, leases, records, bytes: size, sha256: digest.toString('hex') }
}

export interface RestoreOptions {
  file: string
  serve: ServeOptions
  /** Writes the first entries of the new cluster (start.ts's bootstrap). */
  bootstrap: (db: RocksDb, logStore: RocksLogStore, registry: Registry) => Promise<unknown>
  /** Told how many bytes of the file have been restored so far, and the total. */
  onProgress?: (bytes: number, total: number) => void
}

/**
 * Builds a fresh data dir holding the snapshot's keyspace (every key, lease and revision) as the first
 * state of a new cluster with new member and cluster IDs. Refuses a damaged file or a used data dir.
 */
export async function restoreSnapshotFile(opts: RestoreOptions): Promise<SnapshotFileStatus> {
  const status = await verifySnapshotFile(opts.file)
  const dir = opts.serve.dataDir
  const existing = await readdir(dir).catch(() => [] as string[])
  if (existing.length > 0) throw new ConfigError(`--data-dir ${dir} is not empty; restore needs a fresh directory`)
  await mkdir(dir, { recursive: true })
  const db = await RocksDb.open(join(dir, 'db'))
  try {
    const backend = new RocksBackend(db.handle)
    const size = (await stat(opts.file)).size
    let done = 0
    const counted = (async function* () {
      for await (const chunk of body(opts.file, size)) {
        done += chunk.byteLength
        opts.onProgress?.(done, size)
        yield chunk
      }
    })()
    const store = await MvccStore.restore(backend, counted)
    await store.close()
    // The new cluster's log starts over at index 1: the keyspace must apply its first entries.
    await backend.write([{ type: 'put', key: metaAppliedIndexKey, value: encodeNumber(0) }], { sync: true })
    const logStore = await RocksLogStore.open(db)
    const registry = await Registry.open(db)
    await opts.bootstrap(db, logStore, registry)
    await logStore.close()
  } finally {
    await db.close()
  }
  return status
}
