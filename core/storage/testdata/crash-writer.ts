// Child process of the crash test: writes the crash plan's steps into the RocksDB at argv[2] as fast
// as it can, printing each step number once the step is stored, until it is killed.

import { RocksDb } from '../rocks-db.ts'
import { RocksLogStore } from '../rocks-log-store.ts'
import { crashStepsMax, runCrashStep } from './crash-plan.ts'

const path = process.argv[2]
if (path === undefined) throw new Error('usage: crash-writer.ts <db directory>')
const db = await RocksDb.open(path, { memtableBytesMax: 4 * 1024 * 1024, backgroundThreads: 1 })
const store = await RocksLogStore.open(db)
process.stdout.write('ready\n')
for (let step = 1; step <= crashStepsMax; step++) {
  await runCrashStep(store, step)
  process.stdout.write(`${step}\n`)
}
await store.close()
await db.close()
