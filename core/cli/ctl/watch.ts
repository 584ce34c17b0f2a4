// `cairn watch KEY [RANGE_END] [-- COMMAND ARGS…]`: prints each event as etcdctl does and, with a
// command, runs it once per event with ETCD_WATCH_REVISION, ETCD_WATCH_EVENT_TYPE, ETCD_WATCH_KEY and
// ETCD_WATCH_VALUE in its environment (Go-quoted, as etcdctl sets them). The watch survives the loss of
// the endpoint in use (the client resumes elsewhere without gap or repeat); Ctrl-C ends it cleanly.

import { spawn } from 'node:child_process'
import { Command } from 'commander'
import { CompactedError, UnavailableError } from '../../client/index.ts'
import type { WatchOptions, WatchResponse } from '../../client/index.ts'
import { action, badArgs, CliExit, clientOf, contextOf, errorText, Exit } from './context.ts'
import { goQuote, printJson, printWatchSimple, watchJson } from './format.ts'
import { intFlag } from './kv.ts'

interface WatchFlags {
  prefix?: boolean
  rev?: string
  prevKv?: boolean
  progressNotify?: boolean
}

/** Splits the operands into key arguments and the command after `--` (commander drops the `--`). */
export function splitExecArgs(operands: string[], argv: string[]): { keyArgs: string[]; execArgs: string[] } {
  const verb = argv.indexOf('watch')
  const dash = argv.indexOf('--', verb < 0 ? 0 : verb)
  if (dash < 0) return { keyArgs: operands, execArgs: [] }
  const execCount = argv.length - dash - 1
  return { keyArgs: operands.slice(0, operands.length - execCount), execArgs: operands.slice(operands.length - execCount) }
}

function goQuoteList(args: string[]): string {
  return `[${args.map((a) => goQuote(Buffer.from(a))).join(' ')}]`
}

function runCommand(execArgs: string[], r: WatchResponse, eventIndex: number): Promise<void> {
  const e = r.events[eventIndex]!
  const env = {
    ...process.env,
    ETCD_WATCH_REVISION: String(r.header.revision),
    ETCD_WATCH_EVENT_TYPE: goQuote(Buffer.from(e.type)),
    ETCD_WATCH_KEY: goQuote(e.kv.key),
    ETCD_WATCH_VALUE: goQuote(e.kv.value),
  }
  return new Promise((resolve, reject) => {
    const child = spawn(execArgs[0]!, execArgs.slice(1), { env, stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', (err: NodeJS.ErrnoException) =>
      fail(err.code === 'ENOENT' ? `exec: ${goQuote(Buffer.from(execArgs[0]!))}: executable file not found in $PATH` : err.message),
    )
    child.on('exit', (code, signal) => {
      if (code === 0) resolve()
      else fail(signal ? `signal: ${signal}` : `exit status ${code ?? 1}`)
    })
    function fail(why: string) {
      process.stderr.write(`command ${goQuoteList(execArgs)} error (${why})\n`)
      reject(new CliExit(Exit.Error, ''))
    }
  })
}

export function watchCommand(): Command {
  return new Command('watch')
    .description('Watches events stream on keys or prefixes')
    .usage('[options] [key or prefix] [range_end] [--] [exec-command arg1 arg2 ...]')
    .argument('[args...]', 'key or prefix, optional range_end, then -- and a command to run per event')
    .option('--prefix', 'Watch on a prefix if prefix is set')
    .option('--rev <revision>', 'Revision to start watching', '0')
    .option('--prev-kv', 'get the previous key-value pair before the event happens')
    .option('--progress-notify', 'get periodic watch progress notification from server')
    .action(
      action(async (operands: string[], flags: WatchFlags, cmd: Command) => {
        const ctx = contextOf(cmd)
        if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
        const { keyArgs, execArgs } = splitExecArgs(operands, process.argv)
        if (keyArgs.length < 1 || keyArgs.length > 2) throw badArgs('bad number of arguments')
        if (flags.prefix && keyArgs.length === 2) throw badArgs('`range_end` and `--prefix` are mutually exclusive')
        const options: WatchOptions = {}
        const rev = intFlag('rev', flags.rev)
        if (rev > 0) options.startRevision = rev
        if (keyArgs.length === 2) options.end = keyArgs[1]!
        if (flags.prefix) options.prefix = true
        if (flags.prevKv) options.prevKv = true
        if (flags.progressNotify) options.progressNotify = true
        const client = clientOf(ctx)
        const watch = client.watch(keyArgs[0]!, options)
        const stop = () => {
          void watch.cancel()
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        try {
          for await (const r of watch) {
            if (r.progress) {
              process.stdout.write(`progress notify: ${r.header.revision}\n`)
              continue
            }
            if (ctx.writeOut === 'json') printJson(watchJson(r))
            else printWatchSimple(ctx, r)
            for (let i = 0; i < r.events.length && execArgs.length > 0; i++) await runCommand(execArgs, r, i)
          }
        } catch (e) {
          if (e instanceof CliExit) throw e
          // Never connected (a certificate that does not verify, an http URL of an https member).
          if (e instanceof UnavailableError) throw new CliExit(Exit.Error, errorText(e))
          const reason = e instanceof CompactedError ? 'etcdserver: mvcc: required revision has been compacted' : errorText(e)
          process.stderr.write(`watch was canceled (${reason})\n`)
          throw new CliExit(Exit.Interrupted, 'watch is canceled by the server')
        } finally {
          client.close()
        }
      }),
    )
}
