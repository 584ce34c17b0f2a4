// Bad input to `cairn scheduler`, `cairn agent` and `cairn work`: exit 1 with one `Error: …` line,
// before anything talks to a store (none runs here).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cairn } from '../cli/run.ts'

const dir = mkdtempSync(join(tmpdir(), 'cairn-workcli-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('work commands refuse bad input with one line', () => {
  it('each case exits 1 with its message', async () => {
    const badSpec = join(dir, 'bad.json')
    writeFileSync(badSpec, '{"name": "web", "command": ["x"], "replicas": "3"}')
    const notJson = join(dir, 'not.json')
    writeFileSync(notJson, 'name: web\n')
    const cases: Array<[string[], string]> = [
      [['agent'], 'Error: --machine-id: required (or CAIRN_AGENT_MACHINE_ID)'],
      [['agent', '--machine-id', 'm1', '--labels', 'zone'], 'Error: --labels: expected key=value pairs separated by commas, got "zone"'],
      [['agent', '--machine-id', 'm1', '--log-dir', join(badSpec, 'logs')], `Error: --log-dir: cannot write ${join(badSpec, 'logs')} (ENOTDIR)`],
      [['scheduler', '--machine-grace', '5'], 'Error: --machine-grace: missing unit in duration "5" (e.g. 30s, 1h)'],
      [['work', 'submit', badSpec], 'Error: replicas: expected a whole number in [0, 1000], got "3"'],
      [['work', 'submit', notJson], /^Error: job spec: not valid JSON \(.*\)$/.source],
      [['work', 'submit', join(dir, 'missing.json')], `Error: cannot read ${join(dir, 'missing.json')}: ENOENT`],
      [['work', 'submit', '--name', 'web'], 'Error: expected the command after --, e.g. cairn work submit --name web -- python3 -m http.server'],
      [['work', 'submit', '--name', 'web', '--restart', 'sometimes', '--', 'sleep', '1'], 'Error: restart: expected one of always, on-failure, never, got "sometimes"'],
    ]
    const results = await Promise.all(cases.map(([args]) => cairn(args, { endpoints: 'http://127.0.0.1:1' })))
    for (let i = 0; i < cases.length; i++) {
      const [args, expected] = cases[i]!
      const r = results[i]!
      expect(r.code, args.join(' ')).toBe(1)
      const lines = r.stderr.trimEnd().split('\n')
      expect(lines, args.join(' ')).toHaveLength(1)
      if (expected.startsWith('^')) expect(lines[0]).toMatch(new RegExp(expected))
      else expect(lines[0]).toBe(expected)
    }
  }, 60_000)
})
