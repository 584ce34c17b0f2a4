// `cairn rebootd`: the reboot agent (locksmithd). Settings from flags or CAIRN_REBOOTD_* variables
// (see config.ts); the store from the global --endpoints (CAIRN_ENDPOINTS). A bad setting is one
// `Error: …` line and exit 1; SIGTERM/SIGINT stop it cleanly.

import { accessSync, constants } from 'node:fs'
import { Command, Option } from 'commander'
import pino from 'pino'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { Rebootd } from './agent.ts'
import type { RebootdConfig } from './agent.ts'
import { buildConfig, DEFAULTS, resolveFlags } from './config.ts'
import type { RebootdFlags } from './config.ts'
import { ensureDir } from './state.ts'

interface GlobalFlags {
  endpoints?: string
}

export function endpointsOf(g: GlobalFlags): string[] {
  return (g.endpoints ?? process.env.CAIRN_ENDPOINTS ?? 'http://127.0.0.1:2379')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
}

export function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}

export function rebootdCommand(): Command {
  return new Command('rebootd')
    .description('reboot this machine when needed, at most N machines at a time (locksmithd)')
    .addOption(new Option('--id <id>', `holder ID (default: the contents of ${DEFAULTS.machineIdFile})`))
    .addOption(new Option('--strategy <strategy>', `etcd-lock, reboot or off (default ${DEFAULTS.strategy})`))
    .addOption(new Option('--group <group>', 'reboot group: a semaphore of its own'))
    .addOption(new Option('--reboot-window-start <when>', 'start of the reboot window, e.g. "Thu 04:00" or "04:00" (daily), local time'))
    .addOption(new Option('--reboot-window-length <duration>', 'length of the reboot window, e.g. 1h'))
    .addOption(new Option('--reboot-command <command>', `command that reboots the machine (default "${DEFAULTS.rebootCommand}")`))
    .addOption(new Option('--reboot-needed-file <path>', `a reboot is needed while this file exists (default ${DEFAULTS.rebootNeededFile})`))
    .addOption(new Option('--reboot-needed-key <key>', 'a reboot is needed while this key exists (it is deleted after the reboot)'))
    .addOption(new Option('--state-dir <dir>', `where the attempt is persisted across the reboot (default ${DEFAULTS.stateDir})`))
    .addOption(new Option('--boot-id-file <path>', `boot ID, to tell a reboot from an agent restart (default ${DEFAULTS.bootIdFile})`))
    .addOption(new Option('--holder-ttl <duration>', 'holder liveness: a holder silent this long loses its slot (off by default)'))
    .addOption(new Option('--check-interval <duration>', `how often to look at the reboot-needed signal (default ${DEFAULTS.checkInterval})`))
    .addOption(new Option('--lock-backoff-min <duration>', `first wait after a full semaphore (default ${DEFAULTS.lockBackoffMin})`))
    .addOption(new Option('--lock-backoff-max <duration>', `longest wait between lock attempts (default ${DEFAULTS.lockBackoffMax})`))
    .addOption(new Option('--reboot-wait <duration>', `how long the reboot may take to take the machine down (default ${DEFAULTS.rebootWait})`))
    .addOption(new Option('--log-level <level>', 'debug, info, warn or error (default info)'))
    .action(async (flags: RebootdFlags, self: Command) => {
      const given = resolveFlags(flags, process.env)
      let cfg: RebootdConfig
      try {
        cfg = buildConfig(given)
      } catch (e) {
        fail((e as Error).message)
      }
      try {
        ensureDir(cfg.stateDir)
        accessSync(cfg.stateDir, constants.W_OK)
      } catch (e) {
        fail(`--state-dir: cannot write ${cfg.stateDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
      }
      const log = pino({ level: given.logLevel ?? DEFAULTS.logLevel, base: { name: 'cairn-rebootd' } }, pino.destination(2))
      let client: Client
      try {
        client = new Client({ endpoints: endpointsOf(self.optsWithGlobals<GlobalFlags>()), ...clientOptionsOf(self.optsWithGlobals()) })
      } catch (e) {
        fail((e as Error).message)
      }
      const agent = new Rebootd(client, cfg, log)
      const stop = (signal: string) => {
        log.info({ signal }, 'rebootd: stopping')
        agent.stop()
        if (agent.isRebooting) {
          // The machine is going down: keep the slot, do not wait for the reboot command.
          log.flush()
          process.exit(0)
        }
        setTimeout(() => {
          log.error({}, 'rebootd: did not stop within 15s')
          process.exit(1)
        }, 15_000).unref()
      }
      process.on('SIGTERM', () => stop('SIGTERM'))
      process.on('SIGINT', () => stop('SIGINT'))
      try {
        await agent.run()
      } catch (e) {
        log.error({ err: (e as Error).message }, 'rebootd: failed')
        process.exitCode = 1
      }
      client.close()
      log.flush()
      process.exit(process.exitCode ?? 0)
    })
}
