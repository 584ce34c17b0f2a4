// Makes RocksDB's write-ahead log durable from the thread pool instead of the event loop.
//
// The binding applies a write batch on the calling thread, so a batch written with RocksDB's own
// `sync` holds the whole member (Raft ticks, peer messages, client requests) for one fsync. Instead a
// synced write is an unsynced RocksDB write — which RocksDB hands to the OS before returning, since
// it does not buffer WAL records in user space (manual WAL flush is off) — followed by an fdatasync
// of the live WAL files here, on libuv's thread pool. That is the same durability: once fdatasync
// returns, every byte the OS had been given for those files is on stable storage.
//
// Which files: every `*.log` in the database directory at the time of the sync (a write that came
// before the sync is in a file that exists when the listing starts). A write lands in the newest one;
// an older one that is still listed may hold writes not yet flushed to a table file, so it is synced
// too. A WAL RocksDB deleted in between had its contents flushed (and synced) into a table
// file first, so it needs nothing. A WAL file seen for the first time gets its directory entry synced
// as well (RocksDB only does that itself for writes it syncs).
//
// Syncs coalesce: callers that arrive while one is running share the next one (it starts after their
// writes), so N concurrent synced writes cost about two fdatasyncs, not N.

import { Coalesced } from './coalesced.ts'
import type { promises as fsPromises } from 'node:fs'
import { join } from 'node:path'

/** The file operations used, injectable so tests can watch them. */
export interface WalFs {
  readdir(path: string): Promise<string[]>
  open(path: string, flags: string): Promise<WalFile>
}

export interface WalFile {
  datasync(): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}

export class WalSync {
  private readonly open = new Map<string, WalFile>()
  private readonly coalesced = new Coalesced(() => this.syncNow())
  private closed = false
  /** Count of completed syncs (for tests and metrics). */
  syncs = 0

  constructor(
    private readonly dir: string,
    private readonly fs: WalFs,
  ) {}

  static forDirectory(dir: string, fs: typeof fsPromises): WalSync {
    return new WalSync(dir, { readdir: (p) => fs.readdir(p), open: (p, flags) => fs.open(p, flags) })
  }

  /** Resolves once everything written to the database before this call is on stable storage. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('WalSync is closed'))
    return this.coalesced.request()
  }

  private async syncNow(): Promise<void> {
    // The files known from before are synced while the directory is listed (in parallel on the thread
    // pool: one round trip, not two); a file the listing shows for the first time is synced after it.
    const known = [...this.open.values()]
    const [listing] = await Promise.all([this.fs.readdir(this.dir), Promise.all(known.map((f) => f.datasync()))])
    const names = listing.filter((n) => n.endsWith('.log'))
    const fresh: WalFile[] = []
    for (const name of names) {
      if (this.open.has(name)) continue
      try {
        const file = await this.fs.open(join(this.dir, name), 'r+')
        this.open.set(name, file)
        fresh.push(file)
      } catch (e) {
        // Deleted after the listing: its data was flushed to a table file first.
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      }
    }
    if (fresh.length > 0) {
      await Promise.all(fresh.map((f) => f.datasync()))
      await this.syncDirectory()
    }
    // Forget files RocksDB has deleted.
    const live = new Set(names)
    for (const [name, file] of this.open) {
      if (live.has(name)) continue
      this.open.delete(name)
      await file.close()
    }
    this.syncs++
  }

  private async syncDirectory(): Promise<void> {
    const dir = await this.fs.open(this.dir, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }

  async close(): Promise<void> {
    this.closed = true
    await this.coalesced.settle()
    for (const file of this.open.values()) await file.close()
    this.open.clear()
  }
}
