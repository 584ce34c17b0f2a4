// Lint: the Raft core must stay pure (no Node imports, no clock, no timers, no ambient randomness),
// and layers may only point down (nothing in core/ imports recipes/ or agents/).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('..', import.meta.url).pathname

function walk(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...walk(path))
    else if (name.endsWith('.ts')) out.push(path)
  }
  return out
}

const problems: string[] = []
const forbiddenInRaft: Array<[RegExp, string]> = [
  [/from\s+['"]node:/, 'imports a Node module'],
  [/from\s+['"](fs|path|os|crypto|events|timers|util|buffer|child_process|net|http)['"]/, 'imports a Node module'],
  [/\brequire\s*\(/, 'uses require()'],
  [/\bDate\b/, 'uses Date'],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b/, 'uses a timer'],
  [/\bMath\.random\b/, 'uses Math.random'],
  [/\bprocess\./, 'uses process'],
  [/\bperformance\./, 'uses performance'],
  [/\bBuffer\b/, 'uses Buffer'],
]

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1')
}

for (const file of walk(join(root, 'core/raft'))) {
  if (file.endsWith('.test.ts')) continue
  const src = stripComments(readFileSync(file, 'utf8'))
  for (const [re, what] of forbiddenInRaft) {
    if (re.test(src)) problems.push(`${relative(root, file)}: ${what}`)
  }
  for (const m of src.matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
    const target = join(file, '..', m[1]!)
    if (!target.startsWith(join(root, 'core/raft'))) problems.push(`${relative(root, file)}: imports outside core/raft (${m[1]})`)
  }
}

for (const file of walk(join(root, 'core'))) {
  const src = stripComments(readFileSync(file, 'utf8'))
  for (const m of src.matchAll(/from\s+['"](\.[^'"]+)['"]/g)) {
    const target = relative(root, join(file, '..', m[1]!))
    if (target.startsWith('recipes') || target.startsWith('agents')) {
      problems.push(`${relative(root, file)}: core imports from ${target} (layers point down only)`)
    }
  }
}

if (problems.length > 0) {
  for (const p of problems) console.error(p)
  console.error(`check-purity: ${problems.length} problem(s)`)
  process.exit(1)
}
console.log('check-purity: ok')
