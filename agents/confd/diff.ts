// A line diff of the old and new file, for --noop and for the log of what a render changed: lines
// removed ("-") and added ("+"), from a longest common subsequence, bounded in size.

/** Above this many lines on either side the diff only reports counts (the LCS table is quadratic). */
export const DIFF_LINES_MAX = 2000

export interface LineDiff {
  added: number
  removed: number
  /** Unified-style lines ("-old", "+new", "  same" context omitted); empty when too large. */
  lines: string[]
}

function splitLines(s: string): string[] {
  if (s === '') return []
  const lines = s.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

export function lineDiff(before: string, after: string): LineDiff {
  const a = splitLines(before)
  const b = splitLines(after)
  if (a.length > DIFF_LINES_MAX || b.length > DIFF_LINES_MAX) {
    const setA = new Set(a)
    const setB = new Set(b)
    return { added: b.filter((l) => !setA.has(l)).length, removed: a.filter((l) => !setB.has(l)).length, lines: [] }
  }
  // lcs[i][j] = LCS length of a[i:] and b[j:]
  const lcs: Uint16Array[] = Array.from({ length: a.length + 1 }, () => new Uint16Array(b.length + 1))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!)
    }
  }
  const lines: string[] = []
  let added = 0
  let removed = 0
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++
      j++
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      lines.push('-' + a[i++])
      removed++
    } else {
      lines.push('+' + b[j++])
      added++
    }
  }
  return { added, removed, lines }
}
