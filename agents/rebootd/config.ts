// The reboot agent's settings: each from its flag, else its CAIRN_REBOOTD_* environment variable
// (locksmithd's variable names are read as well), else the default. Pure apart from reading the
// machine ID file when no --id is given.

import type { RebootdConfig } from './agent.ts'
import type { Strategy } from './decide.ts'
import { STRATEGIES } from './decide.ts'
import { parseDuration } from './duration.ts'
import { readMachineId } from './state.ts'
import { parseWindow } from './window.ts'

export interface RebootdFlags {
  id?: string
  strategy?: string
  group?: string
  rebootWindowStart?: string
  rebootWindowLength?: string
  rebootCommand?: string
  rebootNeededFile?: string
  rebootNeededKey?: string
  stateDir?: string
  bootIdFile?: string
  holderTtl?: string
  checkInterval?: string
  lockBackoffMin?: string
  lockBackoffMax?: string
  rebootWait?: string
  logLevel?: string
}

export const DEFAULTS = {
  strategy: 'etcd-lock',
  rebootCommand: 'systemctl reboot',
  rebootNeededFile: '/var/run/reboot-required',
  stateDir: '/var/lib/cairn/rebootd',
  bootIdFile: '/proc/sys/kernel/random/boot_id',
  machineIdFile: '/etc/machine-id',
  checkInterval: '10s',
  lockBackoffMin: '1s',
  lockBackoffMax: '1m',
  rebootWait: '10m',
  logLevel: 'info',
} as const

/** Environment variable names per setting: Cairn's first, then locksmithd's. */
export const ENV: Record<keyof RebootdFlags, string[]> = {
  id: ['CAIRN_REBOOTD_ID'],
  strategy: ['CAIRN_REBOOTD_STRATEGY', 'REBOOT_STRATEGY'],
  group: ['CAIRN_REBOOTD_GROUP', 'LOCKSMITHD_GROUP'],
  rebootWindowStart: ['CAIRN_REBOOTD_REBOOT_WINDOW_START', 'LOCKSMITHD_REBOOT_WINDOW_START'],
  rebootWindowLength: ['CAIRN_REBOOTD_REBOOT_WINDOW_LENGTH', 'LOCKSMITHD_REBOOT_WINDOW_LENGTH'],
  rebootCommand: ['CAIRN_REBOOTD_REBOOT_COMMAND'],
  rebootNeededFile: ['CAIRN_REBOOTD_REBOOT_NEEDED_FILE'],
  rebootNeededKey: ['CAIRN_REBOOTD_REBOOT_NEEDED_KEY'],
  stateDir: ['CAIRN_REBOOTD_STATE_DIR'],
  bootIdFile: ['CAIRN_REBOOTD_BOOT_ID_FILE'],
  holderTtl: ['CAIRN_REBOOTD_HOLDER_TTL'],
  checkInterval: ['CAIRN_REBOOTD_CHECK_INTERVAL'],
  lockBackoffMin: ['CAIRN_REBOOTD_LOCK_BACKOFF_MIN'],
  lockBackoffMax: ['CAIRN_REBOOTD_LOCK_BACKOFF_MAX'],
  rebootWait: ['CAIRN_REBOOTD_REBOOT_WAIT'],
  logLevel: ['CAIRN_REBOOTD_LOG_LEVEL'],
}

/** Flags over environment: the value of each setting that was given anywhere. */
export function resolveFlags(flags: RebootdFlags, env: Record<string, string | undefined>): RebootdFlags {
  const out: RebootdFlags = {}
  for (const name of Object.keys(ENV) as Array<keyof RebootdFlags>) {
    const v = flags[name] ?? ENV[name].map((e) => env[e]).find((x) => x !== undefined && x !== '')
    if (v !== undefined) out[name] = v
  }
  return out
}

function duration(flag: string, v: string): number {
  try {
    return parseDuration(v)
  } catch (e) {
    throw new RangeError(`--${flag}: ${(e as Error).message}`)
  }
}

/** The agent's configuration; throws RangeError with one line for a bad setting. */
export function buildConfig(given: RebootdFlags, readMachineIdFile: () => string | undefined = () => readMachineId(DEFAULTS.machineIdFile)): RebootdConfig {
  const strategy = (given.strategy ?? DEFAULTS.strategy) as Strategy
  // locksmith's "best-effort" meant etcd-lock when a cluster is configured.
  const normalized: Strategy = (strategy as string) === 'best-effort' ? 'etcd-lock' : strategy
  if (!STRATEGIES.includes(normalized)) throw new RangeError(`--strategy: expected one of ${STRATEGIES.join(', ')}, got "${strategy}"`)
  const id = given.id ?? readMachineIdFile()
  if (id === undefined || id.trim() === '') throw new RangeError(`no --id given and ${DEFAULTS.machineIdFile} cannot be read`)
  const window = parseWindow(given.rebootWindowStart, given.rebootWindowLength)
  let holderTtlSeconds: number | undefined
  if (given.holderTtl !== undefined) {
    const ms = duration('holder-ttl', given.holderTtl)
    if (ms < 1000) throw new RangeError(`--holder-ttl: expected at least 1s, got "${given.holderTtl}"`)
    holderTtlSeconds = Math.ceil(ms / 1000)
  }
  const neededFile = given.rebootNeededFile ?? DEFAULTS.rebootNeededFile
  const cfg: RebootdConfig = {
    id: id.trim(),
    strategy: normalized,
    group: given.group === '' ? undefined : given.group,
    window,
    rebootCommand: given.rebootCommand ?? DEFAULTS.rebootCommand,
    rebootNeededFile: neededFile === '' ? undefined : neededFile,
    rebootNeededKey: given.rebootNeededKey === '' ? undefined : given.rebootNeededKey,
    stateDir: given.stateDir ?? DEFAULTS.stateDir,
    bootIdFile: given.bootIdFile ?? DEFAULTS.bootIdFile,
    holderTtlSeconds,
    checkIntervalMs: duration('check-interval', given.checkInterval ?? DEFAULTS.checkInterval),
    backoffMinMs: duration('lock-backoff-min', given.lockBackoffMin ?? DEFAULTS.lockBackoffMin),
    backoffMaxMs: duration('lock-backoff-max', given.lockBackoffMax ?? DEFAULTS.lockBackoffMax),
    rebootWaitMs: duration('reboot-wait', given.rebootWait ?? DEFAULTS.rebootWait),
  }
  if (cfg.rebootCommand.trim() === '') throw new RangeError('--reboot-command: expected a command')
  if (cfg.checkIntervalMs <= 0) throw new RangeError('--check-interval: expected a positive duration')
  if (cfg.backoffMinMs <= 0 || cfg.backoffMaxMs < cfg.backoffMinMs) {
    throw new RangeError('--lock-backoff-min and --lock-backoff-max: expected 0 < min <= max')
  }
  return cfg
}
