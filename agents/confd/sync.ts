// confd's file pipeline for one rendered resource: stage the content next to the destination (same
// filesystem, so the rename is atomic), compare content, mode and owner with the destination, run
// check_cmd on the staged file (a failure leaves the destination untouched), rename over the
// destination, run reload_cmd. Nothing happens when nothing changed.

import { spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { chmod, chown, lstat, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { renderCommand } from '../../recipes/template/index.ts'
import { lineDiff } from './diff.ts'
import type { LineDiff } from './diff.ts'
import type { Resource } from './resource.ts'

/** Bound on one check or reload command; it is killed past this. */
export const COMMAND_TIMEOUT_MS_DEFAULT = 120_000
/** Command output kept for the log and errors. */
export const COMMAND_OUTPUT_BYTES_MAX = 16 * 1024

export interface SyncOptions {
  noop: boolean
  syncOnly: boolean
  keepStageFile: boolean
  commandTimeoutMs?: number
}

export interface SyncOutcome {
  /** The destination differed from the rendering (content, mode or owner). */
  changed: boolean
  /** Why it differed ("content", "mode 0600 should be 0644", …). */
  reasons: string[]
  /** The destination was replaced. */
  written: boolean
  /** reload_cmd ran (and succeeded). */
  reloaded: boolean
  diff: LineDiff
  /** The staged file (gone unless --keep-stage-file or noop kept it). */
  stagePath: string
}

export class CommandFailedError extends Error {
  constructor(
    readonly which: 'check' | 'reload',
    readonly command: string,
    readonly code: number | null,
    readonly output: string,
  ) {
    const what = which === 'check' ? 'Config check failed' : 'Reload failed'
    super(`${what}: ${command}: ${code === null ? 'killed (timeout)' : `exit status ${code}`}${output.trim() === '' ? '' : `: ${output.trim()}`}`)
  }
}

export interface CommandResult {
  code: number | null
  output: string
}

/** Runs a command line with /bin/sh -c, output (stdout and stderr) captured and bounded. */
export function runCommand(command: string, timeoutMs: number): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const take = (d: Buffer): void => {
      if (output.length < COMMAND_OUTPUT_BYTES_MAX) output += d.toString().slice(0, COMMAND_OUTPUT_BYTES_MAX - output.length)
    }
    child.stdout.on('data', take)
    child.stderr.on('data', take)
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({ code: 127, output: e.message })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch {
    return false
  }
}

/** The mode the destination gets: the resource's, else the destination's current one, else 0644. */
export async function targetMode(r: Resource): Promise<number> {
  if (r.mode !== undefined) return r.mode
  try {
    return (await stat(r.dest)).mode & 0o7777
  } catch {
    return 0o644
  }
}

async function stageFile(r: Resource, content: string, mode: number): Promise<string> {
  const dir = dirname(r.dest)
  for (let attempt = 0; ; attempt++) {
    const path = join(dir, `.${basename(r.dest)}${randomInt(1_000_000_000)}`)
    try {
      await writeFile(path, content, { flag: 'wx', mode: 0o600 })
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 10) continue
      throw e
    }
    await chmod(path, mode)
    if (r.uid !== undefined || r.gid !== undefined) {
      // As confd: ownership is best effort (only root may give files away).
      await chown(path, r.uid ?? process.geteuid?.() ?? -1, r.gid ?? process.getegid?.() ?? -1).catch(() => undefined)
    }
    return path
  }
}

const octal = (m: number): string => '0' + m.toString(8)

/** Differences between the staged file and the destination (empty: in sync). */
async function compare(stagePath: string, dest: string, content: string): Promise<{ reasons: string[]; old: string }> {
  if (!(await exists(dest))) return { reasons: ['missing'], old: '' }
  const [d, s] = await Promise.all([stat(dest), stat(stagePath)])
  const old = await readFile(dest, 'utf8')
  const reasons: string[] = []
  if (old !== content) reasons.push('content')
  if ((d.mode & 0o7777) !== (s.mode & 0o7777)) reasons.push(`mode ${octal(d.mode & 0o7777)} should be ${octal(s.mode & 0o7777)}`)
  if (d.uid !== s.uid) reasons.push(`uid ${d.uid} should be ${s.uid}`)
  if (d.gid !== s.gid) reasons.push(`gid ${d.gid} should be ${s.gid}`)
  return { reasons, old }
}

/** Stages, compares, checks, installs and reloads one resource's rendering. */
export async function syncFile(r: Resource, content: string, opts: SyncOptions): Promise<SyncOutcome> {
  const timeoutMs = opts.commandTimeoutMs ?? COMMAND_TIMEOUT_MS_DEFAULT
  const mode = await targetMode(r)
  const stagePath = await stageFile(r, content, mode)
  let staged = true
  try {
    const { reasons, old } = await compare(stagePath, r.dest, content)
    const outcome: SyncOutcome = { changed: reasons.length > 0, reasons, written: false, reloaded: false, diff: lineDiff(old, content), stagePath }
    if (opts.noop || !outcome.changed) return outcome
    if (!opts.syncOnly && r.checkCmd !== '') {
      const cmd = renderCommand('checkcmd', r.checkCmd, { src: stagePath, dest: r.dest })
      const res = await runCommand(cmd, timeoutMs)
      if (res.code !== 0) throw new CommandFailedError('check', cmd, res.code, res.output)
    }
    try {
      await rename(stagePath, r.dest)
    } catch (e) {
      // A bind-mounted file cannot be replaced: write it in place instead (as confd does).
      if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e
      await writeFile(r.dest, content, { mode })
    }
    staged = false
    outcome.written = true
    if (!opts.syncOnly && r.reloadCmd !== '') {
      const cmd = renderCommand('reloadcmd', r.reloadCmd, { src: r.dest, dest: r.dest })
      const res = await runCommand(cmd, timeoutMs)
      if (res.code !== 0) throw new CommandFailedError('reload', cmd, res.code, res.output)
      outcome.reloaded = true
    }
    return outcome
  } finally {
    if (staged && !opts.keepStageFile) await unlink(stagePath).catch(() => undefined)
  }
}
