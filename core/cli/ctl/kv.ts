// put, get, del, compaction — etcdctl's flags, checks, output and exit codes. The request builders
// are shared with `txn`, whose lines use the same verbs and flags.

import { readFileSync } from 'node:fs'
import { Command } from 'commander'
import type { DeleteOptions, PutOptions, RangeOptions, SortOrder, SortTarget } from '../../client/index.ts'
import { action, badArgs, call, CliExit, clientOf, contextOf, Exit, out } from './context.ts'
import { deleteJson, printDeleteSimple, printJson, printPutSimple, printRangeSimple, putJson, rangeJson } from './format.ts'

export interface GetFlags {
  prefix?: boolean
  fromKey?: boolean
  limit?: string
  rev?: string
  keysOnly?: boolean
  countOnly?: boolean
  printValueOnly?: boolean
  order?: string
  sortBy?: string
  consistency?: string
}

export interface PutFlags {
  lease?: string
  prevKv?: boolean
  ignoreValue?: boolean
  ignoreLease?: boolean
}

export interface DelFlags {
  prefix?: boolean
  fromKey?: boolean
  prevKv?: boolean
}

/** pflag's int64 parsing, with its error text. */
export function intFlag(name: string, v: string | undefined): number {
  if (v === undefined) return 0
  if (!/^[+-]?\d+$/.test(v.trim())) {
    throw new CliExit(Exit.Error, `invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`)
  }
  return Number(v)
}

/** A lease ID written in hex, as etcdctl takes it. */
export function hexId(v: string, what: (err: string) => string): number {
  if (!/^[0-9a-fA-F]+$/.test(v)) throw badArgs(what(`strconv.ParseInt: parsing "${v}": invalid syntax`))
  const n = Number.parseInt(v, 16)
  if (!Number.isSafeInteger(n)) throw badArgs(what(`strconv.ParseInt: parsing "${v}": value out of range`))
  return n
}

const SORT_TARGETS: Record<string, SortTarget> = { CREATE: 'CREATE', KEY: 'KEY', MODIFY: 'MOD', VALUE: 'VALUE', VERSION: 'VERSION' }

export function buildGet(args: string[], f: GetFlags): { key: string; options: RangeOptions } {
  if (args.length === 0) throw badArgs('get command needs one argument as key and an optional argument as range_end')
  if (f.prefix && f.fromKey) throw badArgs('`--prefix` and `--from-key` cannot be set at the same time, choose one')
  const options: RangeOptions = {}
  const consistency = f.consistency ?? 'l'
  if (consistency === 's') options.serializable = true
  else if (consistency !== 'l') throw new CliExit(Exit.BadFeature, `unknown consistency flag "${consistency}"`)
  let key = args[0]!
  if (args.length > 1) {
    if (f.prefix || f.fromKey) throw badArgs('too many arguments, only accept one argument when `--prefix` or `--from-key` is set')
    options.end = args[1]!
  }
  const limit = intFlag('limit', f.limit)
  if (limit > 0) options.limit = limit
  const rev = intFlag('rev', f.rev)
  if (rev > 0) options.revision = rev
  const order = (f.order ?? '').toUpperCase()
  let sortOrder: SortOrder = 'NONE'
  if (order === 'ASCEND') sortOrder = 'ASCEND'
  else if (order === 'DESCEND') sortOrder = 'DESCEND'
  else if (order !== '') throw new CliExit(Exit.BadFeature, `bad sort order ${f.order ?? ''}`)
  const target = (f.sortBy ?? '').toUpperCase()
  let sortTarget: SortTarget = 'KEY'
  if (target !== '') {
    const t = SORT_TARGETS[target]
    if (t === undefined) throw new CliExit(Exit.BadFeature, `bad sort target ${f.sortBy ?? ''}`)
    sortTarget = t
  }
  // As clientv3.WithSort: ascending by key is the natural order, so the server need not sort.
  if (!(sortTarget === 'KEY' && sortOrder === 'ASCEND')) {
    if (sortOrder !== 'NONE') options.sortOrder = sortOrder
    if (sortTarget !== 'KEY') options.sortTarget = sortTarget
  }
  if (f.prefix) {
    if (key === '') {
      key = '\0'
      options.fromKey = true
    } else options.prefix = true
  }
  if (f.fromKey) {
    if (key === '') key = '\0'
    options.fromKey = true
  }
  if (f.keysOnly) options.keysOnly = true
  if (f.countOnly) options.countOnly = true
  return { key, options }
}

export function buildPut(args: string[], f: PutFlags, stdin: () => string): { key: string; value: string; options: PutOptions } {
  if (args.length === 0) throw badArgs('put command needs 1 argument and input from stdin or 2 arguments')
  if (f.ignoreValue && args.length > 1) throw badArgs("put command needs only 1 argument when 'ignore-value' is set")
  let value = ''
  if (!f.ignoreValue) {
    if (args.length > 1) value = args[1]!
    else {
      value = stdin()
      if (value === '') throw badArgs('put command needs 1 argument and input from stdin or 2 arguments')
    }
  }
  const lease = hexId(f.lease ?? '0', (err) => `bad lease ID (${err}), expecting ID in Hex`)
  const options: PutOptions = {}
  if (lease !== 0) options.lease = lease
  if (f.prevKv) options.prevKv = true
  if (f.ignoreValue) options.ignoreValue = true
  if (f.ignoreLease) options.ignoreLease = true
  return { key: args[0]!, value, options }
}

