// The commit journal: replay of exactly the records a database lost, in order, nothing stale, and a
// real machine-crash model — kill -9 a writer, cut RocksDB's WAL back to what was synced, reopen.

import { spawn } from 'node:child_process'
import { existsSync, readdirSync, rmSync, truncateSync } from 'node:fs'
import { open as openFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Journal, journalHeaderBytes } from './journal.ts'
import { RocksDb, journalFileName } from './rocks-db.ts'
import { makeTempDir, removeTempDir } from './testdata/temp-dir.ts'
import type { BatchOp } from './write-batch.ts'

const writerPath = fileURLToPath(new URL('./testdata/journal-writer.ts', import.meta.url))
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url))

const put = (k: string, v: string): BatchOp => ({ type: 'put', key: Buffer.from(k), value: Buffer.from(v) })
const seqs = (records: Array<{ seq: number }>) => records.map((r) => r.seq)

let dir = ''
afterEach(async () => {
  await removeTempDir(dir)
})

async function writeRecords(path: string, count: number, options: { capacity?: number; barrier?: () => Promise<void> } = {}) {
  const { journal } = await Journal.open(path, 0, options.barrier ?? (async () => undefined), options.capacity ?? 64 * 1024)
  await journal.start()
  for (let i = 0; i < count; i++) {
    const seq = journal.nextSeq()
    journal.add(seq, [put(`k${seq}`, `v${seq}`), { type: 'del', key: Buffer.from('gone') }])
    await journal.sync()
  }
  return journal
}

describe('Journal', () => {
  it('replays, in order, exactly the records after what the database kept', async () => {
    dir = await makeTempDir('journal')
    const path = join(dir, 'j')
    await (await writeRecords(path, 10)).close()
    const { journal, replay } = await Journal.open(path, 4, async () => undefined, 64 * 1024)
    expect(seqs(replay)).toEqual([5, 6, 7, 8, 9, 10])
    expect(Buffer.from(replay[0]!.ops[0]!.key).toString()).toBe('k5')
    expect(replay[0]!.ops[1]).toMatchObject({ type: 'del' })
    expect(journal.nextSeq()).toBe(11)
    await journal.close()
  })

  it('stops at a torn or damaged record', async () => {
    dir = await makeTempDir('journal')
    const path = join(dir, 'j')
    await (await writeRecords(path, 10)).close()
    // Damage one byte inside the 8th record's body.
    const f = await openFile(path, 'r+')
    const recordBytes = (await readAll(path)).subarray(journalHeaderBytes).readUInt32LE(0) + 8
    await f.write(Buffer.from([0xff]), 0, 1, journalHeaderBytes + 7 * recordBytes + 20)
    await f.close()
    const { journal, replay } = await Journal.open(path, 0, async () => undefined, 64 * 1024)
    expect(seqs(replay)).toEqual([1, 2, 3, 4, 5, 6, 7])
    await journal.close()
  })

  it('wraps with a barrier, and never replays a record from an earlier round', async () => {
    dir = await makeTempDir('journal')
    const path = join(dir, 'j')
    let barriers = 0
    // Room for a few records only: writing 20 wraps several times.
    const capacity = journalHeaderBytes + 200
    const journal = await writeRecords(path, 20, { capacity, barrier: async () => void barriers++ })
    expect(barriers).toBeGreaterThan(2)
    expect(journal.barriers).toBe(barriers)
    const base = journal.roundBaseSeq
    expect(base).toBeGreaterThan(1)
    await journal.close()
    const reopen = async (kept: number) => {
      const { journal: j, replay } = await Journal.open(path, kept, async () => undefined, capacity)
      await j.close()
      return seqs(replay)
    }
    // A database that kept everything before the round gets exactly the round's records, none older.
    expect(await reopen(base - 1)).toEqual(Array.from({ length: 21 - base }, (_, i) => base + i))
    expect(await reopen(20)).toEqual([])
  })

  it('refuses a database that lost batches a barrier made durable', async () => {
    dir = await makeTempDir('journal')
    const path = join(dir, 'j')
    const journal = await writeRecords(path, 20, { capacity: journalHeaderBytes + 200 })
    const base = journal.roundBaseSeq
    await journal.close()
    await expect(Journal.open(path, base - 2, async () => undefined, journalHeaderBytes + 200)).rejects.toThrow(/journal/)
  })
})

async function readAll(path: string): Promise<Buffer> {
  const f = await openFile(path, 'r')
  const { size } = await f.stat()
  const b = Buffer.alloc(size)
  await f.read(b, 0, size, 0)
  await f.close()
  return b
}

/** Runs the writer until it acknowledged `acks` synced writes, kills it; returns the WAL sizes at its last RocksDB sync and the last ack. */
async function runWriter(path: string, acks: number): Promise<{ sizes: Record<string, number>; lastAck: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerPath, path, String(256 * 1024)], { cwd: repositoryRoot, stdio: ['ignore', 'pipe', 'pipe'] })
  let sizes: Record<string, number> | undefined
  let lastAck = 0
  let pending = ''
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  child.stdout.on('data', (c: Buffer) => {
    pending += c.toString()
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) {
      if (line.startsWith('durable ')) sizes = JSON.parse(line.slice(8)) as Record<string, number>
      else if (/^\d+$/.test(line)) lastAck = Number(line)
    }
    if (lastAck >= acks) child.kill('SIGKILL')
  })
  const exit = await new Promise<string | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.once('end', resolve)))
  for (const line of pending.split('\n')) if (/^\d+$/.test(line)) lastAck = Number(line)
  if (exit !== 'SIGKILL' || sizes === undefined) throw new Error(`writer did not run as planned: ${stderr}`)
  return { sizes, lastAck }
}

/** A machine crash in the worst case for RocksDB: its WAL keeps only what its last sync covered. */
function cutWalsBack(path: string, sizes: Record<string, number>): void {
  for (const f of readdirSync(path).filter((n) => n.endsWith('.log'))) truncateSync(join(path, f), sizes[f] ?? 0)
}

async function keysPresent(db: RocksDb, upTo: number): Promise<number[]> {
  const missing: number[] = []
  for (let i = 1; i <= upTo; i++) if ((await db.get(Buffer.from(`key-${String(i).padStart(6, '0')}`))) === undefined) missing.push(i)
  return missing
}

describe('RocksDb with the journal after a machine crash', () => {
  it('keeps every acknowledged synced write when RocksDB lost its unsynced WAL tail', async () => {
    dir = await makeTempDir('journal-crash')
    const path = join(dir, 'db')
    // 1,500 acks of ~250-byte records overflow the 256 KiB journal several times: barriers included.
    const { sizes, lastAck } = await runWriter(path, 1_500)
    cutWalsBack(path, sizes)
    const db = await RocksDb.open(path, { journalBytes: 256 * 1024 })
    try {
      expect(await keysPresent(db, lastAck)).toEqual([])
    } finally {
      await db.close()
    }
  }, 60_000)

  it('the same crash without the journal loses acknowledged writes (the model really drops data)', async () => {
    dir = await makeTempDir('journal-crash')
    const path = join(dir, 'db')
    const { sizes, lastAck } = await runWriter(path, 300)
    cutWalsBack(path, sizes)
    rmSync(join(path, journalFileName))
    expect(existsSync(join(path, journalFileName))).toBe(false)
    const db = await RocksDb.open(path, { journalBytes: 256 * 1024 })
    try {
      expect((await keysPresent(db, lastAck)).length).toBeGreaterThan(0)
    } finally {
      await db.close()
    }
  }, 60_000)
})
