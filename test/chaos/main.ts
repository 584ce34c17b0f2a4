// The chaos command line:
//
//   npm run chaos -- [--workload register|set|watch|lease|lock|semaphore|all] [--duration S] [--seed N] [--nodes 3|5]
//                    [--faults kind,kind,…|all] [--failpoint stale-reads|ack-before-fsync|skip-lease-recheck] [--runs R]
//                    [--election-ms T] [--heartbeat-ms H] [--snapshot-count C] [--op-timeout-ms M]
//                    [--clients C] [--ledger-writers W] [--quiet-ms-min/max MS] [--hold-ms-min/max MS] [--combine P]
//                    [--tsx] [--keep] [--verbose]
//
// Runs the workload(s) against a real cluster under faults and prints, per run, the op counts, the
// faults injected by kind, `linearizable: true|false`, `acknowledged writes lost: N`, the seed and the
// command that replays it. Exit status: 0 when every run is clean; 1 when a run found a violation (or
// could not decide); with --failpoint, 0 only when every run caught the planted bug, 2 otherwise.

import { parseArgs } from 'node:util'
import { FAULT_KINDS } from './nemesis.ts'
import type { FaultKind } from './nemesis.ts'
import { DEFAULTS, FAILPOINTS, formatReport, runChaos, WORKLOADS } from './run.ts'
import type { ChaosOptions, ChaosReport, WorkloadName } from './run.ts'

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`)
  process.exit(64)
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`--${name} wants an integer in [${min}, ${max}], got ${value}`)
  return n
}

function parseCli(argv: string[]): { runs: Array<Omit<ChaosOptions, 'seed'>>; seed: number; count: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      workload: { type: 'string', default: 'all' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      nodes: { type: 'string' },
      faults: { type: 'string' },
      failpoint: { type: 'string' },
      runs: { type: 'string' },
      'election-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'snapshot-count': { type: 'string' },
      'op-timeout-ms': { type: 'string' },
      clients: { type: 'string' },
      'ledger-writers': { type: 'string' },
      'quiet-ms-min': { type: 'string' },
      'quiet-ms-max': { type: 'string' },
      'hold-ms-min': { type: 'string' },
      'hold-ms-max': { type: 'string' },
      combine: { type: 'string' },
      tsx: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
  })
  const workloads: WorkloadName[] =
    values.workload === 'all'
      ? [...WORKLOADS]
      : values.workload!.split(',').map((w) => {
          if (!(WORKLOADS as readonly string[]).includes(w)) fail(`unknown workload ${w} (one of ${WORKLOADS.join(', ')}, all)`)
          return w as WorkloadName
        })
  let faults: FaultKind[] = DEFAULTS.faults
  if (values.faults === 'all') faults = [...FAULT_KINDS]
  else if (values.faults === 'none') faults = []
  else if (values.faults) {
    faults = values.faults.split(',').map((f) => {
      if (!(FAULT_KINDS as readonly string[]).includes(f)) fail(`unknown fault ${f} (one of ${FAULT_KINDS.join(', ')}, all, none)`)
      return f as FaultKind
    })
  }
  const failpoints = values.failpoint ? values.failpoint.split(',') : []
  const runsLock = workloads.includes('lock')
  for (const f of failpoints) {
    if (f === 'skip-lease-recheck' && runsLock === false) fail('skip-lease-recheck is a failpoint of the lock recipe: only the lock workload can catch it')
    if (!(FAILPOINTS as readonly string[]).includes(f)) fail(`unknown failpoint ${f} (one of ${FAILPOINTS.join(', ')})`)
  }
  const nodes = integer(values.nodes, 'nodes', DEFAULTS.nodes, 1, 7)
  const base: Omit<ChaosOptions, 'seed' | 'workload'> = {
    ...DEFAULTS,
    durationMs: integer(values.duration, 'duration', DEFAULTS.durationMs / 1000, 1, 86_400) * 1000,
    nodes,
    faults,
    failpoints,
    heartbeatMs: integer(values['heartbeat-ms'], 'heartbeat-ms', DEFAULTS.heartbeatMs, 10, 10_000),
    electionMs: integer(values['election-ms'], 'election-ms', DEFAULTS.electionMs, 50, 60_000),
    snapshotCount: integer(values['snapshot-count'], 'snapshot-count', DEFAULTS.snapshotCount, 1, 10_000_000),
    opTimeoutMs: integer(values['op-timeout-ms'], 'op-timeout-ms', DEFAULTS.opTimeoutMs, 100, 600_000),
    clients: integer(values.clients, 'clients', DEFAULTS.clients, 0, 200),
    ledgerWriters: integer(values['ledger-writers'], 'ledger-writers', DEFAULTS.ledgerWriters, 0, 50),
    quietMsMin: integer(values['quiet-ms-min'], 'quiet-ms-min', DEFAULTS.quietMsMin, 0, 3_600_000),
    quietMsMax: integer(values['quiet-ms-max'], 'quiet-ms-max', DEFAULTS.quietMsMax, 0, 3_600_000),
    holdMsMin: integer(values['hold-ms-min'], 'hold-ms-min', DEFAULTS.holdMsMin, 0, 3_600_000),
    holdMsMax: integer(values['hold-ms-max'], 'hold-ms-max', DEFAULTS.holdMsMax, 0, 3_600_000),
    combine: values.combine === undefined ? DEFAULTS.combine : Number(values.combine),
    useTsx: values.tsx === true,
    keep: values.keep === true,
    verbose: values.verbose === true,
  }
  if (!(base.combine >= 0 && base.combine <= 1)) fail(`--combine wants a probability in [0, 1], got ${values.combine}`)
  if (base.quietMsMin > base.quietMsMax || base.holdMsMin > base.holdMsMax) fail('a --*-ms-min is above its --*-ms-max')
  const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : integer(values.seed, 'seed', 0, 0, Number.MAX_SAFE_INTEGER)
  return { runs: workloads.map((workload) => ({ ...base, workload })), seed, count: integer(values.runs, 'runs', 1, 1, 10_000) }
}

async function main(): Promise<void> {
  const { runs, seed, count } = parseCli(process.argv.slice(2))
  const reports: ChaosReport[] = []
  for (let k = 0; k < count; k++) {
    for (const run of runs) {
      const options: ChaosOptions = { ...run, seed: seed + k }
      process.stdout.write(`\n=== chaos: ${options.workload}, seed ${options.seed} ===\n`)
      const report = await runChaos(options)
      reports.push(report)
      process.stdout.write(formatReport(report) + '\n')
    }
  }
  const bad = reports.filter((r) => r.linearizable !== true || r.lost > 0 || r.problems.length > 0)
  const planted = runs[0]?.failpoints.length ? true : false
  process.stdout.write(`\n${reports.length} runs, ${bad.length} with violations\n`)
  for (const r of bad) process.stdout.write(`  ${r.replay}\n`)
  if (planted) process.exit(bad.length === reports.length ? 0 : 2)
  process.exit(bad.length === 0 ? 0 : 1)
}

await main()
