// Transcript files: commands, each followed by the output it is expected to produce.
//
//   # a comment (kept on rewrite)
//   > campaign 1
//   > stabilize
//     ready 1 (must-sync)
//       hard-state term=2 vote=1 commit=1
//
// A line starting with "> " is a command. The lines right after it that start with two spaces are
// its expected output (none means "no output"). Blank lines and "#" comments separate blocks and are
// preserved verbatim when the file is rewritten. Anything else is a syntax error.

export interface Block {
  /** Blank and comment lines that precede the command. */
  prelude: string[]
  command: string
  /** 1-based line of the command in the file. */
  line: number
  expected: string[]
}

export interface Transcript {
  blocks: Block[]
  /** Blank and comment lines after the last command. */
  trailer: string[]
}

export const OUTPUT_INDENT = '  '

export function parseTranscript(text: string, name = 'transcript'): Transcript {
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  const blocks: Block[] = []
  let prelude: string[] = []
  let current: Block | undefined
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line.startsWith('> ')) {
      current = { prelude, command: line.slice(2).trim(), line: i + 1, expected: [] }
      blocks.push(current)
      prelude = []
    } else if (line.startsWith(OUTPUT_INDENT) && line.trim() !== '' && current !== undefined) {
      current.expected.push(line.slice(OUTPUT_INDENT.length))
    } else if (line.trim() === '' || line.startsWith('#')) {
      // Output ends at the first blank or comment line.
      prelude.push(line)
      current = undefined
    } else {
      throw new SyntaxError(`${name}:${i + 1}: expected "> command", "# comment", an indented output line or a blank line; got ${JSON.stringify(line)}`)
    }
  }
  return { blocks, trailer: prelude }
}

export function formatTranscript(t: Transcript, outputs: readonly string[][]): string {
  const out: string[] = []
  t.blocks.forEach((b, i) => {
    out.push(...b.prelude, `> ${b.command}`)
    for (const line of outputs[i] ?? []) {
      if (line.trim() === '') throw new Error(`output of "${b.command}" contains a blank line, which would end the block`)
      out.push(OUTPUT_INDENT + line)
    }
  })
  out.push(...t.trailer)
  return out.join('\n') + '\n'
}

/** A minimal line diff (longest common subsequence): "-" expected only, "+" actual only, " " both. */
export function diffLines(expected: readonly string[], actual: readonly string[]): string[] {
  const n = expected.length
  const m = actual.length
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0))
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = expected[i] === actual[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
    }
  }
  const out: string[] = []
  let i = 0
  let j = 0
  while (i < n || j < m) {
    if (i < n && j < m && expected[i] === actual[j]) {
      out.push(`  ${expected[i]}`)
      i++
      j++
    } else if (j < m && (i === n || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      out.push(`+ ${actual[j]}`)
      j++
    } else {
      out.push(`- ${expected[i]}`)
      i++
    }
  }
  return out
}

export interface RunResult {
  outputs: string[][]
  /** One readable report per block whose output differs from the expected one. */
  mismatches: string[]
}

/** Runs every command through `handle` (which returns the output lines) and compares. */
export function runTranscript(t: Transcript, name: string, handle: (command: string) => string[]): RunResult {
  const outputs: string[][] = []
  const mismatches: string[] = []
  for (const block of t.blocks) {
    const actual = handle(block.command)
    outputs.push(actual)
    if (actual.length !== block.expected.length || actual.some((l, k) => l !== block.expected[k])) {
      const diff = diffLines(block.expected, actual)
      mismatches.push([`${name}:${block.line}: > ${block.command}`, '  (- expected, + actual)', ...diff.map((l) => `  ${l}`)].join('\n'))
    }
  }
  return { outputs, mismatches }
}
