// Errors the storage layer reports. Corruption is an operating condition (bad disk, bad memory, a bug
// in an older version), never asserted away: the member refuses to start rather than serve wrong data.

import { CorruptDataError } from '../errors.ts'

/** The key families whose records can be reported corrupt; see keys.ts. */
export type RecordFamily =
  | 'format'
  | 'entry'
  | 'hard-state'
  | 'conf-state'
  | 'snapshot-meta'
  | 'snapshot-data'
  | 'log-offset'
  | 'log'

/**
 * A stored log record failed its checksum, could not be decoded, or the records disagree with each
 * other. A CorruptDataError (code 'CorruptData', like the keyspace's), so one catch refuses both;
 * `detail` (and the inherited `location`) say where in words, `family` and `position` in data.
 */
export class CorruptionError extends CorruptDataError {
  constructor(
    /** Which key family the bad record belongs to ('log' for disagreements between records). */
    readonly family: RecordFamily,
    /** The entry index or chunk number within the family; undefined for single records. */
    readonly position: number | undefined,
    readonly reason: string,
  ) {
    super(`raft log store ${family}${position === undefined ? '' : ` at ${position}`}`, reason)
    this.name = 'CorruptionError'
  }
}
