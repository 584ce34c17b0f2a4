// Output: a table in the terminal, a JSON file for tools (bench/results/, gitignored) and a
// markdown summary; for every series measured on both systems, the ratio Cairn / etcd of each figure.

import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { RunReport, SeriesResult } from './types.ts'

export interface Ratio {
  workload: string
  series: string
  members: number
  figures: Record<string, number>
}

/** Figures where a ratio above 1 favours Cairn are marked in the keys: ops/s (higher is better), the rest lower is better. */
const EXTRA_RATIO_KEYS = [
  'fsyncMeanMs',
  'recoveryMsMedian',
  'newLeaderMsMedian',
  'casSucceededPerS',
  'setupMs',
  'sendToDeliveryP99Ms',
  'watchMemberRssMiB',
  'restartToHealthyMs',
  'restartToCaughtUpMs',
  'rssAfterLoadMaxMiB',
  'dbSizeMiB',
]

/** Results of older runs may carry figures that mean nothing for failover (counters reset by the kills). */
export function sanitize(r: SeriesResult): SeriesResult {
  if (r.workload !== 'failover') return r
  const extra = { ...r.extra }
  delete extra.fsyncMeanMs
  return { ...r, fsyncsPerS: Number.NaN, writesPerFsync: Number.NaN, cpuPct: [], extra }
}

export function ratios(results: SeriesResult[]): Ratio[] {
  const out: Ratio[] = []
  for (const c of results) {
    if (c.system !== 'cairn') continue
    const e = results.find((x) => x.system === 'etcd' && x.workload === c.workload && x.series === c.series && x.members === c.members)
    if (!e) continue
    const f: Record<string, number> = {
      'ops/s': div(c.opsPerS, e.opsPerS),
      p50: div(c.latencyMs.p50, e.latencyMs.p50),
      p99: div(c.latencyMs.p99, e.latencyMs.p99),
      p999: div(c.latencyMs.p999, e.latencyMs.p999),
      'rss max': div(max(c.rssMiB), max(e.rssMiB)),
      'cpu %': div(sum(c.cpuPct), sum(e.cpuPct)),
      'fsync/s': div(c.fsyncsPerS, e.fsyncsPerS),
      'writes/fsync': div(c.writesPerFsync, e.writesPerFsync),
    }
    for (const k of EXTRA_RATIO_KEYS) {
      const a = c.extra[k]
      const b = e.extra[k]
      if (a !== undefined && b !== undefined) f[k] = div(a, b)
    }
    out.push({ workload: c.workload, series: c.series, members: c.members, figures: f })
  }
  return out
}

const div = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? Math.round((a / b) * 100) / 100 : Number.NaN)
const max = (xs: number[]) => (xs.length ? Math.max(...xs.filter(Number.isFinite)) : Number.NaN)
const sum = (xs: number[]) => xs.filter(Number.isFinite).reduce((a, b) => a + b, 0)

function n(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return '–'
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
}

function ms(x: number): string {
  if (!Number.isFinite(x)) return '–'
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)
}

function highlights(r: SeriesResult): string {
  const e = r.extra
  const parts: string[] = []
  if (e.fsyncMeanMs !== undefined) parts.push(`fsync mean ${ms(e.fsyncMeanMs)} ms`)
  if (e.leaderChanges !== undefined) parts.push(`LEADER CHANGES ${n(e.leaderChanges)}`)
  if (e.loadRetries !== undefined) parts.push(`txns retried ${n(e.loadRetries)}`)
  if (e.recoveryMsMedian !== undefined) parts.push(`recovery median ${n(e.recoveryMsMedian)} ms (min ${n(e.recoveryMsMin)}, max ${n(e.recoveryMsMax)}), new leader ${n(e.newLeaderMsMedian)} ms`)
  if (e.casSuccessRatio !== undefined) parts.push(`CAS ok ${n(e.casSucceededPerS)}/s (${n(e.casSuccessRatio * 100, 1)} %)`)
  if (e.sendToDeliveryP99Ms !== undefined) parts.push(`put→delivery p50 ${ms(e.sendToDeliveryP50Ms ?? Number.NaN)} p99 ${ms(e.sendToDeliveryP99Ms)} ms, setup ${n(e.setupMs)} ms, lost ${n(e.lostEvents)}`)
  if (e.restartToHealthyMs !== undefined) parts.push(`restart→healthy ${n(e.restartToHealthyMs)} ms, →caught up ${n(e.restartToCaughtUpMs)} ms`)
  if (e.rssAfterLoadMaxMiB !== undefined) parts.push(`RSS after load ${n(e.rssAfterLoadMaxMiB)} MiB, db ${n(e.dbSizeMiB, 1)} MiB`)
  if (r.kinds) parts.push(Object.entries(r.kinds).map(([k, v]) => `${k} ${n(v.opsPerS)}/s p99 ${ms(v.latencyMs.p99)}`).join(', '))
  return parts.join('; ')
}

