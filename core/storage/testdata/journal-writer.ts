// Child process for journal.test.ts: opens a RocksDb and writes numbered synced batches forever,
// printing each number once its write is acknowledged, and the sizes of RocksDB's WAL files whenever
// RocksDB's WAL was synced (opening ends with such a barrier; so does each wrap of the journal): a
// machine crash may cut the WAL back to those sizes, no further. The test kills it.

import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { RocksDb } from '../rocks-db.ts'
import { WriteBatch } from '../write-batch.ts'

const path = process.argv[2]!
const journalBytes = Number(process.argv[3] ?? 1 << 20)
const db = await RocksDb.open(path, { journalBytes })
const walSizes = () => Object.fromEntries(readdirSync(path).filter((f) => f.endsWith('.log')).map((f) => [f, statSync(join(path, f)).size]))
let barriers = db.walSyncs
process.stdout.write(`durable ${JSON.stringify(walSizes())}\n`)
const value = Buffer.alloc(200, 7)
for (let i = 1; ; i++) {
  const key = Buffer.from(`key-${String(i).padStart(6, '0')}`)
  // An unsynced write first, like an applied entry: a later synced write covers it too.
  await db.write(new WriteBatch().put(Buffer.concat([Buffer.from('u-'), key]), value), { sync: false })
  await db.write(new WriteBatch().put(key, value), { sync: true })
  // Writes are sequential, so nothing was written between the barrier and now.
  if (db.walSyncs !== barriers) process.stdout.write(`durable ${JSON.stringify(walSizes())}\n`)
  barriers = db.walSyncs
  process.stdout.write(`${i}\n`)
}
