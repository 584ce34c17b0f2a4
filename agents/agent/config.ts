// `cairn agent` settings: each from its flag, else CAIRN_AGENT_<FLAG>, else the default. Pure; a bad
// setting is a RangeError/TypeError with one line naming the flag.

import { checkName } from '../../recipes/work/layout.ts'
import { parseCapacityFlag, parseLabelsFlag } from '../../recipes/work/machine.ts'
import { durationFlag, logLevelOf, resolveFlags, secondsFlag } from '../workctl/flags.ts'
import type { AgentConfig } from './agent.ts'

export type AgentFlags = {
  machineId?: string
  labels?: string
  capacity?: string
  ttl?: string
  logDir?: string
  stopTimeout?: string
  restartDelay?: string
  restartDelayMax?: string
  logLevel?: string
}

const ENV: Record<keyof AgentFlags, string> = {
  machineId: 'CAIRN_AGENT_MACHINE_ID',
  labels: 'CAIRN_AGENT_LABELS',
  capacity: 'CAIRN_AGENT_CAPACITY',
  ttl: 'CAIRN_AGENT_TTL',
  logDir: 'CAIRN_AGENT_LOG_DIR',
  stopTimeout: 'CAIRN_AGENT_STOP_TIMEOUT',
  restartDelay: 'CAIRN_AGENT_RESTART_DELAY',
  restartDelayMax: 'CAIRN_AGENT_RESTART_DELAY_MAX',
  logLevel: 'CAIRN_AGENT_LOG_LEVEL',
}

export const AGENT_DEFAULTS = { ttlSeconds: 10, logDir: './cairn-work-logs', stopTimeout: '10s', restartDelay: '1s', restartDelayMax: '30s' } as const

export function buildAgentConfig(flags: AgentFlags, env: Record<string, string | undefined>): AgentConfig & { logLevel: string } {
  const g = resolveFlags(flags, env, ENV)
  if (g.machineId === undefined) throw new RangeError('--machine-id: required (or CAIRN_AGENT_MACHINE_ID)')
  let machineId: string
  try {
    machineId = checkName('--machine-id', g.machineId)
  } catch (e) {
    throw new RangeError((e as Error).message)
  }
  const cfg = {
    machineId,
    labels: parseLabelsFlag(g.labels ?? ''),
    capacity: parseCapacityFlag(g.capacity ?? ''),
    ttlSeconds: g.ttl === undefined ? AGENT_DEFAULTS.ttlSeconds : secondsFlag('ttl', g.ttl, 3600),
    logDir: g.logDir ?? AGENT_DEFAULTS.logDir,
    stopTimeoutMs: durationFlag('stop-timeout', g.stopTimeout ?? AGENT_DEFAULTS.stopTimeout, 0),
    restartDelayMinMs: durationFlag('restart-delay', g.restartDelay ?? AGENT_DEFAULTS.restartDelay, 10),
    restartDelayMaxMs: durationFlag('restart-delay-max', g.restartDelayMax ?? AGENT_DEFAULTS.restartDelayMax, 10),
    logLevel: logLevelOf('log-level', g.logLevel),
  }
  if (cfg.logDir.trim() === '') throw new RangeError('--log-dir: expected a directory')
  if (cfg.restartDelayMaxMs < cfg.restartDelayMinMs) throw new RangeError('--restart-delay-max: expected at least --restart-delay')
  return cfg
}
