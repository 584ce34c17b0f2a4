// Every bound the keyspace enforces, in one place. Input over a limit is refused with a typed error;
// internal buffers never grow past theirs.

/** Largest key accepted (bytes). etcd only bounds the whole request; a key bound keeps index maps small. */
export const keyBytesMax = 32 * 1024

/** Largest value accepted (bytes): etcd's default --max-request-bytes, so any value etcd takes fits. */
export const valueBytesMax = 1536 * 1024

/** Most operations in one list of a txn (compare, success or failure), as etcd's --max-txn-ops default. */
export const txnOpsMaxDefault = 128

/** Deepest nesting of txns inside txns; etcd has no bound, but recursion must have one. */
export const txnDepthMax = 16

/** etcd's MaxLeaseTTL: a grant above it fails with LeaseTtlTooLarge. */
export const leaseTtlSecondsMax = 9_000_000_000

/**
 * The smallest TTL a lease gets; a smaller request is raised to it (as etcd does). etcd derives it as
 * ceil(1.5 * election timeout): 2 s for the default 1000 ms election timeout.
 */
export const leaseTtlSecondsMinDefault = 2

/** Snapshot streams are cut into chunks of at most this many bytes. */
export const snapshotChunkBytesMax = 1024 * 1024

/** History events a single catch-up read returns (it always completes the revision it is in). */
export const historyReadEventsMax = 1000

/** History events deleted per write batch when compaction reclaims space. */
export const compactionBatchKeysMax = 1000

/** Entries the backend fetches per iterator round trip. */
export const iteratorBatchEntries = 256
