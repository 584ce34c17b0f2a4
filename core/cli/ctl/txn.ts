// `cairn txn`: etcdctl's transaction syntax on stdin. Three blocks, each ended by an empty line:
// compares (`value("k") = "v"`, `version|create|mod|lease("k") > "N"`), then the success requests, then
// the failure requests (`get|put|del` with their command-line flags). `-i` prompts for each block.

import { createInterface } from 'node:readline'
import { Command } from 'commander'
import { compare, op } from '../../client/index.ts'
import type { Comparison, CompareOperator, TxnOp } from '../../client/index.ts'
import { action, badArgs, call, CliExit, clientOf, contextOf, Exit, out } from './context.ts'
import { printJson, printTxnSimple, txnJson } from './format.ts'
import { buildDel, buildGet, buildPut, hexId } from './kv.ts'
import type { DelFlags, GetFlags, PutFlags } from './kv.ts'

/** etcdctl's argify: whitespace-separated words, "double-quoted" (Go escapes) or 'single-quoted'. */
export function argify(line: string): string[] {
  const re = /"(?:[^"\\]|\\.)*"|'[^']*'|[^'"\s]\S*[^'"\s]?/g
  const words = line.match(re) ?? []
  return words.map((w) => {
    if (w.startsWith("'")) return w.slice(1, -1)
    if (w.startsWith('"')) return unquote(w)
    return w
  })
}

/** Go's strconv.Unquote for a double-quoted string (JSON's escapes plus \x, \a, \v, \', octal). */
export function unquote(q: string): string {
  const body = q.slice(1, -1)
  return body.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[0-7]{3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(Number.parseInt(e.slice(1), 16))
      case 'n':
        return '\n'
      case 't':
        return '\t'
      case 'r':
        return '\r'
      case 'a':
        return '\x07'
      case 'b':
        return '\b'
      case 'f':
        return '\f'
      case 'v':
        return '\v'
      default:
        return /^[0-7]{3}$/.test(e) ? String.fromCharCode(Number.parseInt(e, 8)) : e
    }
  })
}

const OPERATORS = new Set(['=', '!=', '>', '<'])

/** One compare line: TARGET("key") OP "value". */
export function parseCompare(line: string): Comparison {
  const paren = line.indexOf('(')
  if (paren < 0) throw new CliExit(Exit.InvalidInput, `malformed comparison: ${line}`)
  const target = line.slice(0, paren)
  const m = /^\s*("(?:[^"\\]|\\.)*")\)\s+(\S+)\s+("(?:[^"\\]|\\.)*")\s*$/.exec(line.slice(paren + 1))
  if (!m) throw new CliExit(Exit.InvalidInput, `malformed comparison: ${line}`)
  const key = unquote(m[1]!)
  const operator = m[2]!
  const value = unquote(m[3]!)
  if (!OPERATORS.has(operator)) throw new CliExit(Exit.InvalidInput, `malformed comparison: ${line} (unknown operator ${operator})`)
  const opr = operator as CompareOperator
  const number = () => {
    if (!/^[+-]?\d+$/.test(value)) throw new CliExit(Exit.InvalidInput, `invalid txn compare request: ${line}`)
    return Number(value)
  }
  switch (target) {
    case 'ver':
    case 'version':
      return compare.version(key, opr, number())
    case 'c':
    case 'create':
      return compare.createRevision(key, opr, number())
    case 'm':
    case 'mod':
      return compare.modRevision(key, opr, number())
    case 'val':
    case 'value':
      return compare.value(key, opr, value)
    case 'lease':
      // The lease ID in hex, as every other etcdctl verb takes it.
      return compare.lease(key, opr, hexId(value, () => `invalid txn compare request: ${line}`))
    default:
      throw new CliExit(Exit.InvalidInput, `malformed comparison: ${line} (unknown target ${target})`)
  }
}

const VALUE_FLAGS = new Set(['lease', 'limit', 'rev', 'order', 'sort-by', 'consistency'])
const BOOL_FLAGS = new Set(['prefix', 'from-key', 'keys-only', 'count-only', 'print-value-only', 'prev-kv', 'ignore-value', 'ignore-lease'])

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase())
}

