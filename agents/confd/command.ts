// `cairn confd`: confd's flags (--confdir, --onetime, --interval, --watch, --wait, --noop,
// --sync-only, --prefix, --keep-stage-file, --node as an alias of the global --endpoints). A
// configuration error is one `Error: …` line and exit 1; --onetime exits 1 when any resource failed.

import { existsSync, statSync } from 'node:fs'
import { Command, Option } from 'commander'
import pino from 'pino'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { systemClock } from './clock.ts'
import { Confd } from './daemon.ts'
import type { ConfdConfig } from './daemon.ts'
import { parseDuration } from './duration.ts'
import { parseWait } from './quiescence.ts'
import type { WaitWindow } from './quiescence.ts'
import { processDeps } from './render.ts'

export const CONFDIR_DEFAULT = '/etc/confd'
export const INTERVAL_SECONDS_DEFAULT = 600

interface ConfdFlags {
  confdir: string
  onetime?: boolean
  interval?: string
  watch?: boolean
  wait?: string
  noop?: boolean
  syncOnly?: boolean
  prefix?: string
  keepStageFile?: boolean
  node?: string[]
  backend?: string
  logLevel: string
  clientCaKeys?: string
  clientCert?: string
  clientKey?: string
}

interface GlobalFlags {
  endpoints?: string
  dialTimeout?: string
  commandTimeout?: string
}

export type Mode = { kind: 'onetime' } | { kind: 'watch' } | { kind: 'interval'; intervalMs: number }

export interface ParsedConfd {
  config: ConfdConfig
  mode: Mode
  endpoints: string[]
  dialTimeoutMs: number
}

class ConfigError extends Error {}

function duration(flag: string, v: string): number {
  try {
    return parseDuration(v)
  } catch (e) {
    throw new ConfigError(`invalid argument "${v}" for "${flag}" flag: ${(e as Error).message}`)
  }
}

/** Flags to a configuration (pure, except checking that confdir is a directory). */
export function parseConfdFlags(f: ConfdFlags, g: GlobalFlags): ParsedConfd {
  const endpointText = f.node !== undefined && f.node.length > 0 ? f.node.join(',') : (g.endpoints ?? 'http://127.0.0.1:2379')
  const endpoints = endpointText.split(',').map((e) => e.trim()).filter((e) => e !== '')
  if (endpoints.length === 0) throw new ConfigError('no endpoints given')
  if (f.backend !== undefined && !['etcd', 'etcdv3', 'cairn'].includes(f.backend)) {
    throw new ConfigError(`backend ${JSON.stringify(f.backend)} is not supported: cairn confd reads Cairn (the etcd v3 API)`)
  }
  if (!existsSync(f.confdir) || !statSync(f.confdir).isDirectory()) throw new ConfigError(`confdir ${f.confdir} does not exist`)
  let wait: WaitWindow = { minMs: 0, maxMs: 0 }
  if (f.wait !== undefined) {
    try {
      wait = parseWait(f.wait, parseDuration)
    } catch (e) {
      throw new ConfigError((e as Error).message)
    }
  }
  let mode: Mode
  if (f.onetime) mode = { kind: 'onetime' }
  else if (f.watch) mode = { kind: 'watch' }
  else {
    const text = f.interval ?? String(INTERVAL_SECONDS_DEFAULT)
    if (!/^\d+$/.test(text) || Number(text) < 1) throw new ConfigError(`--interval: expected a whole number of seconds (at least 1), got "${text}"`)
    mode = { kind: 'interval', intervalMs: Number(text) * 1000 }
  }
  return {
    config: {
      confdir: f.confdir,
      prefix: f.prefix,
      noop: f.noop === true,
      syncOnly: f.syncOnly === true,
      keepStageFile: f.keepStageFile === true,
      wait,
      callTimeoutMs: duration('--command-timeout', g.commandTimeout ?? '5s'),
    },
    mode,
    endpoints,
    dialTimeoutMs: duration('--dial-timeout', g.dialTimeout ?? '2s'),
  }
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',')]

