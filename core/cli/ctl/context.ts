// What every store-talking command shares: the global flags, the client built from them, exit codes
// and the one-line `Error: …` report, all as etcdctl has them.

import type { Command } from 'commander'
import { Option } from 'commander'
import { CairnError } from '../../errors.ts'
import { Client, loadClientTls } from '../../client/index.ts'
import type { ClientTls } from '../../client/index.ts'
import { fetchWithTls } from '../../tls/fetch.ts'
import type { Fetch } from '../../tls/fetch.ts'
import { ClientError, DeadlineExceededError, OutcomeUnknownError } from '../../client/errors.ts'
import { parseDuration } from './duration.ts'

/** etcdctl's exit codes. */
export const Exit = {
  Success: 0,
  Error: 1,
  BadConnection: 2,
  InvalidInput: 3,
  BadFeature: 4,
  Interrupted: 5,
  IO: 6,
  BadArgs: 128,
} as const

export type WriteOut = 'simple' | 'json' | 'table'

export interface GlobalFlags {
  endpoints: string
  writeOut: string
  dialTimeout: string
  commandTimeout: string
  hex?: boolean
  cacert?: string
  cert?: string
  key?: string
  insecureSkipTlsVerify?: boolean
}

export interface Context {
  endpoints: string[]
  writeOut: WriteOut
  dialTimeoutMs: number
  commandTimeoutMs: number
  hex: boolean
  /** From --cacert, --cert, --key; undefined without them. */
  tls: ClientTls | undefined
}

/** Ends the command with an exit code and (unless empty) one `Error: …` line on stderr. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message)
  }
}

export const DEFAULT_ENDPOINTS = 'http://127.0.0.1:2379'

/** Adds the global flags to the root program (they are accepted before or after the verb). */
export function addGlobalFlags(program: Command): void {
  program
    .addOption(new Option('--endpoints <urls>', 'comma-separated client URLs of members').env('CAIRN_ENDPOINTS').default(DEFAULT_ENDPOINTS))
    .addOption(new Option('-w, --write-out <format>', 'output format: simple, json or table').default('simple'))
    .addOption(new Option('--dial-timeout <duration>', 'timeout to connect to an endpoint').default('2s'))
    .addOption(new Option('--command-timeout <duration>', 'timeout of a short command (retries included)').default('5s'))
    .addOption(new Option('--hex', 'print keys and values as hex-escaped bytes'))
    .addOption(new Option('--cacert <file>', 'verify the certificates of TLS-enabled members with this CA bundle').env('CAIRN_CACERT'))
    .addOption(new Option('--cert <file>', 'identify this client with this TLS certificate').env('CAIRN_CERT'))
    .addOption(new Option('--key <file>', 'the key of the --cert certificate').env('CAIRN_KEY'))
    .addOption(new Option('--insecure-skip-tls-verify', "skip verifying members' certificates (testing only)"))
}

/** The global TLS flags as commander parses them. */
export interface GlobalTlsFlags {
  cacert?: string | undefined
  cert?: string | undefined
  key?: string | undefined
  insecureSkipTlsVerify?: boolean | undefined
}

/**
 * The TLS settings of the global --cacert, --cert and --key flags (files read now), for every command
 * that talks to members, agents included. An unreadable file ends the command with one line.
 */
export function tlsOf(flags: object): ClientTls | undefined {
  const g = flags as GlobalTlsFlags
  try {
    return loadClientTls({ cacert: g.cacert, cert: g.cert, key: g.key, insecureSkipTlsVerify: g.insecureSkipTlsVerify })
  } catch (e) {
    throw new CliExit(Exit.Error, (e as Error).message)
  }
}

/** `{ tls }` for a Client's options from the global TLS flags (empty without them). */
export function tlsClientOption(g: object): { tls?: ClientTls } {
  const tls = tlsOf(g)
  return tls ? { tls } : {}
}

/** A fetch with the global TLS flags, for commands that call members' URLs directly; a bad file exits. */
export function fetchOf(g: object): Fetch {
  try {
    return fetchWithTls(tlsOf(g))
  } catch (e) {
    exitWith(e)
  }
}

export function contextOf(cmd: Command): Context {
  const g = cmd.optsWithGlobals<GlobalFlags>()
  const writeOut = g.writeOut
  if (writeOut !== 'simple' && writeOut !== 'json' && writeOut !== 'table') {
    throw new CliExit(Exit.BadFeature, `${writeOut} not supported as output format`)
  }
  const endpoints = g.endpoints
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  if (endpoints.length === 0) throw new CliExit(Exit.BadArgs, 'no endpoints given')
  return {
    endpoints,
    writeOut,
    dialTimeoutMs: durationFlag('--dial-timeout', g.dialTimeout),
    commandTimeoutMs: durationFlag('--command-timeout', g.commandTimeout),
    hex: g.hex === true,
    tls: tlsOf(g),
  }
}

function durationFlag(name: string, v: string): number {
  try {
    return parseDuration(v)
  } catch (e) {
    throw new CliExit(Exit.BadArgs, `invalid argument "${v}" for "${name}" flag: ${(e as Error).message}`)
  }
}

export function clientOf(ctx: Context, endpoints: string[] = ctx.endpoints): Client {
  try {
    return new Client({ endpoints, dialTimeoutMs: ctx.dialTimeoutMs, callTimeoutMs: ctx.commandTimeoutMs, ...(ctx.tls ? { tls: ctx.tls } : {}) })
  } catch (e) {
    throw new CliExit(Exit.BadArgs, (e as Error).message)
  }
}

/** The text etcdctl prints for an error: the server's message, or Go's context errors. */
export function errorText(e: unknown): string {
  if (e instanceof OutcomeUnknownError) {
    const cause = (e as { cause?: unknown }).cause
    if (cause instanceof DeadlineExceededError) return cause.message
    return e.message
  }
  if (e instanceof ClientError) return e.message
  if (e instanceof CairnError) return e.toEtcdBody().message
  if (e instanceof Error) return e.message
  return String(e)
}

/** Reports a failure the etcdctl way and exits. */
export function exitWith(e: unknown, code: number = Exit.Error): never {
  if (e instanceof CliExit) {
    if (e.message !== '') process.stderr.write(`Error: ${e.message}\n`)
    process.exit(e.exitCode)
  }
  process.stderr.write(`Error: ${errorText(e)}\n`)
  process.exit(code)
}

/** Wraps a command action: errors become one stderr line and etcdctl's exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args)
    } catch (e) {
      exitWith(e)
    }
    process.exit(Exit.Success)
  }
}

/** Runs a client call, mapping its failure to `code` (most verbs use Exit.Error). */
export async function call<T>(p: Promise<T>, code: number = Exit.Error, wrap?: (text: string) => string): Promise<T> {
  try {
    return await p
  } catch (e) {
    const text = errorText(e)
    throw new CliExit(code, wrap ? wrap(text) : text)
  }
}

export function out(s: string | Uint8Array): void {
  process.stdout.write(s)
}

export function badArgs(message: string): CliExit {
  return new CliExit(Exit.BadArgs, message)
}