/** One request line: get|put|del with their flags. */
export function parseRequest(line: string): TxnOp {
  const invalid = () => new CliExit(Exit.InvalidInput, `invalid txn request: ${line}`)
  const words = argify(line)
  if (words.length < 2) throw new CliExit(Exit.InvalidInput, `invalid txn compare request: ${line}`)
  const args: string[] = []
  const flags: Record<string, string | boolean> = {}
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!
    if (!w.startsWith('--') || w === '--') {
      args.push(w)
      continue
    }
    const eq = w.indexOf('=')
    const name = eq < 0 ? w.slice(2) : w.slice(2, eq)
    if (VALUE_FLAGS.has(name)) {
      const v = eq < 0 ? words[++i] : w.slice(eq + 1)
      if (v === undefined) throw invalid()
      flags[camel(name)] = v
    } else if (BOOL_FLAGS.has(name)) {
      const v = eq < 0 ? 'true' : w.slice(eq + 1)
      if (v !== 'true' && v !== 'false') throw invalid()
      flags[camel(name)] = v === 'true'
    } else throw invalid()
  }
  try {
    switch (words[0]) {
      case 'get': {
        const r = buildGet(args, flags as GetFlags)
        return op.get(r.key, r.options)
      }
      case 'put': {
        const r = buildPut(args, flags as PutFlags, () => '')
        return op.put(r.key, r.value, r.options)
      }
      case 'del': {
        const r = buildDel(args, flags as DelFlags)
        return op.delete(r.key, r.options)
      }
      default:
        throw invalid()
    }
  } catch (e) {
    if (e instanceof CliExit) throw invalid()
    throw e
  }
}

/** Reads lines of stdin; each block ends at an empty line (or at the end of input). */
class LineReader {
  private readonly lines: string[] = []
  private waiting: ((line: string | undefined) => void) | undefined
  private ended = false

  constructor(input: NodeJS.ReadableStream) {
    const rl = createInterface({ input, crlfDelay: Infinity, terminal: false })
    rl.on('line', (l) => {
      if (this.waiting) {
        const w = this.waiting
        this.waiting = undefined
        w(l)
      } else this.lines.push(l)
    })
    rl.on('close', () => {
      this.ended = true
      this.waiting?.(undefined)
    })
  }

  next(): Promise<string | undefined> {
    const l = this.lines.shift()
    if (l !== undefined) return Promise.resolve(l)
    if (this.ended) return Promise.resolve(undefined)
    return new Promise((resolve) => (this.waiting = resolve))
  }

  async block(): Promise<string[]> {
    const out: string[] = []
    for (;;) {
      const l = await this.next()
      if (l === undefined || l.trim() === '') return out
      out.push(l.trim())
    }
  }
}

export function txnCommand(): Command {
  return new Command('txn')
    .description('Txn processes all the requests in one transaction')
    .option('-i, --interactive', 'Input transaction in interactive mode')
    .addHelpText(
      'after',
      `
Reads three blocks from stdin, each ended by an empty line:
  compares:  value("key") = "v" | version("key") > "1" | create("key") = "0" | mod("key") < "9" | lease("key") = "hexid"
  success requests (get, put, del), one per line, with their flags
  failure requests (get, put, del)

Example:
  printf 'value("k") = "v1"\\n\\nput k v2\\n\\nget k\\n\\n' | cairn txn`,
    )
    .action(
      action(async (flags: { interactive?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        if (cmd.args.length !== 0) throw badArgs('txn command does not accept argument')
        if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
        const reader = new LineReader(process.stdin)
        const prompt = (s: string) => {
          if (flags.interactive) out(`${s}\n`)
        }
        prompt('compares:')
        const compares = (await reader.block()).map(parseCompare)
        prompt('success requests (get, put, del):')
        const success = (await reader.block()).map(parseRequest)
        prompt('failure requests (get, put, del):')
        const failure = (await reader.block()).map(parseRequest)
        process.stdin.destroy()
        const r = await call(
          clientOf(ctx)
            .txn()
            .if(...compares)
            .then(...success)
            .else(...failure)
            .commit(),
        )
        if (ctx.writeOut === 'json') printJson(txnJson(r))
        else printTxnSimple(ctx, r)
      }),
    )
}
