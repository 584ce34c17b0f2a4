// Errors the storage layer reports. Corruption is an operating condition (bad disk, bad memory, a bug
// in an older version), never asserted away: the member refuses to start rather than serve wrong data.

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

/** A stored record failed its checksum, could not be decoded, or the records disagree with each other. */
export class CorruptionError extends Error {
  /** The code core/errors.ts registers for corrupt stored data (gRPC DataLoss). */
  readonly code = 'CorruptData'

  constructor(
    /** Which key family the bad record belongs to ('log' for disagreements between records). */
    readonly family: RecordFamily,
    /** Where: the entry index, chunk number or other position within the family; undefined for singletons. */
    readonly location: number | undefined,
    readonly reason: string,
  ) {
    super(`storage corruption in ${family}${location === undefined ? '' : ` at ${location}`}: ${reason}`)
    this.name = 'CorruptionError'
  }
}
