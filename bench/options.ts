// Command-line options of `npm run bench`, with the smoke and full presets and the time budget
// that bounds a run.

import { parseArgs } from 'node:util'
import { join } from 'node:path'
import type { SystemName } from './cluster.ts'
import { ROOT } from './cluster.ts'
import { WORKLOADS } from './types.ts'
import type { BenchOptions, WorkloadName } from './types.ts'

export function usage(): string {
  return `Usage: npm run bench -- [options]

  --workload W[,W…]   ${WORKLOADS.join(', ')}, or all (default put)
  --system S          cairn, etcd or both (default both; etcd only when \`etcd\` is on PATH)
  --members N         cluster size: 1, 3 or 5 (default 3)
  --clients N[,N…]    concurrent clients (default per workload: 64; put --full: 1,16,64,256)
  --duration S        measured seconds per series (default 10)
  --warmup S          unmeasured seconds before each series (default 1)
  --threads N         load-generator worker threads (default 1)
  --watchers N[,N…]   watch series (default 1,100,10000; smoke 1,100,1000)
  --rounds N          failover rounds, median reported (default 3; --full 5)
  --keys N            scale: keys loaded (default 50000; --full 1000000)
  --key-space N       put: distinct keys (default 100000)
  --value-bytes N     value size (default 256)
  --heartbeat MS      --heartbeat-interval for both systems (default 100)
  --election MS       --election-timeout for both systems (default 1000)
  --snapshot-count N  for both systems (default 10000)
  --timeout MS        per-request timeout of the load generator (default 10000)
  --repeat N          run each workload N times alternating systems; report the median run (default 1)
  --smoke             every workload but ceiling against Cairn alone, short; exit 1 on any error
  --full              the full comparison sizes (put 1,16,64,256 clients; 5 failover rounds; 1M keys)
  --no-v2             skip the put workload's v2 series
  --cpu-prof          write V8 CPU profiles of Cairn's members and print their hot spots
  --profile-summary D print the hot spots of the .cpuprofile files under D and exit
  --record            also write docs/bench-results.md (overwrites it)
  --render FILE.json  print the tables of an earlier run's JSON (with --record: into docs/bench-results.md) and exit
  --note TEXT         a note for the markdown summary (machine conditions …)
  --out DIR           where results go (default bench/results)
  --budget S          whole run's time bound (default: estimated from the plan)
`
}

const list = (s: string | undefined): number[] | undefined =>
  s === undefined ? undefined : s.split(',').map((x) => Number(x.trim()))

function positive(name: string, v: number | undefined): string | undefined {
  if (v === undefined) return undefined
  return Number.isFinite(v) && v > 0 ? undefined : `--${name} must be a positive number, got ${v}`
}