export function buildDel(args: string[], f: DelFlags): { key: string; options: DeleteOptions } {
  if (args.length === 0 || args.length > 2) throw badArgs('del command needs one argument as key and an optional argument as range_end')
  if (f.prefix && f.fromKey) throw badArgs('`--prefix` and `--from-key` cannot be set at the same time, choose one')
  const options: DeleteOptions = {}
  let key = args[0]!
  if (args.length > 1) {
    if (f.prefix || f.fromKey) throw badArgs('too many arguments, only accept one argument when `--prefix` or `--from-key` is set')
    options.end = args[1]!
  }
  if (f.prefix) {
    if (key === '') {
      key = '\0'
      options.fromKey = true
    } else options.prefix = true
  }
  if (f.prevKv) options.prevKv = true
  if (f.fromKey) {
    if (key === '') key = '\0'
    options.fromKey = true
  }
  return { key, options }
}

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8')
  } catch {
    return ''
  }
}

export function getCommand(): Command {
  return new Command('get')
    .description('Gets the key or a range of keys')
    .argument('[key]', 'the key, or the start of the range')
    .argument('[range_end]', 'end of the range [key, range_end)')
    .option('--prefix', 'Get keys with matching prefix')
    .option('--from-key', 'Get keys that are greater than or equal to the given key using byte compare')
    .option('--limit <n>', 'Maximum number of results', '0')
    .option('--rev <revision>', 'Specify the kv revision', '0')
    .option('--keys-only', 'Get only the keys')
    .option('--count-only', 'Get only the count (with --write-out=json)')
    .option('--print-value-only', 'Only write values when using the "simple" output format')
    .option('--order <order>', 'Order of results; ASCEND or DESCEND (ASCEND by default)', '')
    .option('--sort-by <target>', 'Sort target; CREATE, KEY, MODIFY, VALUE, or VERSION', '')
    .option('--consistency <l|s>', 'Linearizable(l) or Serializable(s)', 'l')
    .action(
      action(async (key: string | undefined, end: string | undefined, flags: GetFlags, cmd: Command) => {
        const ctx = contextOf(cmd)
        const { key: k, options } = buildGet([key, end].filter((x): x is string => x !== undefined), flags)
        if (flags.countOnly && ctx.writeOut !== 'json') throw badArgs('--count-only is only for `--write-out=json`')
        if (flags.printValueOnly && ctx.writeOut !== 'simple') throw badArgs('print-value-only is only for `--write-out=simple`')
        if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
        const r = await call(clientOf(ctx).get(k, options))
        if (ctx.writeOut === 'json') printJson(rangeJson(r))
        else printRangeSimple(ctx, r, flags.printValueOnly === true)
      }),
    )
}

export function putCommand(): Command {
  return new Command('put')
    .description('Puts the given key into the store')
    .argument('[key]', 'the key')
    .argument('[value]', 'the value (read from stdin when omitted)')
    .option('--lease <id>', 'lease ID (in hexadecimal) to attach to the key', '0')
    .option('--prev-kv', 'return the previous key-value pair before modification')
    .option('--ignore-value', 'updates the key using its current value')
    .option('--ignore-lease', 'updates the key using its current lease')
    .action(
      action(async (key: string | undefined, value: string | undefined, flags: PutFlags, cmd: Command) => {
        const ctx = contextOf(cmd)
        const req = buildPut([key, value].filter((x): x is string => x !== undefined), flags, readStdin)
        if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
        const r = await call(clientOf(ctx).put(req.key, req.value, req.options))
        if (ctx.writeOut === 'json') printJson(putJson(r))
        else printPutSimple(ctx, r)
      }),
    )
}

export function delCommand(): Command {
  return new Command('del')
    .description('Removes the specified key or range of keys [key, range_end)')
    .argument('[key]', 'the key, or the start of the range')
    .argument('[range_end]', 'end of the range [key, range_end)')
    .option('--prefix', 'delete keys with matching prefix')
    .option('--prev-kv', 'return deleted key-value pairs')
    .option('--from-key', 'delete keys that are greater than or equal to the given key using byte compare')
    .action(
      action(async (key: string | undefined, end: string | undefined, flags: DelFlags, cmd: Command) => {
        const ctx = contextOf(cmd)
        const req = buildDel([key, end].filter((x): x is string => x !== undefined), flags)
        if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
        const r = await call(clientOf(ctx).delete(req.key, req.options))
        if (ctx.writeOut === 'json') printJson(deleteJson(r))
        else printDeleteSimple(ctx, r)
      }),
    )
}

export function compactionCommand(): Command {
  return new Command('compaction')
    .description('Compacts the event history in the store')
    .argument('[revision]', 'discard history before this revision')
    .option('--physical', 'wait for the compacted data to be physically removed')
    .action(
      action(async (rev: string | undefined, flags: { physical?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        if (rev === undefined || cmd.args.length !== 1) throw badArgs('compaction command needs 1 argument')
        if (!/^[+-]?\d+$/.test(rev)) throw new CliExit(Exit.Error, `strconv.ParseInt: parsing "${rev}": invalid syntax`)
        const revision = Number(rev)
        await call(clientOf(ctx).compact(revision, flags.physical ? { physical: true } : {}))
        out(`compacted revision ${revision}\n`)
      }),
    )
}
