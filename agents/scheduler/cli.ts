// `cairn scheduler`: runs the work scheduler (several may run; one is elected to act). The store
// comes from the global --endpoints (CAIRN_ENDPOINTS). A bad setting is one `Error: …` line and exit
// 1; SIGTERM/SIGINT step down (a standby takes over at once) and exit 0.

import { Command, Option } from 'commander'
import pino from 'pino'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { buildSchedulerConfig } from './config.ts'
import type { SchedulerFlags } from './config.ts'
import { Scheduler, SCHEDULER_DEFAULTS } from './scheduler.ts'
import { endpointsOf, fail } from '../workctl/flags.ts'

export function schedulerCommand(): Command {
  return new Command('scheduler')
    .description('assign jobs to machines (elected: several may run, one acts)')
    .addOption(new Option('--id <name>', 'this scheduler\'s name in the election (default host:pid)'))
    .addOption(new Option('--machine-grace <duration>', `how long a machine may be gone before its work moves (default ${SCHEDULER_DEFAULTS.machineGrace})`))
    .addOption(new Option('--interval <duration>', `full reconcile at least this often (default ${SCHEDULER_DEFAULTS.interval})`))
    .addOption(new Option('--debounce <duration>', `wait this long after a change for more changes (default ${SCHEDULER_DEFAULTS.debounce})`))
    .addOption(new Option('--ttl <seconds>', `election lease TTL: how soon a standby replaces a dead scheduler (default ${SCHEDULER_DEFAULTS.ttlSeconds})`))
    .addOption(new Option('--log-level <level>', 'debug, info, warn or error (default info)'))
    .action(async (flags: SchedulerFlags, self: Command) => {
      let cfg
      try {
        cfg = buildSchedulerConfig(flags, process.env)
      } catch (e) {
        fail((e as Error).message)
      }
      let client: Client
      try {
        client = new Client({ endpoints: endpointsOf(self), ...clientOptionsOf(self.optsWithGlobals()) })
      } catch (e) {
        fail((e as Error).message)
      }
      const log = pino({ level: cfg.logLevel, base: { name: 'cairn-scheduler' } }, pino.destination(2))
      const scheduler = new Scheduler(client, cfg, log)
      const stop = (signal: string) => {
        log.info({ signal }, 'scheduler: stopping')
        scheduler.stop()
        setTimeout(() => {
          log.error({}, 'scheduler: did not stop within 10s')
          process.exit(1)
        }, 10_000).unref()
      }
      process.once('SIGTERM', () => stop('SIGTERM'))
      process.once('SIGINT', () => stop('SIGINT'))
      try {
        await scheduler.run()
      } catch (e) {
        log.error({ err: (e as Error).message }, 'scheduler: failed')
        process.exitCode = 1
      }
      client.close()
      log.flush()
      process.exit(process.exitCode ?? 0)
    })
}
