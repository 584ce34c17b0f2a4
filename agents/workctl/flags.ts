// Flag handling shared by `cairn scheduler`, `cairn agent` and `cairn work`: a setting comes from its
// flag, else its environment variable; durations are Go's; a bad one is one `Error: …` line, exit 1.

import type { Command } from 'commander'
import { parseDuration } from '../../core/client/duration.ts'

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error']

/** One `Error: …` line and exit 1. */
export function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}

/** The global --endpoints (which also reads CAIRN_ENDPOINTS). */
export function endpointsOf(cmd: Command): string[] {
  const g = cmd.optsWithGlobals<{ endpoints?: string }>()
  const list = (g.endpoints ?? process.env.CAIRN_ENDPOINTS ?? 'http://127.0.0.1:2379')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
  if (list.length === 0) fail('--endpoints: expected at least one URL')
  return list
}

/** Flags over environment: the value of each setting that was given anywhere. */
export function resolveFlags<F extends Record<string, string | undefined>>(flags: F, env: Record<string, string | undefined>, names: Record<keyof F, string>): F {
  const out: Record<string, string> = {}
  for (const name of Object.keys(names) as Array<keyof F & string>) {
    const v = flags[name] ?? env[names[name]]
    if (v !== undefined && v !== '') out[name] = v
  }
  return out as F
}

export function durationFlag(flag: string, text: string, minMs: number): number {
  let ms: number
  try {
    ms = parseDuration(text)
  } catch (e) {
    throw new RangeError(`--${flag}: ${(e as Error).message}`)
  }
  if (ms < minMs) throw new RangeError(`--${flag}: expected at least ${minMs}ms, got "${text}"`)
  return ms
}

export function secondsFlag(flag: string, text: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw new RangeError(`--${flag}: expected whole seconds in [1, ${max}], got "${text}"`)
  return Number(text)
}

export function logLevelOf(flag: string, text: string | undefined): string {
  const level = text ?? 'info'
  if (!LOG_LEVELS.includes(level)) throw new RangeError(`--${flag}: expected one of ${LOG_LEVELS.join(', ')}, got "${level}"`)
  return level
}
