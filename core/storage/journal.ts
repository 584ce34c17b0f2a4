// The commit journal: what makes a synced write durable, cheaply.
//
// Why it exists (measured, see docs/storage.md): an fdatasync of RocksDB's write-ahead log costs
// several times more than one of a preallocated, zero-filled file under load, because every WAL
// append grows the file and each sync then waits for a filesystem journal commit shared with every
// other writer on the disk; overwriting blocks that already exist needs no metadata at all. etcd
// preallocates its WAL segments for the same reason.
//
// How: every batch written to the database is also appended, with a sequence number, to this file
// (buffered in memory; written with O_DSYNC when a synced write asks). Each batch also stores its
// sequence number in the database, so after a crash the database says which prefix of the batches
// it kept, and the journal's records after that prefix are written again, in order. A synced write
// is therefore durable once its record (and every record before it) is in the journal and synced.
//
// When the file is full, a barrier makes the database itself durable (RocksDB's WAL synced: every
// batch so far is then on disk) and the journal starts over at the front with a new header naming
// the next sequence number; records left from the previous round have smaller numbers, so a scan
// never mistakes them for current ones. A header torn by a crash during that rewrite is harmless:
// it is only ever rewritten right after a barrier, when nothing in the journal is needed.
//
// Layout: a 4 KiB header block (magic, base sequence number, CRC-32C), then records:
//   u32 length of the body | u32 CRC-32C of the body | body: u64 seq, u32 op count,
//   per op: u8 type (1 put, 2 del), u32 key length, key, [u32 value length, value]
// A zero length, a bad CRC or an unexpected sequence number ends the valid records.

import { Coalesced } from './coalesced.ts'
import { constants } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'
import { open } from 'node:fs/promises'
import { ByteReader, ByteWriter } from './binary.ts'
import { crc32c } from './crc32c.ts'
import type { BatchOp } from './write-batch.ts'

export const journalHeaderBytes = 4096
export const journalCapacityBytesDefault = 8 * 1024 * 1024
/** Unsynced records kept in memory before they are written out anyway. */
const bufferedBytesMax = 2 * 1024 * 1024
const magic = 0x4341_4a31 // "CAJ1"
const zeroChunkBytes = 1024 * 1024

export interface JournalRecord {
  seq: number
  ops: BatchOp[]
}

export class Journal {
  private buffer: Uint8Array[] = []
  private bufferedBytes = 0
  /** Sequence number of the last record added (buffered or written). */
  private lastSeq: number
  private position = journalHeaderBytes
  private baseSeq = 0
  private readonly coalesced = new Coalesced(() => this.flush())
  private closed = false
  /** Completed fdatasyncs and barriers (for tests and metrics). */
  syncs = 0
  barriers = 0

  private constructor(
    private readonly file: FileHandle,
    private readonly path: string,
    readonly capacityBytes: number,
    baseSeq: number,
    /** Makes every batch written to the database so far durable by other means (RocksDB's own sync). */
    private readonly barrier: () => Promise<void>,
  ) {
    this.lastSeq = baseSeq - 1
  }

  /**
   * Opens the journal at `path` (creating a zero-filled one if missing) and returns the records a
   * database that kept batches up to `keptSeq` must write again. Call start() after writing them.
   */
  static async open(
    path: string,
    keptSeq: number,
    barrier: () => Promise<void>,
    capacityBytes = journalCapacityBytesDefault,
  ): Promise<{ journal: Journal; replay: JournalRecord[] }> {
    let file: FileHandle
    let created = false
    try {
      file = await open(path, 'r+')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      file = await open(path, 'w+')
      created = true
    }
    try {
      const { size } = await file.stat()
      const replay = created ? [] : await readRecords(file, size, keptSeq)
      const lastSeq = Math.max(keptSeq, replay.at(-1)?.seq ?? 0)
      const journal = new Journal(file, path, capacityBytes, lastSeq + 1, barrier)
      journal.needsFill = created || size !== capacityBytes
      return { journal, replay }
    } catch (e) {
      await file.close()
      throw e
    }
  }

  /** Set when the file must be (re)filled with zeros before use; done in start(), after the replay. */
  private needsFill = false

  /**
   * Begins a fresh round after the database was made durable (the caller ran its barrier after the
   * replay): a new header, an empty journal.
   */
  async start(): Promise<void> {
    if (this.needsFill) await zeroFill(this.file, this.capacityBytes)
    this.needsFill = false
    // Records are written through an O_DSYNC handle: each write returns once durable, one trip to the
    // thread pool instead of two (a write, then an fdatasync).
    this.durable = await open(this.path, constants.O_RDWR | constants.O_DSYNC)
    await this.writeHeader(this.lastSeq + 1)
  }

  private durable: FileHandle | undefined

  get sequence(): number {
    return this.lastSeq
  }

  /** The first sequence number of the current round (records before it are durable in the database). */
  get roundBaseSeq(): number {
    return this.baseSeq
  }

  /** Takes the next sequence number for a batch about to be written to the database. */
  nextSeq(): number {
    return this.lastSeq + 1
  }