const HEAD = ['workload', 'series', 'system', 'ops/s', 'p50 ms', 'p99 ms', 'p999 ms', 'errors', 'RSS MiB/member', 'CPU %/member', 'fsync/s', 'writes/fsync', 'loadgen ELU', 'notes']

function row(r: SeriesResult): string[] {
  return [
    r.workload,
    r.series,
    r.system,
    n(r.opsPerS),
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p99),
    ms(r.latencyMs.p999),
    n(r.errors),
    r.rssMiB.map((x) => n(x)).join('/') || '–',
    r.cpuPct.map((x) => n(x)).join('/') || '–',
    n(r.fsyncsPerS),
    n(r.writesPerFsync, 1),
    n(r.loadgen.eventLoopUtilization, 2),
    highlights(r),
  ]
}

const RATIO_HEAD = ['workload', 'series', 'ops/s ×', 'p50 ×', 'p99 ×', 'p999 ×', 'RSS ×', 'CPU ×', 'fsync/s ×', 'writes/fsync ×', 'other ×']

function ratioRow(q: Ratio): string[] {
  const f = q.figures
  const other = Object.entries(f)
    .filter(([k]) => EXTRA_RATIO_KEYS.includes(k))
    .map(([k, v]) => `${k} ${n(v, 2)}`)
    .join(', ')
  return [q.workload, q.series, n(f['ops/s'], 2), n(f.p50, 2), n(f.p99, 2), n(f.p999, 2), n(f['rss max'], 2), n(f['cpu %'], 2), n(f['fsync/s'], 2), n(f['writes/fsync'], 2), other]
}

function textTable(head: string[], rows: string[][]): string {
  const lastWide = head.length - 1 // the notes column is left unpadded
  const widths = head.map((h, i) => (i === lastWide ? 0 : Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length))))
  const line = (cells: string[]) => cells.map((c, i) => (i === lastWide ? c : c.padEnd(widths[i]!))).join('  ')
  return [line(head), line(head.map((_, i) => '-'.repeat(i === lastWide ? 5 : widths[i]!))), ...rows.map(line)].join('\n')
}

function mdTable(head: string[], rows: string[][]): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|')
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n')
}

export function terminalReport(rep: RunReport): string {
  const parts = ['', textTable(HEAD, rep.results.map(row))]
  const q = ratios(rep.results)
  if (q.length) parts.push('', 'Cairn / etcd (ops/s: above 1 favours Cairn; latency, RSS, CPU, times: below 1 favours Cairn)', textTable(RATIO_HEAD, q.map(ratioRow)))
  for (const s of rep.skipped) parts.push(`skipped: ${s}`)
  for (const f of rep.failures) parts.push(`FAILED: ${f}`)
  const errs = rep.results.filter((r) => r.errors > 0)
  for (const r of errs) parts.push(`errors in ${r.workload} ${r.series} (${r.system}): ${JSON.stringify(r.errorCounts)} e.g. ${r.errorSamples.slice(0, 2).join(' | ')}`)
  return parts.join('\n')
}