export function confdCommand(): Command {
  return new Command('confd')
    .description('render configuration files from templates and keys, and reload the services that read them (confd-compatible)')
    .addOption(new Option('--confdir <dir>', 'directory with conf.d/*.toml and templates/').default(CONFDIR_DEFAULT))
    .option('--onetime', 'process every template resource once and exit (non-zero if any failed)')
    .option('--interval <seconds>', `process every resource every N seconds (default ${INTERVAL_SECONDS_DEFAULT}, without --watch/--onetime)`)
    .option('--watch', 'watch the keys and render on change')
    .option('--wait <min[:max]>', 'with --watch: render once changes have been quiet for MIN, at the latest MAX after the first (durations; MAX defaults to 4×MIN)')
    .option('--noop', 'render and show what would change, but touch nothing')
    .option('--sync-only', 'write the files but run neither check_cmd nor reload_cmd')
    .option('--prefix <prefix>', 'key prefix for every resource (replaces the resources\' own)')
    .option('--keep-stage-file', 'keep the staged files')
    .addOption(new Option('--node <url>', 'a member client URL (confd\'s flag; repeatable; replaces --endpoints)').argParser(collect))
    .addOption(new Option('--backend <name>', 'confd compatibility: only etcd/etcdv3 (Cairn) is served').hideHelp())
    .option('--client-ca-keys <file>', "confd's name for --cacert: the CA that signs the members' certificates")
    .option('--client-cert <file>', "confd's name for --cert: the client certificate")
    .option('--client-key <file>', "confd's name for --key: the client certificate's key")
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (flags: ConfdFlags, self: Command) => {
      let parsed: ParsedConfd
      try {
        parsed = parseConfdFlags(flags, self.optsWithGlobals<GlobalFlags>())
      } catch (e) {
        process.stderr.write(`Error: ${(e as Error).message}\n`)
        process.exit(1)
      }
      const log = pino({ level: flags.logLevel, base: { name: 'cairn-confd' } }, pino.destination(2))
      let connection
      try {
        // confd's own TLS flag names take precedence over the global --cacert, --cert, --key.
        const g = self.optsWithGlobals<Record<string, unknown>>()
        connection = clientOptionsOf({
          ...g,
          ...(flags.clientCaKeys !== undefined ? { cacert: flags.clientCaKeys } : {}),
          ...(flags.clientCert !== undefined ? { cert: flags.clientCert } : {}),
          ...(flags.clientKey !== undefined ? { key: flags.clientKey } : {}),
        })
      } catch (e) {
        process.stderr.write(`Error: ${(e as Error).message}\n`)
        process.exit(1)
      }
      const client = new Client({
        endpoints: parsed.endpoints,
        dialTimeoutMs: parsed.dialTimeoutMs,
        callTimeoutMs: parsed.config.callTimeoutMs,
        ...connection,
      })
      const confd = new Confd(parsed.config, client, log, processDeps(systemClock), (text) => process.stdout.write(text))
      const code = await run(confd, parsed.mode, log)
      client.close()
      log.flush?.()
      process.exit(code)
    })
}

async function run(confd: Confd, mode: Mode, log: pino.Logger): Promise<number> {
  if (mode.kind === 'onetime') {
    const failed = await confd.runOnce()
    if (failed > 0) log.error({ failed }, `${failed} template resource(s) failed`)
    return failed > 0 ? 1 : 0
  }
  const stop = new AbortController()
  const onStop = (sig: string) => (): void => {
    log.info({ signal: sig }, 'stopping')
    stop.abort()
  }
  process.once('SIGTERM', onStop('SIGTERM'))
  process.once('SIGINT', onStop('SIGINT'))
  log.info({ mode: mode.kind, confdir: confd.config.confdir }, 'cairn confd starting')
  if (mode.kind === 'watch') {
    await confd.runWatch(stop.signal)
  } else {
    // SIGHUP cuts the pause short: the next round re-reads the resources.
    let wake = new AbortController()
    process.on('SIGHUP', () => {
      wake.abort()
      wake = new AbortController()
    })
    await confd.runInterval(mode.intervalMs, stop.signal, { get signal() { return wake.signal } })
  }
  return 0
}