  /** Records a batch the database has just been given, with the number nextSeq() returned. */
  add(seq: number, ops: readonly BatchOp[]): void {
    if (seq !== this.lastSeq + 1) throw new Error(`journal: record ${seq} out of order after ${this.lastSeq}`)
    const record = encodeRecord(seq, ops)
    this.lastSeq = seq
    this.buffer.push(record)
    this.bufferedBytes += record.byteLength
    if (this.bufferedBytes > bufferedBytesMax && !this.coalesced.busy) void this.sync().catch(() => undefined)
  }

  /** Resolves once every record added before the call is durable. Concurrent callers share syncs. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal is closed'))
    return this.coalesced.request()
  }

  private async flush(): Promise<void> {
    const records = this.buffer
    const bytes = this.bufferedBytes
    const throughSeq = this.lastSeq
    this.buffer = []
    this.bufferedBytes = 0
    if (records.length === 0) return
    if (this.position + bytes > this.capacityBytes) {
      // Full: make the database durable itself (covering these records too), then start over.
      await this.barrier()
      await this.writeHeader(throughSeq + 1)
      this.barriers++
      return
    }
    const joined = records.length === 1 ? records[0]! : Buffer.concat(records)
    await this.durableFile().write(joined, 0, joined.byteLength, this.position)
    this.position += joined.byteLength
    this.syncs++
  }

  private async writeHeader(baseSeq: number): Promise<void> {
    const header = Buffer.alloc(journalHeaderBytes)
    const body = new ByteWriter(16).u32(magic).u64(baseSeq).finish()
    header.set(body, 0)
    header.writeUInt32LE(crc32c(body), body.byteLength)
    await this.durableFile().write(header, 0, header.byteLength, 0)
    this.position = journalHeaderBytes
    this.baseSeq = baseSeq
  }

  private durableFile(): FileHandle {
    if (this.durable === undefined) throw new Error('journal: start() was not called')
    return this.durable
  }

  async close(): Promise<void> {
    this.closed = true
    await this.coalesced.settle()
    await this.durable?.close()
    await this.file.close()
  }
}

function encodeRecord(seq: number, ops: readonly BatchOp[]): Uint8Array {
  let size = 16
  for (const op of ops) size += 9 + op.key.byteLength + (op.type === 'put' ? op.value.byteLength : 0)
  const w = new ByteWriter(size).u64(seq).u32(ops.length)
  for (const op of ops) {
    w.u8(op.type === 'put' ? 1 : 2).u32(op.key.byteLength).raw(op.key)
    if (op.type === 'put') w.u32(op.value.byteLength).raw(op.value)
  }
  const body = w.finish()
  const out = Buffer.allocUnsafe(8 + body.byteLength)
  out.writeUInt32LE(body.byteLength, 0)
  out.writeUInt32LE(crc32c(body), 4)
  out.set(body, 8)
  return out
}

function decodeBody(body: Uint8Array): JournalRecord {
  const r = new ByteReader(body)
  const seq = r.u64()
  const count = r.u32()
  const ops: BatchOp[] = []
  for (let i = 0; i < count; i++) {
    const type = r.u8()
    const key = r.copy(r.u32())
    if (type === 1) ops.push({ type: 'put', key, value: r.copy(r.u32()) })
    else if (type === 2) ops.push({ type: 'del', key })
    else throw new Error(`journal: unknown op type ${type}`)
  }
  r.expectEnd()
  return { seq, ops }
}

/** The valid records after `keptSeq`, in order; an invalid header means nothing needs replaying. */
async function readRecords(file: FileHandle, capacityBytes: number, keptSeq: number): Promise<JournalRecord[]> {
  if (capacityBytes < journalHeaderBytes) return []
  const all = Buffer.alloc(capacityBytes)
  await file.read(all, 0, capacityBytes, 0)
  const headerBody = all.subarray(0, 12)
  if (all.readUInt32LE(12) !== crc32c(headerBody)) return []
  const header = new ByteReader(headerBody)
  if (header.u32() !== magic) return []
  let expected = header.u64()
  // Every batch before the round's first was made durable in the database by a barrier.
  if (expected > keptSeq + 1) {
    throw new Error(`journal: the database kept batches up to ${keptSeq} but the journal's round starts at ${expected}`)
  }
  const out: JournalRecord[] = []
  let offset = journalHeaderBytes
  while (offset + 8 <= capacityBytes) {
    const length = all.readUInt32LE(offset)
    if (length === 0 || offset + 8 + length > capacityBytes) break
    const body = all.subarray(offset + 8, offset + 8 + length)
    if (all.readUInt32LE(offset + 4) !== crc32c(body)) break
    let record: JournalRecord
    try {
      record = decodeBody(body)
    } catch {
      break
    }
    if (record.seq !== expected) break
    if (record.seq > keptSeq) out.push(record)
    expected++
    offset += 8 + length
  }
  // The database lost batches the journal no longer has: a barrier promised they were durable.
  const first = out[0]
  if (first !== undefined && first.seq > keptSeq + 1) {
    throw new Error(`journal: the database kept batches up to ${keptSeq} but the journal resumes at ${first.seq}`)
  }
  return out
}

async function zeroFill(file: FileHandle, capacityBytes: number): Promise<void> {
  const zeros = Buffer.alloc(Math.min(zeroChunkBytes, capacityBytes))
  for (let offset = 0; offset < capacityBytes; offset += zeros.byteLength) {
    await file.write(zeros, 0, Math.min(zeros.byteLength, capacityBytes - offset), offset)
  }
  await file.truncate(capacityBytes)
  await file.sync()
}
