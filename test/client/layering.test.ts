// core/client talks HTTP: it may import core/errors.ts and types from core/mvcc, never the member or
// its front door (DESIGN.md, "Layers").

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../..', import.meta.url).pathname

function importsOf(dir: string): Array<{ file: string; spec: string; typeOnly: boolean }> {
  const out: Array<{ file: string; spec: string; typeOnly: boolean }> = []
  for (const name of readdirSync(join(ROOT, dir))) {
    if (!name.endsWith('.ts')) continue
    const text = readFileSync(join(ROOT, dir, name), 'utf8')
    for (const m of text.matchAll(/^(?:import|export)(\s+type)?[^'"]*from\s+'([^']+)'/gm)) {
      out.push({ file: `${dir}/${name}`, spec: m[2]!, typeOnly: m[1] !== undefined })
    }
  }
  return out
}

describe('core/client layering', () => {
  it('imports neither core/server nor core/api, and only types from core/mvcc', () => {
    const bad = importsOf('core/client').filter(
      (i) => /\/(server|api|raft|storage)\//.test(i.spec) || (i.spec.includes('/mvcc/') && !i.typeOnly),
    )
    expect(bad).toEqual([])
  })

  it('the CLI verbs reach the store only through core/client', () => {
    const bad = importsOf('core/cli/ctl').filter((i) => /\/(server|api|raft|storage|mvcc)\//.test(i.spec))
    expect(bad).toEqual([])
  })
})
