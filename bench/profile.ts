// Summary of V8 CPU profiles (.cpuprofile, from node --cpu-prof): self time by function and by
// file, so the hot spots of a run can be read in the terminal without a profiler UI.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

interface CpuProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface CpuProfile {
  nodes: CpuProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  file: string
  totalMs: number
  idleMs: number
  functions: { name: string; selfMs: number; pct: number }[]
  files: { name: string; selfMs: number; pct: number }[]
  /** Inclusive (self + callees) time of Cairn's own functions (core/…). */
  cairnInclusive: { name: string; selfMs: number; pct: number }[]
}

const TOP_FUNCTIONS = 25
const TOP_FILES = 15

function shortUrl(url: string, root: string): string {
  if (!url) return '(native)'
  const path = url.startsWith('file://') ? new URL(url).pathname : url
  if (path.startsWith(root)) return relative(root, path)
  return path
}

/** function file[:line]; tsx's transpiled modules report line 0 for everything, so no line then. */
function frameName(n: CpuProfileNode, root: string): string {
  const line = n.callFrame.lineNumber > 0 ? `:${n.callFrame.lineNumber + 1}` : ''
  return `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url, root)}${line}`
}

export function summarizeProfile(file: string, root: string): ProfileSummary {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, CpuProfileNode>()
  for (const n of p.nodes) byId.set(n.id, n)
  const selfUs = new Map<number, number>()
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i]!
    selfUs.set(id, (selfUs.get(id) ?? 0) + (p.timeDeltas[i] ?? 0))
  }
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const inclusive = new Map<string, number>()
  for (const [id, us] of selfUs) {
    const seen = new Set<string>()
    // bounded by the tree's depth (every node has one parent, the root none)
    for (let cur: number | undefined = id, depth = 0; cur !== undefined && depth < 10_000; cur = parent.get(cur), depth++) {
      const n = byId.get(cur)
      if (!n || !n.callFrame.url.includes('/core/')) continue
      const key = frameName(n, root)
      if (seen.has(key)) continue
      seen.add(key)
      inclusive.set(key, (inclusive.get(key) ?? 0) + us)
    }
  }
  const fn = new Map<string, number>()
  const files = new Map<string, number>()
  let idleUs = 0
  let totalUs = 0
  for (const [id, us] of selfUs) {
    const n = byId.get(id)
    if (!n) continue
    totalUs += us
    const name = n.callFrame.functionName || '(anonymous)'
    if (name === '(idle)') {
      idleUs += us
      continue
    }
    const url = shortUrl(n.callFrame.url, root)
    const key = n.callFrame.url ? frameName(n, root) : name
    fn.set(key, (fn.get(key) ?? 0) + us)
    const fileKey = n.callFrame.url ? url.replace(/node_modules\/(@[^/]+\/[^/]+|[^/]+)\/.*/, 'node_modules/$1') : name
    files.set(fileKey, (files.get(fileKey) ?? 0) + us)
  }
  const busyUs = Math.max(1, totalUs - idleUs)
  const top = (m: Map<string, number>, k: number) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, k)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, pct: Math.round((us / busyUs) * 1000) / 10 }))
  return {
    file,
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    functions: top(fn, TOP_FUNCTIONS),
    files: top(files, TOP_FILES),
    cairnInclusive: top(inclusive, TOP_FILES),
  }
}

/** Main-thread profiles only: node names them CPU.<date>.<time>.<pid>.<thread>.<seq>; thread 0 is the main one (others are tsx's loader thread). */
export function isMainThreadProfile(path: string): boolean {
  const m = /CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(path)
  return m === null || m[1] === '0'
}

export function findProfiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string, depth: number) => {
    if (depth > 4) return
    for (const e of readdirSync(d)) {
      const p = join(d, e)
      if (statSync(p).isDirectory()) walk(p, depth + 1)
      else if (e.endsWith('.cpuprofile') && isMainThreadProfile(p)) out.push(p)
    }
  }
  walk(dir, 0)
  return out.sort()
}

export function formatProfile(s: ProfileSummary, root: string): string {
  const busy = s.totalMs - s.idleMs
  const lines = [
    `${relative(root, s.file)}: ${s.totalMs} ms sampled, ${busy} ms busy (${Math.round((busy / Math.max(1, s.totalMs)) * 100)} %), idle ${s.idleMs} ms`,
    '  self time by function (% of busy):',
    ...s.functions.map((f) => `    ${f.pct.toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(8)} ms  ${f.name}`),
    '  self time by file:',
    ...s.files.map((f) => `    ${f.pct.toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(8)} ms  ${f.name}`),
    "  inclusive time of Cairn's functions (core/…):",
    ...s.cairnInclusive.map((f) => `    ${f.pct.toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(8)} ms  ${f.name}`),
  ]
  return lines.join('\n')
}
