// When a replica's process ends, whether to start it again and after how long. Pure.

import type { RestartPolicy } from '../../recipes/work/spec.ts'

export interface ExitInfo {
  code: number | null
  signal: string | null
}

export function succeeded(exit: ExitInfo): boolean {
  return exit.code === 0
}

/** always: any exit; on-failure: a non-zero code or a signal; never: no. */
export function shouldRestart(policy: RestartPolicy, exit: ExitInfo): boolean {
  if (policy === 'always') return true
  if (policy === 'on-failure') return !succeeded(exit)
  return false
}

/** A run at least this long counts as healthy: the next failure starts the backoff afresh. */
export const HEALTHY_RUN_MS = 10_000

/**
 * Delay before restart number `failures` (1 for the first) of a crash loop: doubling from minMs,
 * capped at maxMs, so a broken program does not spin.
 */
export function restartDelayMs(failures: number, minMs: number, maxMs: number): number {
  if (failures <= 1) return minMs
  return Math.min(maxMs, minMs * 2 ** Math.min(failures - 1, 30))
}
