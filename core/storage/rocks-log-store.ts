// The durable Raft log store: records in a Db (RocksDb in production) under the 'r' prefix, mirrored
// by an in-memory tail loaded and checked on open, as etcd pairs its MemoryStorage with a WAL.

import type { ConfState } from '../raft/types.ts'
import type { Db } from './db.ts'
import { CorruptionError } from './errors.ts'
import { confStateKey, entryKey, entryPrefix, formatKey, ownerPrefix, prefixRange } from './keys.ts'
import { addLogChange } from './log-batch.ts'
import type { IndexSpan, LogChange } from './log-change.ts'
import { loadLogTail } from './log-loader.ts'
import { LogTail } from './log-tail.ts'
import { MirroredLogStore } from './mirrored-log-store.ts'
import { decodeFormat, encodeAppliedConfState, encodeFormat, formatVersion } from './raft-records.ts'
import { WriteBatch } from './write-batch.ts'

export class RocksLogStore extends MirroredLogStore {
  private constructor(
    private readonly db: Db,
    tail: LogTail,
  ) {
    super(tail)
  }

  /**
   * Opens the log store kept in `db`, creating an empty one in a Db that has no log records yet.
   * Throws CorruptionError if any record is damaged or the records disagree; the Db stays open and
   * stays the caller's to close.
   */
  static async open(db: Db): Promise<RocksLogStore> {
    await ensureFormat(db)
    return new RocksLogStore(db, new LogTail(await loadLogTail(db)))
  }

  protected override async persist(change: LogChange, sync: boolean): Promise<void> {
    // Entries below the new offset are deleted after the batch, as one range: if a crash loses that
    // deletion, the loader skips them and the next compaction's range covers them again. Entries
    // removed above the offset (a truncated tail) stay in the batch: left behind, they would be read
    // back as part of the log.
    const newFirst = change.offset === undefined ? 0 : change.offset.index + 1
    const belowOffset = (span: IndexSpan) => span.from <= span.to && span.to < newFirst
    const batch = new WriteBatch()
    addLogChange(batch, { ...change, removed: change.removed.filter((span) => !belowOffset(span)) }, this.tail.snapshot())
    await this.db.write(batch, { sync })
    if (change.removed.some(belowOffset)) await this.db.discardRange(entryPrefix, entryKey(newFirst))
  }

  protected override stageConfStateRecord(batch: WriteBatch, confState: ConfState, index: number): void {
    batch.put(confStateKey, encodeAppliedConfState({ index, confState }))
  }
}

async function ensureFormat(db: Db): Promise<void> {
  const value = await db.get(formatKey)
  if (value !== undefined) {
    const version = decodeFormat(value)
    if (version !== formatVersion) {
      throw new Error(`the log store's format is version ${version}; this build reads version ${formatVersion}`)
    }
    return
  }
  for await (const _ of db.iterate({ ...prefixRange(Uint8Array.of(ownerPrefix.raft)), limit: 1 })) {
    throw new CorruptionError('format', undefined, 'the format record is missing but log records exist')
  }
  await db.write(new WriteBatch().put(formatKey, encodeFormat()), { sync: true })
}
