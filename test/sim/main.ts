// The simulator's command line:
//
//   npm run sim -- --seeds N [--from S|random] [--steps M] [--bug NAME] [--verbose] [--jobs J]
//
// Runs seeds S .. S+N-1 (split across J worker processes) and prints the number of seeds run and
// `violations: 0`, or each failing seed with its violation and the command that replays it.
// Exit status: 0 when clean; 1 when any seed found a violation; with --bug, 2 when none did
// (the planted bug went unnoticed, which is a failure of the simulator).

import { fork } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'
import { BUG_NAMES, runSeed, STEPS_DEFAULT } from './simulation.ts'
import type { BugName, RunResult } from './simulation.ts'

interface CliOptions {
  from: number
  seeds: number
  steps: number
  bug: BugName | undefined
  verbose: boolean
  jobs: number
}

/** What a worker sends back per seed: small, so thousands of seeds cost little IPC. */
export interface SeedSummary {
  seed: number
  violation: RunResult['violation']
  steps: number
  timeUnits: number
  crashes: number
  acked: number
  readsServed: number
  confChangesApplied: number
}

const JOBS_MAX = 16
const SEEDS_MAX = 10_000_000

function fail(message: string): never {
  process.stderr.write(`sim: ${message}\n`)
  process.exit(64)
}

function integer(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isSafeInteger(n) || n < min || n > max) fail(`--${name} wants an integer in [${min}, ${max}], got ${value}`)
  return n
}

function parseCli(argv: string[]): CliOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: 'string' },
      from: { type: 'string' },
      steps: { type: 'string' },
      bug: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      jobs: { type: 'string' },
    },
    strict: true,
  })
  let bug: BugName | undefined
  if (values.bug !== undefined) {
    if (!(BUG_NAMES as readonly string[]).includes(values.bug)) fail(`--bug wants one of ${BUG_NAMES.join(', ')}, got ${values.bug}`)
    bug = values.bug as BugName
  }
  // A random start is the one use of ambient randomness, outside any seed: it picks which seeds to run.
  const from = values.from === 'random' ? Math.floor(Math.random() * 2 ** 40) : integer(values.from, 'from', 1, 0, 2 ** 52)
  const seeds = integer(values.seeds, 'seeds', 1, 1, SEEDS_MAX)
  const verbose = values.verbose ?? false
  const jobsDefault = verbose ? 1 : Math.min(availableParallelism(), JOBS_MAX, seeds)
  return {
    from,
    seeds,
    steps: integer(values.steps, 'steps', STEPS_DEFAULT, 1, 100_000_000),
    bug,
    verbose,
    jobs: integer(values.jobs, 'jobs', jobsDefault, 1, JOBS_MAX),
  }
}

export function summarize(result: RunResult): SeedSummary {
  return {
    seed: result.seed,
    violation: result.violation,
    steps: result.steps,
    timeUnits: result.timeUnits,
    crashes: result.crashes,
    acked: result.workload.acked,
    readsServed: result.workload.readsServed,
    confChangesApplied: result.workload.confChangesApplied,
  }
}

export function replayCommand(seed: number, options: Pick<CliOptions, 'steps' | 'bug'>): string {
  let command = `npm run sim -- --from ${seed} --seeds 1`
  if (options.steps !== STEPS_DEFAULT) command += ` --steps ${options.steps}`
  if (options.bug !== undefined) command += ` --bug ${options.bug}`
  return command
}

function runRange(options: CliOptions, seeds: number[], onResult: (summary: SeedSummary) => void): void {
  const trace = options.verbose ? (line: string) => process.stdout.write(`${line}\n`) : undefined
  for (const seed of seeds) onResult(summarize(runSeed({ seed, steps: options.steps, bug: options.bug, trace })))
}

/** Seeds dealt round-robin to `jobs` child processes, each running this file in worker mode. */
function runParallel(options: CliOptions, onResult: (summary: SeedSummary) => void): Promise<void> {
  const children: Promise<void>[] = []
  for (let job = 0; job < options.jobs; job++) {
    const seeds: number[] = []
    for (let i = job; i < options.seeds; i += options.jobs) seeds.push(options.from + i)
    if (seeds.length === 0) continue
    const child = fork(new URL(import.meta.url).pathname, ['--worker'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.on('message', (summaries) => (summaries as SeedSummary[]).forEach(onResult))
    child.send({ options, seeds })
    children.push(
      new Promise((resolve, reject) => {
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sim worker ${job} exited with ${code}`))))
      }),
    )
  }
  return Promise.all(children).then(() => undefined)
}

function worker(): void {
  process.once('message', (work) => {
    const { options, seeds } = work as { options: CliOptions; seeds: number[] }
    const summaries: SeedSummary[] = []
    runRange(options, seeds, (summary) => summaries.push(summary))
    process.send!(summaries, () => process.disconnect())
  })
}

async function main(): Promise<void> {
  const options = parseCli(process.argv.slice(2))
  const started = performance.now()
  const summaries: SeedSummary[] = []
  const collect = (summary: SeedSummary) => summaries.push(summary)
  if (options.jobs === 1) runRange(options, Array.from({ length: options.seeds }, (_, i) => options.from + i), collect)
  else await runParallel(options, collect)
  if (summaries.length !== options.seeds) fail(`ran ${summaries.length} of ${options.seeds} seeds`)
  summaries.sort((a, b) => a.seed - b.seed)
  const failures = summaries.filter((s) => s.violation !== undefined)
  for (const s of failures) {
    process.stdout.write(`seed ${s.seed}: ${s.violation!.message}\n  replay: ${replayCommand(s.seed, options)}\n`)
  }
  const seconds = (performance.now() - started) / 1000
  let acked = 0
  let crashes = 0
  for (const s of summaries) {
    acked += s.acked
    crashes += s.crashes
  }
  const range = `${options.from}..${options.from + options.seeds - 1}`
  process.stdout.write(
    `seeds: ${summaries.length} (${range}, ${options.steps} steps each${options.bug === undefined ? '' : `, bug ${options.bug}`})\n` +
      `acknowledged writes: ${acked}, crashes: ${crashes}, time: ${seconds.toFixed(1)}s on ${options.jobs} job(s)\n` +
      `violations: ${failures.length}\n`,
  )
  if (options.bug !== undefined && failures.length === 0) {
    process.stdout.write(`planted bug ${options.bug} was NOT caught\n`)
    process.exit(2)
  }
  process.exit(failures.length === 0 ? 0 : 1)
}

if (process.argv.includes('--worker')) worker()
else await main()
