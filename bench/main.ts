// `npm run bench -- …`: Cairn side by side with etcd on this machine. See docs/bench.md.
//
//   npm run bench -- --workload put --members 3 --clients 64 --duration 10 [--system cairn|etcd|both]
//   npm run bench -- --smoke            every workload against Cairn alone, ~1–2 minutes; exit 1 on any error
//   npm run bench -- --workload all --full --record
//
// Every run is bounded by a time budget and stops every process it started — at the end, on
// SIGINT/SIGTERM, on an error and when the budget runs out.

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BenchCluster, ROOT } from './cluster.ts'
import type { SystemName } from './cluster.ts'
import { parseOptions, usage, estimateBudgetS } from './options.ts'
import { killEverything, liveChildren } from './procs.ts'
import { findProfiles, formatProfile, summarizeProfile } from './profile.ts'
import { Progress } from './progress.ts'
import { markdownReport, medianOfRepeats, sanitize, terminalReport, writeReports } from './report.ts'
import type { BenchOptions, RunReport, SeriesResult, WorkloadName } from './types.ts'
import type { RunContext } from './measure.ts'
import { ceilingWorkload } from './workloads/ceiling.ts'
import { failoverWorkload } from './workloads/failover.ts'
import { leaseWorkload, putV2Workload, putWorkload, rangeWorkload, txnWorkload } from './workloads/kv.ts'
import { scaleWorkload } from './workloads/scale.ts'
import { watchWorkload } from './workloads/watch.ts'

// The DNS server's queries per second (many records, no store on the query path) has its own driver:
//   npm run bench -- --workload dns [--records 10000] [--queries 50000] [--concurrency 64] [--seconds 20]
{
  const args = process.argv.slice(2)
  const at = args.indexOf('--workload')
  if (at >= 0 && args[at + 1] === 'dns') {
    args.splice(at, 2)
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'dns-qps.ts'), ...args], { stdio: 'inherit' })
    process.exit(r.status ?? 1)
  }
}

const RUNNERS: Record<Exclude<WorkloadName, 'ceiling'>, (ctx: RunContext) => Promise<SeriesResult[]>> = {
  put: putWorkload,
  range: rangeWorkload,
  txn: txnWorkload,
  watch: watchWorkload,
  lease: leaseWorkload,
  failover: failoverWorkload,
  scale: scaleWorkload,
}

const progress = new Progress()
let report: RunReport | undefined
let finished = false

function etcdVersion(): string | undefined {
  try {
    const out = execFileSync('etcd', ['--version'], { encoding: 'utf8', timeout: 5000 })
    return (/etcd Version: (\S+)/.exec(out)?.[1] ?? 'unknown').replace(/^/, 'etcd ')
  } catch {
    return undefined
  }
}

function tmpFilesystem(): string {
  try {
    const out = execFileSync('df', ['-PT', tmpdir()], { encoding: 'utf8', timeout: 5000 }).trim().split('\n').at(-1) ?? ''
    const f = out.split(/\s+/)
    return `${tmpdir()} (${f[0] ?? '?'}, ${f[1] ?? '?'})`
  } catch {
    return tmpdir()
  }
}

function saveAndPrint(rep: RunReport, label: string): void {
  rep.finishedAt = new Date().toISOString()
  process.stdout.write(terminalReport(rep) + '\n')
  const files = writeReports(rep, rep.options.outDir, label)
  process.stdout.write(`\nresults: ${files.json}\n         ${files.md}\n`)
  if (rep.options.record) {
    const path = join(ROOT, 'docs/bench-results.md')
    writeFileSync(path, markdownReport(rep))
    process.stdout.write(`recorded: ${path}\n`)
  }
}

/** Keeps each member's stderr (JSON log lines, warn and above) for diagnosing what a run showed. */
function saveMemberLogs(cluster: BenchCluster, dir: string, label: string): void {
  try {
    mkdirSync(dir, { recursive: true })
    for (const m of cluster.members) writeFileSync(join(dir, `${label}-${m.name}.log`), m.child?.stderrTail() ?? '')
  } catch (e) {
    progress.say(`  could not save member logs: ${(e as Error).message}`)
  }
}

interface RunState {
  cairnV2: boolean | undefined
  /** Smoke runs share one cluster across workloads (a fresh one after a failure). */
  shared: BenchCluster | undefined
  stamp: string
}

