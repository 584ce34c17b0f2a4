// Physical compaction: deleting history below the compact revision in bounded batches. It may run
// beside apply — nothing reads those events any more (reads and watches below the compact revision
// are refused, and views opened earlier keep what they saw), and apply never writes below it.

import type { BackendOp, KvBackend } from './backend.ts'
import { entriesOf } from './backend.ts'
import { historyBounds } from './layout.ts'
import { compactionBatchKeysMax } from './limits.ts'

/** Deletes history below `compactRevision()` until none is left or `stopped()` says so. */
export async function reclaimHistory(backend: KvBackend, compactRevision: () => number, stopped: () => boolean): Promise<void> {
  while (!stopped()) {
    const doomed: BackendOp[] = []
    for await (const entry of entriesOf(backend.iterate(historyBounds(0, compactRevision())))) {
      doomed.push({ type: 'del', key: entry.key })
      if (doomed.length >= compactionBatchKeysMax) break
    }
    if (doomed.length === 0) return
    await backend.write(doomed)
  }
}