const ARGS = {
  workload: { type: 'string' },
  system: { type: 'string' },
  members: { type: 'string' },
  clients: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  threads: { type: 'string' },
  watchers: { type: 'string' },
  rounds: { type: 'string' },
  keys: { type: 'string' },
  'key-space': { type: 'string' },
  'value-bytes': { type: 'string' },
  heartbeat: { type: 'string' },
  election: { type: 'string' },
  'snapshot-count': { type: 'string' },
  timeout: { type: 'string' },
  smoke: { type: 'boolean' },
  repeat: { type: 'string' },
  full: { type: 'boolean' },
  'cpu-prof': { type: 'boolean' },
  'profile-summary': { type: 'string' },
  render: { type: 'string' },
  record: { type: 'boolean' },
  'no-v2': { type: 'boolean' },
  note: { type: 'string' },
  out: { type: 'string' },
  budget: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

type Parsed = BenchOptions | { profileSummary: string } | { render: string; record: boolean } | 'help' | string

export function parseOptions(argv: string[]): Parsed {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: ARGS, strict: true, allowPositionals: false })
  } catch (e) {
    return `${(e as Error).message}\n${usage()}`
  }
  const v = parsed.values
  if (v.help) return 'help'
  if (v['profile-summary']) return { profileSummary: v['profile-summary'] }
  if (v.render) return { render: v.render, record: v.record === true }
  const smoke = v.smoke === true
  const full = v.full === true
  const wl = (v.workload ?? (smoke ? 'all' : 'put')).split(',').map((x) => x.trim())
  const workloads: WorkloadName[] = wl.includes('all') ? WORKLOADS.filter((w) => w !== 'ceiling') : (wl as WorkloadName[])
  const unknown = workloads.find((w) => !(WORKLOADS as readonly string[]).includes(w))
  if (unknown) return `unknown workload ${JSON.stringify(unknown)}; expected ${WORKLOADS.join(', ')} or all`
  const sys = v.system ?? (smoke ? 'cairn' : 'both')
  if (!['cairn', 'etcd', 'both'].includes(sys)) return `--system must be cairn, etcd or both, got ${JSON.stringify(sys)}`
  const members = v.members === undefined ? 3 : Number(v.members)
  if (![1, 3, 5].includes(members)) return `--members must be 1, 3 or 5, got ${v.members}`
  const clients = list(v.clients)
  const watchers = list(v.watchers)
  for (const [name, xs] of [['clients', clients], ['watchers', watchers]] as const) {
    if (xs && xs.some((x) => !Number.isInteger(x) || x <= 0 || x > 100_000)) return `--${name} must be positive integers (at most 100000), got ${xs.join(',')}`
  }
  const x = numbers(v)
  if (typeof x === 'string') return x
  return {
    workloads,
    systems: sys === 'both' ? ['cairn', 'etcd'] : [sys as SystemName],
    members,
    clients,
    durationS: x.duration ?? (smoke ? 4 : 10),
    warmupS: x.warmup ?? (smoke ? 0.5 : 1),
    threads: Math.floor(x.threads ?? 1),
    heartbeatMs: x.heartbeat ?? 100,
    electionMs: x.election ?? 1000,
    snapshotCount: x['snapshot-count'] ?? 10_000,
    timeoutMs: x.timeout ?? 10_000,
    watchers,
    failoverRounds: x.rounds ?? (full ? 5 : 3),
    scaleKeys: x.keys ?? (full ? 1_000_000 : 50_000),
    keySpace: x['key-space'] ?? 100_000,
    valueBytes: x['value-bytes'] ?? 256,
    smoke,
    repeat: Math.floor(x.repeat ?? 1),
    full,
    cpuProf: v['cpu-prof'] === true,
    v2: v['no-v2'] !== true,
    record: v.record === true,
    note: v.note ?? '',
    outDir: v.out ?? join(ROOT, 'bench/results'),
    budgetS: x.budget,
  }
}

const NUMERIC = ['duration', 'warmup', 'threads', 'rounds', 'keys', 'key-space', 'value-bytes', 'heartbeat', 'election', 'snapshot-count', 'timeout', 'budget', 'repeat'] as const
type Numeric = (typeof NUMERIC)[number]

/** The numeric options, each positive (a warm-up may be 0); an error message otherwise. */
function numbers(v: Partial<Record<string, string | boolean>>): Partial<Record<Numeric, number>> | string {
  const out: Partial<Record<Numeric, number>> = {}
  for (const k of NUMERIC) {
    const raw = v[k]
    if (typeof raw !== 'string') continue
    const n = Number(raw)
    const err = k === 'warmup' && n === 0 ? undefined : positive(k, n)
    if (err) return err
    out[k] = n
  }
  return out
}

const CLUSTER_START_S = 40 // worst case, with a retry
const SERIES_OVERHEAD_S = 8

/** A generous upper bound of the run's duration: the watchdog stops the run past it. */
export function estimateBudgetS(o: BenchOptions): number {
  const series = o.warmupS + o.durationS + SERIES_OVERHEAD_S
  const clientSets = o.clients?.length ?? (o.full ? 4 : 1)
  const per: Record<WorkloadName, number> = {
    put: clientSets * series + (o.smoke ? 0 : 2 * series),
    range: 2 * clientSets * series + 10,
    txn: clientSets * series,
    lease: clientSets * series + 30,
    watch: (o.watchers?.length ?? 3) * (series + 90),
    failover: (o.smoke ? 1 : o.failoverRounds) * 75,
    scale: (o.smoke ? 5000 : o.scaleKeys) / 1000 + 3 * series + 150,
    ceiling: (o.clients?.length ?? 2) * series + 20,
  }
  let total = 0
  for (const w of o.workloads) total += (w === 'ceiling' ? 1 : o.systems.length) * (per[w] + CLUSTER_START_S)
  return Math.ceil(30 + total * o.repeat)
}