async function startCluster(opts: BenchOptions, workload: Exclude<WorkloadName, 'ceiling'>, system: SystemName, enableV2: boolean, profDir: string | undefined): Promise<BenchCluster> {
  progress.say(`▶ ${workload} on ${system}: starting ${opts.members} member(s)`)
  const t0 = Date.now()
  const cluster = await BenchCluster.start({
    system,
    members: opts.members,
    heartbeatMs: opts.heartbeatMs,
    electionMs: opts.electionMs,
    snapshotCount: opts.snapshotCount,
    enableV2,
    ...(profDir ? { cpuProfDir: profDir } : {}),
    ...(workload === 'scale' && system === 'etcd' ? { quotaBackendBytes: 8 * 1024 ** 3 } : {}),
  })
  progress.say(`  ${system} cluster up in ${Date.now() - t0} ms (leader elected)`)
  return cluster
}

/** Runs one workload on one system (in a fresh cluster, or the shared one of a smoke run). */
async function runOn(opts: BenchOptions, workload: Exclude<WorkloadName, 'ceiling'>, system: SystemName, state: RunState, rep: RunReport): Promise<void> {
  const wantV2 = workload === 'put' && opts.v2 && !opts.smoke && (system === 'cairn' || state.cairnV2 !== false)
  const profDir = opts.cpuProf && system === 'cairn' ? join(opts.outDir, 'profiles', state.stamp, workload) : undefined
  if (profDir) mkdirSync(profDir, { recursive: true })
  const share = opts.smoke && !profDir
  let cluster = share ? state.shared : undefined
  if (cluster) progress.say(`▶ ${workload} on ${system} (same cluster)`)
  else cluster = await startCluster(opts, workload, system, system === 'etcd' && wantV2, profDir)
  if (share) state.shared = cluster
  const ctx: RunContext = { opts, cluster, progress }
  let failed = true
  try {
    const results = await RUNNERS[workload](ctx)
    rep.results.push(...results)
    for (const r of results) progress.say(`  ${r.series}: ${Math.round(r.opsPerS)} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, errors ${r.errors}`)
    if (wantV2) {
      if (system === 'cairn') state.cairnV2 = await cluster.supportsV2()
      if (system === 'etcd' || state.cairnV2) {
        const v2 = await putV2Workload(ctx)
        rep.results.push(...v2)
        for (const r of v2) progress.say(`  ${r.series}: ${Math.round(r.opsPerS)} ops/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, errors ${r.errors}`)
      }
      else rep.skipped.push('put v2 series: Cairn answers 404 on GET /v2/keys/ (its v2 API is not served yet), so neither system ran it')
    }
    failed = false
  } finally {
    progress.end()
    saveMemberLogs(cluster, join(opts.outDir, 'logs', state.stamp), `${system}-${workload}`)
    if (!share || failed) {
      await cluster.stop()
      if (share) state.shared = undefined
    }
  }
  if (profDir) {
    const leaders = [...new Set(rep.results.filter((r) => r.workload === workload && r.system === system).map((r) => `m${r.leader + 1}`))]
    progress.say(`CPU profiles (leader during the series: ${leaders.join(', ')}):`)
    for (const f of findProfiles(profDir)) progress.say(formatProfile(summarizeProfile(f, ROOT), ROOT))
  }
}

/** `--render`: prints (and with --record writes) the report of earlier runs' JSON, merged. */
function renderRuns(files: string, record: boolean): void {
  // the first file gives machine and options
  const reps = files.split(',').map((f) => JSON.parse(readFileSync(f.trim(), 'utf8')) as RunReport)
  const rep = reps[0]!
  rep.results = reps.flatMap((r) => r.results).map(sanitize)
  rep.skipped = reps.flatMap((r) => r.skipped)
  rep.failures = reps.flatMap((r) => r.failures)
  rep.command = reps.map((r) => `\`${r.command}\` (${r.startedAt} → ${r.finishedAt})`).join(', then ')
  process.stdout.write(terminalReport(rep) + '\n')
  if (record) {
    const path = join(ROOT, 'docs/bench-results.md')
    writeFileSync(path, markdownReport(rep))
    process.stdout.write(`recorded: ${path}\n`)
  }
}

