// Test-only failpoints, for the chaos tests to show that their checkers catch a real bug. Set in the
// environment: CAIRN_FAILPOINTS=skip-lease-recheck (comma-separated). Never set in production.
//
//   skip-lease-recheck   after waiting for its predecessor, Lock (and Election) do not re-check that
//                        their own key and lease still exist: the bug of etcd#11456, where a waiter whose
//                        lease expired during the wait went on to believe it held the lock.

export const FAILPOINTS = ['skip-lease-recheck'] as const
export type Failpoint = (typeof FAILPOINTS)[number]

/** Read at each use, so a test may set it before it acquires. */
export function failpointEnabled(name: Failpoint): boolean {
  const v = process.env.CAIRN_FAILPOINTS
  if (v === undefined || v === '') return false
  return v.split(',').some((f) => f.trim() === name)
}
