// `cairn scheduler` settings: each from its flag, else CAIRN_SCHEDULER_<FLAG>, else the default.
// Pure; a bad setting is a RangeError with one line naming the flag.

import { durationFlag, logLevelOf, resolveFlags, secondsFlag } from '../workctl/flags.ts'
import { defaultSchedulerId, SCHEDULER_DEFAULTS } from './scheduler.ts'
import type { SchedulerConfig } from './scheduler.ts'

export type SchedulerFlags = {
  id?: string
  machineGrace?: string
  interval?: string
  debounce?: string
  ttl?: string
  logLevel?: string
}

const ENV: Record<keyof SchedulerFlags, string> = {
  id: 'CAIRN_SCHEDULER_ID',
  machineGrace: 'CAIRN_SCHEDULER_MACHINE_GRACE',
  interval: 'CAIRN_SCHEDULER_INTERVAL',
  debounce: 'CAIRN_SCHEDULER_DEBOUNCE',
  ttl: 'CAIRN_SCHEDULER_TTL',
  logLevel: 'CAIRN_SCHEDULER_LOG_LEVEL',
}

export function buildSchedulerConfig(flags: SchedulerFlags, env: Record<string, string | undefined>): SchedulerConfig & { logLevel: string } {
  const g = resolveFlags(flags, env, ENV)
  const id = g.id ?? defaultSchedulerId()
  if (id.trim() === '' || id.length > 256) throw new RangeError('--id: expected a non-empty name of at most 256 characters')
  return {
    id,
    machineGraceMs: durationFlag('machine-grace', g.machineGrace ?? SCHEDULER_DEFAULTS.machineGrace, 0),
    intervalMs: durationFlag('interval', g.interval ?? SCHEDULER_DEFAULTS.interval, 100),
    debounceMs: durationFlag('debounce', g.debounce ?? SCHEDULER_DEFAULTS.debounce, 0),
    ttlSeconds: g.ttl === undefined ? SCHEDULER_DEFAULTS.ttlSeconds : secondsFlag('ttl', g.ttl, 3600),
    logLevel: logLevelOf('log-level', g.logLevel),
  }
}
