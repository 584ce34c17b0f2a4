// Runs every transcript in test/raft/testdata. REWRITE=1 regenerates the expected output in place
// (read the result before committing it: a transcript that records a bug is worse than none).

import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { runCommand } from './commands.ts'
import { formatTranscript, parseTranscript, runTranscript } from './datadriven.ts'
import { Env } from './env.ts'

const dir = new URL('../testdata/', import.meta.url)
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort()
const rewrite = process.env['REWRITE'] === '1'

describe('Raft transcripts (test/raft/testdata)', () => {
  it('finds transcript files', () => {
    expect(files.length).toBeGreaterThan(0)
  })

  for (const file of files) {
    it(`transcript ${file} replays exactly`, () => {
      const url = new URL(file, dir)
      const text = readFileSync(url, 'utf8')
      const transcript = parseTranscript(text, file)
      const env = new Env()
      const result = runTranscript(transcript, `test/raft/testdata/${file}`, (command) => runCommand(env, command))
      if (rewrite) {
        const updated = formatTranscript(transcript, result.outputs)
        if (updated !== text) writeFileSync(url, updated)
        return
      }
      if (result.mismatches.length > 0) {
        const shown = result.mismatches.slice(0, 5)
        const more = result.mismatches.length - shown.length
        expect.fail(
          `${result.mismatches.length} block(s) differ (run with REWRITE=1 to regenerate, then review):\n\n${shown.join('\n\n')}${
            more > 0 ? `\n\n… and ${more} more` : ''
          }`,
        )
      }
    })
  }
})
