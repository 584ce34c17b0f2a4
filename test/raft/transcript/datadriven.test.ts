import { describe, expect, it } from 'vitest'
import { parseCommand, parseIdList, runCommand } from './commands.ts'
import { diffLines, formatTranscript, parseTranscript, runTranscript } from './datadriven.ts'
import { Env } from './env.ts'

const sample = ['# a comment', '> first 1', '  out a', '  out b', '', '# between', '> second', '', '> third x=1', '  only', '# trailer', ''].join('\n')

describe('parseTranscript() / formatTranscript()', () => {
  it('parseTranscript() reads commands, their expected output, and keeps comments and blank lines as preludes', () => {
    const t = parseTranscript(sample)
    expect(t.blocks.map((b) => [b.command, b.line, b.expected, b.prelude])).toEqual([
      ['first 1', 2, ['out a', 'out b'], ['# a comment']],
      ['second', 7, [], ['', '# between']],
      ['third x=1', 9, ['only'], ['']],
    ])
    expect(t.trailer).toEqual(['# trailer'])
  })

  it('formatTranscript() with the expected outputs reproduces the file byte for byte', () => {
    const t = parseTranscript(sample)
    expect(formatTranscript(t, t.blocks.map((b) => b.expected))).toBe(sample)
  })

  it('formatTranscript() replaces outputs and keeps everything else (what REWRITE=1 does)', () => {
    const t = parseTranscript(sample)
    const out = formatTranscript(t, [['new'], ['added'], []])
    expect(out).toBe(['# a comment', '> first 1', '  new', '', '# between', '> second', '  added', '', '> third x=1', '# trailer', ''].join('\n'))
  })

  it('formatTranscript() refuses an output line that would be read back as a blank line', () => {
    const t = parseTranscript('> a\n')
    expect(() => formatTranscript(t, [['ok', '  ']])).toThrow(/blank line/)
  })

  it('parseTranscript() rejects stray text, and output that does not follow a command, with the line number', () => {
    expect(() => parseTranscript('> a\nstray\n', 'f.txt')).toThrow(/f\.txt:2/)
    expect(() => parseTranscript('> a\n\n  orphan output\n', 'f.txt')).toThrow(/f\.txt:3/)
  })
})

describe('runTranscript()', () => {
  it('reports each differing block with its file position, command and a -/+ diff', () => {
    const t = parseTranscript('> echo a\n  a\n\n> echo b\n  b\n  c\n')
    const result = runTranscript(t, 'x.txt', (cmd) => [cmd.split(' ')[1]!])
    expect(result.outputs).toEqual([['a'], ['b']])
    expect(result.mismatches).toHaveLength(1)
    expect(result.mismatches[0]).toContain('x.txt:4: > echo b')
    expect(result.mismatches[0]).toContain('- c')
  })
})

describe('diffLines()', () => {
  it('marks lines only expected with -, only actual with +, shared with two spaces', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual(['  a', '+ x', '- b', '  c', '+ d'])
    expect(diffLines([], [])).toEqual([])
  })
})

describe('transcript commands', () => {
  it('parseCommand() splits positional and key=value arguments', () => {
    expect(parseCommand('add-nodes 3 voters=(1,2,3) pre-vote=false')).toEqual({
      name: 'add-nodes',
      positional: ['3'],
      keyed: new Map([
        ['voters', '(1,2,3)'],
        ['pre-vote', 'false'],
      ]),
    })
    expect(parseIdList('(4,5)')).toEqual([4, 5])
    expect(parseIdList('()')).toEqual([])
  })

  it('runCommand() turns errors into an "error:" output line, including unknown commands and arguments', () => {
    const env = new Env()
    expect(runCommand(env, 'frobnicate 1')).toEqual(['error: SyntaxError: unknown command frobnicate'])
    expect(runCommand(env, 'add-nodes 3 colour=blue')).toEqual(['error: SyntaxError: add-nodes: unknown argument colour'])
    expect(runCommand(env, 'campaign 9')).toEqual(['error: Error: no node 9'])
  })

  it('quiet keeps only the error lines of a command', () => {
    const env = new Env()
    expect(runCommand(env, 'quiet add-nodes 3')).toEqual([])
    expect(runCommand(env, 'quiet propose 1 x')).toEqual(['error: ProposalDropped'])
  })

  it('a transcript is deterministic: the same commands give the same output twice', () => {
    const script = ['add-nodes 3', 'campaign 1', 'stabilize', 'propose 2 x', 'isolate 3', 'tick-election 3', 'stabilize', 'heal', 'stabilize', 'raft-state']
    const run = () => {
      const env = new Env()
      return script.flatMap((c) => runCommand(env, c))
    }
    expect(run()).toEqual(run())
  })
})
