// Per-process figures from /proc (Linux): resident memory and CPU time. Absent on other systems,
// where the readers answer NaN rather than failing the run.

import { readFileSync } from 'node:fs'

const CLOCK_TICKS_PER_SECOND = 100 // USER_HZ; 100 on every Linux the bench targets

/** Resident set size in MiB, NaN if the process is gone or /proc is absent. */
export function rssMiB(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const m = /\nVmRSS:\s+(\d+) kB/.exec(status)
    return m ? Number(m[1]) / 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** User + system CPU seconds consumed so far, NaN if unreadable. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // after "pid (comm) ", field 3 (state) is index 0; utime is field 14 → index 11, stime index 12
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND
  } catch {
    return Number.NaN
  }
}

/** Total CPU seconds of the whole machine (all processes) and the core count, for context. */
export function machineCpuSeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'latin1').split('\n')[0] ?? ''
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = (f[3] ?? 0) + (f[4] ?? 0)
    const total = f.reduce((a, b) => a + b, 0)
    return (total - idle) / CLOCK_TICKS_PER_SECOND
  } catch {
    return Number.NaN
  }
}

/** Parses the Prometheus text format into name{labels} → value (unlabelled names as is). */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const sp = line.lastIndexOf(' ')
    if (sp <= 0) continue
    const v = Number(line.slice(sp + 1))
    if (Number.isFinite(v)) out.set(line.slice(0, sp), v)
  }
  return out
}
