// Reading history events by revision (for watch catch-up): whole revisions only, so a reader never
// sees part of a revision's events.

import type { BackendIterator } from './backend.ts'
import { entriesOf } from './backend.ts'
import { revisionOfHistoryKey } from './layout.ts'
import { decodeEventRecord } from './records.ts'
import type { RevisionEvents } from './types.ts'

export interface HistoryRead {
  /** Complete revisions, ascending. */
  revisions: RevisionEvents[]
  /** All events up to and including this revision have been returned; continue after it. */
  throughRevision: number
}

/**
 * Groups the iterator's events by revision, stopping after the revision in which `maxEvents` is
 * reached. `headRevision` is the newest revision the iterator's view holds.
 */
export async function readRevisions(history: BackendIterator, headRevision: number, maxEvents: number): Promise<HistoryRead> {
  const revisions: RevisionEvents[] = []
  let count = 0
  for await (const entry of entriesOf(history)) {
    const revision = revisionOfHistoryKey(entry.key)
    const last = revisions[revisions.length - 1]
    if (last !== undefined && last.revision === revision) {
      last.events.push(decodeEventRecord(entry.value))
    } else {
      if (last !== undefined && count >= maxEvents) return { revisions, throughRevision: last.revision }
      revisions.push({ revision, events: [decodeEventRecord(entry.value)] })
    }
    count++
  }
  return { revisions, throughRevision: headRevision }
}
