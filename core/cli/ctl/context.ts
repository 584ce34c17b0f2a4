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
  user?: string
  password?: string
}

export interface Context {
  endpoints: string[]
  writeOut: WriteOut
  dialTimeoutMs: number
  commandTimeoutMs: number
  hex: boolean
  /** From --cacert, --cert, --key; undefined without them. */
  tls: ClientTls | undefined
  /** Credentials (--user name[:password], --password); the password was prompted for if omitted. */
  user?: { name: string; password: string }
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
    .addOption(new Option('--user <name[:password]>', 'user name and password for a cluster with auth enabled').env('CAIRN_USER'))
    .addOption(new Option('--password <password>', 'password of --user (when it has no ":password")').env('CAIRN_PASSWORD'))
  // A password left out of --user is asked for on the terminal before the command runs.
  program.hook('preAction', async (_program, actionCommand) => {
    const g = actionCommand.optsWithGlobals<GlobalFlags>()
    if (g.user === undefined || g.user === '' || g.user.includes(':') || typeof g.password === 'string') return
    const { promptPassword } = await import('./prompt.ts')
    promptedPassword = await promptPassword('Password: ')
  })
}

let promptedPassword: string | undefined

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

/** --user/--password as Client options ({} without --user). */
export function credentialOptionsOf(g: { user?: string | undefined; password?: unknown }): { username?: string; password?: string } {
  const user = credentialsOf({ ...(g.user !== undefined ? { user: g.user } : {}), ...(typeof g.password === 'string' ? { password: g.password } : {}) })
  return user === undefined ? {} : { username: user.name, password: user.password }
}

/**
 * The connection options of a Client from the global flags: TLS (--cacert, --cert, --key) and
 * credentials (--user, --password); empty without them. Every client the CLI and the agents build takes these.
 */
export function clientOptionsOf(g: object): { tls?: ClientTls; username?: string; password?: string } {
  return { ...tlsClientOption(g), ...credentialOptionsOf(g as { user?: string; password?: unknown }) }
}

/** Basic-auth headers for commands that call the API with fetch (snapshot save, move-leader). */
export function authHeadersOf(cmd: Command): Record<string, string> {
  const user = credentialsOf(cmd.optsWithGlobals<GlobalFlags>())
  if (user === undefined) return {}
  return { authorization: 'Basic ' + Buffer.from(`${user.name}:${user.password}`).toString('base64') }
}

/** --user name[:password] and --password as credentials (undefined without --user). */
export function credentialsOf(g: Pick<GlobalFlags, 'user' | 'password'>): { name: string; password: string } | undefined {
  if (g.user === undefined || g.user === '') return undefined
  const colon = g.user.indexOf(':')
  if (colon >= 0) return { name: g.user.slice(0, colon), password: g.user.slice(colon + 1) }
  // (`user add --no-password` has a local boolean `password` flag: only a string is a password.)
  return { name: g.user, password: typeof g.password === 'string' ? g.password : (promptedPassword ?? '') }
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
  const ctx: Context = {
    endpoints,
    writeOut,
    dialTimeoutMs: durationFlag('--dial-timeout', g.dialTimeout),
    commandTimeoutMs: durationFlag('--command-timeout', g.commandTimeout),
    hex: g.hex === true,
    tls: tlsOf(g),
  }
  const user = credentialsOf(g)
  if (user !== undefined) ctx.user = user
  return ctx
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
    const tls = ctx.tls ? { tls: ctx.tls } : {}
    const credentials = ctx.user === undefined ? {} : { username: ctx.user.name, password: ctx.user.password }
    return new Client({ endpoints, dialTimeoutMs: ctx.dialTimeoutMs, callTimeoutMs: ctx.commandTimeoutMs, ...tls, ...credentials })
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