export function markdownReport(rep: RunReport): string {
  const m = rep.machine
  const lines = [
    `# Benchmark results: Cairn and etcd`,
    '',
    rep.command.startsWith('`') ? `Runs: ${rep.command}.` : `Run ${rep.startedAt} → ${rep.finishedAt} with \`${rep.command}\`.`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, ${m.memGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}, ${m.etcdVersion}; data dirs under ${m.tmpFs}; load average at start ${m.loadAvgAtStart.map((x) => x.toFixed(2)).join(' ')}.`,
    'Both systems ran one after the other on the same machine, with the same heartbeat/election settings and fsync on; the load generator (bench/, worker threads, keep-alive HTTP/1.1) ran on the same cores. `machine busy cores` in the JSON counts all processes, including ones outside the benchmark.',
  ]
  const busy = rep.results.map((r) => r.machineBusyCores).filter(Number.isFinite)
  if (busy.length) lines.push('', `Whole-machine busy cores during the measurement windows (all processes, benchmark included): ${Math.min(...busy).toFixed(2)}–${Math.max(...busy).toFixed(2)} of ${m.cpus}.`)
  if (rep.options.note) lines.push('', `Note: ${rep.options.note}`)
  lines.push('', '## Figures', '', mdTable(HEAD, rep.results.map(row)))
  const q = ratios(rep.results)
  if (q.length) {
    lines.push('', '## Cairn / etcd', '', 'ops/s: above 1 favours Cairn. Latency, RSS, CPU, times: below 1 favours Cairn.', '', mdTable(RATIO_HEAD, q.map(ratioRow)))
  }
  if (rep.skipped.length) lines.push('', '## Skipped', '', ...rep.skipped.map((s) => `- ${s}`))
  if (rep.failures.length) lines.push('', '## Failures', '', ...rep.failures.map((s) => `- ${s}`))
  const notes = rep.results.flatMap((r) => r.notes.map((x) => `- ${r.workload} ${r.series} (${r.system}): ${x}`))
  if (notes.length) lines.push('', '## Notes', '', ...notes)
  return lines.join('\n') + '\n'
}

export function writeReports(rep: RunReport, outDir: string, label: string): { json: string; md: string } {
  mkdirSync(outDir, { recursive: true })
  const stamp = rep.startedAt.replace(/[:.]/g, '-')
  const json = join(outDir, `${stamp}-${label}.json`)
  const md = join(outDir, `${stamp}-${label}.md`)
  writeFileSync(json, JSON.stringify({ ...rep, ratios: ratios(rep.results) }, null, 2))
  writeFileSync(md, markdownReport(rep))
  return { json, md }
}

/** The figure a repetition is ranked by: the workload's headline. */
function headline(r: SeriesResult): number {
  if (r.workload === 'failover') return r.extra.recoveryMsMedian ?? Number.NaN
  if (r.workload === 'watch') return r.latencyMs.p99
  if (r.series.startsWith('restart')) return r.extra.restartToHealthyMs ?? Number.NaN
  if (r.series.startsWith('count')) return r.latencyMs.p50
  return r.opsPerS
}

/** Keeps, for each (workload, series, system, members), the repetition with the median headline figure. */
export function medianOfRepeats(results: SeriesResult[]): SeriesResult[] {
  const groups = new Map<string, SeriesResult[]>()
  for (const r of results) {
    const k = `${r.workload}|${r.series}|${r.system}|${r.members}`
    const g = groups.get(k)
    if (g) g.push(r)
    else groups.set(k, [r])
  }
  const out: SeriesResult[] = []
  for (const g of groups.values()) {
    if (g.length === 1) {
      out.push(g[0]!)
      continue
    }
    const sorted = [...g].sort((a, b) => headline(a) - headline(b))
    const pick = sorted[Math.floor((sorted.length - 1) / 2)]!
    pick.notes.push(`median of ${g.length} runs by ${pick.workload === 'failover' ? 'recovery ms' : pick.workload === 'watch' ? 'p99' : 'headline figure'}; all: ${g.map((x) => n(headline(x), 1)).join(', ')}`)
    pick.errors = g.reduce((a, x) => a + x.errors, 0)
    out.push(pick)
  }
  return out
}