function newReport(opts: BenchOptions, etcd: string | undefined): RunReport {
  return {
    startedAt: new Date().toISOString(),
    finishedAt: '',
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memGiB: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      node: process.version,
      etcdVersion: etcd ?? 'etcd not on PATH',
      tmpFs: tmpFilesystem(),
      loadAvgAtStart: loadavg(),
    },
    options: opts,
    results: [],
    skipped: [],
    failures: [],
  }
}

/** Every workload on every system, `repeat` times; a failure is recorded and the run goes on. */
async function runPlan(opts: BenchOptions, rep: RunReport): Promise<void> {
  const state: RunState = { cairnV2: undefined, shared: undefined, stamp: rep.startedAt.replace(/[:.]/g, '-') }
  for (let round = 1; round <= opts.repeat; round++) {
    if (opts.repeat > 1) progress.say(`— repetition ${round} of ${opts.repeat}`)
    for (const workload of opts.workloads) {
      if (workload === 'ceiling') {
        if (round === 1) await ceilingWorkload(opts, progress).then((r) => rep.results.push(...r), (e: Error) => rep.failures.push(`ceiling: ${e.message}`))
        continue
      }
      for (const system of opts.systems) {
        try {
          await runOn(opts, workload, system, state, rep)
        } catch (e) {
          rep.failures.push(`${workload} on ${system}: ${(e as Error).message.slice(0, 2000)}`)
          progress.say(`  FAILED: ${(e as Error).message.slice(0, 500)}`)
        }
      }
    }
  }
  if (state.shared) await state.shared.stop()
  if (opts.repeat > 1) rep.results = medianOfRepeats(rep.results)
}

async function main(): Promise<number> {
  const parsed = parseOptions(process.argv.slice(2))
  if (parsed === 'help') {
    process.stdout.write(usage())
    return 0
  }
  if (typeof parsed === 'string') {
    process.stderr.write(`Error: ${parsed}\n`)
    return 2
  }
  if ('profileSummary' in parsed) {
    for (const f of findProfiles(parsed.profileSummary)) process.stdout.write(formatProfile(summarizeProfile(f, ROOT), ROOT) + '\n')
    return 0
  }
  if ('render' in parsed) {
    renderRuns(parsed.render, parsed.record)
    return 0
  }
  const opts = parsed
  const etcd = etcdVersion()
  const rep = newReport(opts, etcd)
  report = rep
  if (!etcd && opts.systems.includes('etcd')) {
    opts.systems = opts.systems.filter((s) => s !== 'etcd')
    rep.skipped.push('etcd: no `etcd` binary on PATH (apt-get install etcd-server); Cairn alone')
    if (opts.systems.length === 0) opts.systems = ['cairn']
  }
  const budgetS = opts.budgetS ?? estimateBudgetS(opts)
  const watchdog = setTimeout(() => {
    rep.failures.push(`time budget of ${budgetS} s exceeded; stopped`)
    abort(3)
  }, budgetS * 1000)
  progress.say(`bench: ${opts.workloads.join(', ')} on ${opts.systems.join(' and ')}, ${opts.members} member(s), budget ${budgetS} s`)
  await runPlan(opts, rep)
  clearTimeout(watchdog)
  finished = true
  saveAndPrint(rep, opts.smoke ? 'smoke' : opts.workloads.join('-'))
  killEverything()
  const errors = rep.results.reduce((a, r) => a + r.errors, 0)
  if (rep.failures.length || (opts.smoke && errors > 0)) {
    process.stderr.write(`bench: ${rep.failures.length} failure(s), ${errors} error(s)\n`)
    return 1
  }
  return 0
}

function abort(code: number): void {
  progress.end()
  killEverything()
  if (report && !finished) {
    finished = true
    try {
      saveAndPrint(report, 'partial')
    } catch (e) {
      process.stderr.write(`could not write the partial report: ${(e as Error).message}\n`)
    }
  }
  process.exit(code)
}

process.on('SIGINT', () => {
  process.stderr.write('\ninterrupted: stopping every process the benchmark started\n')
  if (report) report.failures.push('interrupted (SIGINT)')
  abort(130)
})
process.on('SIGTERM', () => {
  if (report) report.failures.push('terminated (SIGTERM)')
  abort(143)
})
process.on('exit', () => {
  if (liveChildren() > 0) killEverything()
})

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`)
    abort(1)
  },
)
