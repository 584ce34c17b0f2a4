// WalSync must fdatasync every live WAL file after the writes it covers, sync the directory when a
// WAL file is new, and share one sync among callers that overlap — never one that started before them.

import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, test } from 'vitest'
import { RocksDb } from './rocks-db.ts'
import { WalSync, type WalFile, type WalFs } from './wal-sync.ts'
import { WriteBatch } from './write-batch.ts'

class FakeFs implements WalFs {
  files = ['000004.log', 'CURRENT', 'MANIFEST-000005']
  log: string[] = []
  /** Pending datasyncs, resolved by the test. */
  gates: Array<() => void> = []
  hold = false

  async readdir(): Promise<string[]> {
    this.log.push('readdir')
    return [...this.files]
  }

  async open(path: string): Promise<WalFile> {
    const name = path.split('/').pop()!
    if (name !== 'db' && !this.files.includes(name)) throw Object.assign(new Error('gone'), { code: 'ENOENT' })
    return {
      datasync: () => {
        this.log.push(`datasync ${name}`)
        return this.hold ? new Promise<void>((r) => this.gates.push(r)) : Promise.resolve()
      },
      sync: async () => void this.log.push(`fsync ${name}`),
      close: async () => void this.log.push(`close ${name}`),
    }
  }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('WalSync', () => {
  test('datasyncs every WAL file and syncs the directory when one is new', async () => {
    const fs = new FakeFs()
    const wal = new WalSync('/x/db', fs)
    await wal.sync()
    expect(fs.log).toEqual(['readdir', 'datasync 000004.log', 'fsync db', 'close db'])
    fs.log = []
    await wal.sync()
    expect(fs.log).toEqual(['readdir', 'datasync 000004.log'])
    fs.log = []
    fs.files.push('000007.log')
    await wal.sync()
    expect(fs.log).toEqual(['readdir', 'datasync 000004.log', 'datasync 000007.log', 'fsync db', 'close db'])
    fs.log = []
    fs.files = fs.files.filter((f) => f !== '000004.log')
    await wal.sync()
    // The known files are synced while the listing runs, so the deleted one is synced once more.
    expect(fs.log).toEqual(['readdir', 'datasync 000004.log', 'datasync 000007.log', 'close 000004.log'])
    await wal.close()
  })

  test('callers during a running sync share the next one, which starts after them', async () => {
    const fs = new FakeFs()
    const wal = new WalSync('/x/db', fs)
    await wal.sync()
    fs.log = []
    fs.hold = true
    let firstDone = false
    const first = wal.sync().then(() => (firstDone = true))
    await tick()
    expect(fs.gates.length).toBe(1)
    // Arrive while the first sync's datasync is in flight: they must not be satisfied by it.
    const late = Array.from({ length: 10 }, () => wal.sync())
    let lateDone = 0
    late.forEach((p) => p.then(() => lateDone++))
    fs.gates.shift()!()
    await first
    await tick()
    expect(firstDone).toBe(true)
    expect(lateDone).toBe(0)
    expect(fs.log.filter((l) => l === 'readdir').length).toBe(2)
    fs.gates.shift()!()
    await Promise.all(late)
    expect(fs.log.filter((l) => l === 'readdir').length).toBe(2)
    await wal.close()
  })

  test('a WAL deleted between listing and opening is skipped', async () => {
    const fs = new FakeFs()
    const realOpen = fs.open.bind(fs)
    fs.open = async (path: string) => {
      if (path.endsWith('000004.log')) throw Object.assign(new Error('gone'), { code: 'ENOENT' })
      return realOpen(path)
    }
    const wal = new WalSync('/x/db', fs)
    await wal.sync()
    expect(fs.log).toEqual(['readdir'])
  })

  test('RocksDb: a synced write waits for a journal sync; an unsynced one does not; concurrent ones share', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-walsync-'))
    try {
      const db = await RocksDb.open(dir)
      // Opening ends with one barrier (a WAL sync) before the journal starts.
      expect(db.walSyncs).toBe(1)
      await db.write(new WriteBatch().put(new Uint8Array([1]), new Uint8Array([2])), { sync: false })
      expect(db.journalSyncs).toBe(0)
      await db.write(new WriteBatch().put(new Uint8Array([1]), new Uint8Array([3])), { sync: true })
      expect(db.journalSyncs).toBe(1)
      expect(readdirSync(dir).some((f) => f.endsWith('.log'))).toBe(true)
      await Promise.all(Array.from({ length: 20 }, (_, i) => db.write(new WriteBatch().put(new Uint8Array([i]), new Uint8Array([i])), { sync: true })))
      expect(db.journalSyncs).toBeLessThanOrEqual(3)
      expect(db.walSyncs).toBe(1)
      expect([...(await db.get(new Uint8Array([1])))!]).toEqual([1])
      await db.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
