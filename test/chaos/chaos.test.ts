// CI's chaos runs: each workload briefly against a real 3-member cluster under every default fault
// kind, which must show no violation, and so must the clean build under each failpoint's schedule; and
// each planted failpoint, which must be caught. About 5 minutes on two cores. `npm run chaos -- --duration 600` is the long run (docs/chaos.md).

import { rmSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { DEFAULTS, formatReport, runChaos } from './run.ts'
import type { ChaosOptions, ChaosReport, WorkloadName } from './run.ts'

/** Dense faults for short runs: a new step every 1.3–4 s. */
const SHORT: Partial<ChaosOptions> = { quietMsMin: 300, quietMsMax: 1_000, holdMsMin: 1_000, holdMsMax: 3_000 }

function options(workload: WorkloadName, seed: number, more: Partial<ChaosOptions>): ChaosOptions {
  return { ...DEFAULTS, ...SHORT, workload, seed, ...more }
}

/** crash-after-ack, alone, with light writes through the leader (ack-before-fsync's schedule). */
const ACK_BEFORE_FSYNC_SCHEDULE: Partial<ChaosOptions> = {
  durationMs: 12_000,
  faults: ['crash-after-ack'],
  combine: 0,
  clients: 1,
  ledgerWriters: 1,
  quietMsMin: 2_000,
  quietMsMax: 3_000,
  holdMsMin: 500,
  holdMsMax: 1_000,
}

/** Lock clients paused past their lease, one step after another (skip-lease-recheck's schedule). */
const SKIP_LEASE_RECHECK_SCHEDULE: Partial<ChaosOptions> = { durationMs: 25_000, faults: ['pause-client'], quietMsMin: 300, quietMsMax: 1_000 }

/**
 * A run that caught its planted bug keeps its data dirs like any failing run (~250 MB on /dev/shm);
 * once the test has what it wanted they go, or every CI run would leave three behind.
 */
function discard(report: ChaosReport): void {
  if (report.dataDir) rmSync(report.dataDir, { recursive: true, force: true })
}

/** No violation of any kind (the lease workload's late keep-alive bug is fixed in core/server). */
const clean = (r: ChaosReport) => r.linearizable !== false && r.lost === 0 && r.problems.length === 0

describe('chaos: the clean build under faults', () => {
  for (const [workload, seconds] of [
    ['register', 15],
    ['set', 12],
    ['watch', 12],
    ['lease', 12],
    ['lock', 15],
    ['semaphore', 12],
  ] as const) {
    it(`${workload}: no violation under all fault kinds`, { timeout: 150_000 }, async () => {
      const report = await runChaos(options(workload, 1000 + seconds, { durationMs: seconds * 1000 }))
      const text = formatReport(report)
      expect(clean(report), text).toBe(true)
      expect(report.ok, text).toBeGreaterThan(50)
      expect([...report.faults.values()].reduce((a, b) => a + b, 0), text).toBeGreaterThanOrEqual(3)
    })
  }

  it('ack-before-fsync\'s schedule on the clean build: nothing acknowledged is lost', { timeout: 180_000 }, async () => {
    const report = await runChaos(options('set', 3001, ACK_BEFORE_FSYNC_SCHEDULE))
    const text = formatReport(report)
    expect(clean(report), text).toBe(true)
    expect(report.faults.get('crash-after-ack') ?? 0, text).toBeGreaterThanOrEqual(2)
  })

  it('skip-lease-recheck\'s schedule on the clean build: never two holders', { timeout: 180_000 }, async () => {
    const report = await runChaos(options('lock', 4001, SKIP_LEASE_RECHECK_SCHEDULE))
    const text = formatReport(report)
    expect(clean(report), text).toBe(true)
    expect(report.faults.get('pause-client') ?? 0, text).toBeGreaterThanOrEqual(3)
  })
})

describe('chaos: planted bugs are caught', () => {
  it('stale-reads: the register history is not linearizable under partitions', { timeout: 150_000 }, async () => {
    const report = await runChaos(
      options('register', 2001, {
        durationMs: 15_000,
        failpoints: ['stale-reads'],
        faults: ['partition-leader-minority', 'partition-isolate', 'partition-halves'],
      }),
    )
    expect(report.linearizable, formatReport(report)).toBe(false)
    discard(report)
  })

  it('ack-before-fsync: a crash of every member right after an acknowledged write loses it', { timeout: 240_000 }, async () => {
    // Under the failpoint a follower acknowledges an entry 300 ms before writing it, so the leader can
    // commit and answer while it alone has the entry on disk. crash-after-ack kills every member the
    // moment a write through the leader is acknowledged and restarts the old leader only once the
    // others have elected one of themselves: the entry is gone. Each step catches it (the first one
    // usually wedges the old leader, whose log holds an entry the new leader overwrote); three steps
    // leave room for a kill that comes too late on a loaded machine.
    const report = await runChaos(options('set', 3001, { ...ACK_BEFORE_FSYNC_SCHEDULE, failpoints: ['ack-before-fsync'] }))
    expect(report.lost, formatReport(report)).toBeGreaterThan(0)
    discard(report)
  })

  it('skip-lease-recheck: the lock workload catches two holders when a waiter is paused past its lease', { timeout: 180_000 }, async () => {
    // A waiting client cut off from every member for longer than its lease TTL: its key expires, the
    // line moves on, and when its predecessor leaves it goes on to hold without the re-check (etcd#11456)
    // while the real holder holds. About three pauses in four show it; the run has four or five.
    const report = await runChaos(options('lock', 4001, { ...SKIP_LEASE_RECHECK_SCHEDULE, failpoints: ['skip-lease-recheck'] }))
    const text = formatReport(report)
    expect(report.problems.some((p) => p.startsWith('lock: two holders at once')), text).toBe(true)
    discard(report)
  })
})
