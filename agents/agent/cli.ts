// `cairn agent --machine-id ID --labels k=v,…`: runs the work the scheduler assigns to this machine.
// The store comes from the global --endpoints (CAIRN_ENDPOINTS). A bad setting (or an unwritable log
// directory) is one `Error: …` line and exit 1; SIGTERM/SIGINT stop every program (SIGTERM, then
// SIGKILL after --stop-timeout), revoke the lease and exit 0.

import { accessSync, constants, mkdirSync } from 'node:fs'
import { Command, Option } from 'commander'
import pino from 'pino'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { endpointsOf, fail } from '../workctl/flags.ts'
import { Agent } from './agent.ts'
import { AGENT_DEFAULTS, buildAgentConfig } from './config.ts'
import type { AgentFlags } from './config.ts'

export function agentCommand(): Command {
  return new Command('agent')
    .description('run the work the scheduler assigns to this machine')
    .addOption(new Option('--machine-id <id>', 'this machine\'s ID (letters, digits, . _ -)'))
    .addOption(new Option('--labels <k=v,…>', 'labels that job constraints match, e.g. disk=ssd,zone=a'))
    .addOption(new Option('--capacity <name=n,…>', 'resources offered, e.g. cpu=4,memory=8192 (default unlimited)'))
    .addOption(new Option('--ttl <seconds>', `presence lease TTL (default ${AGENT_DEFAULTS.ttlSeconds})`))
    .addOption(new Option('--log-dir <dir>', `where each replica's output goes, <job>#<replica>.log (default ${AGENT_DEFAULTS.logDir})`))
    .addOption(new Option('--stop-timeout <duration>', `SIGKILL a program this long after SIGTERM (default ${AGENT_DEFAULTS.stopTimeout})`))
    .addOption(new Option('--restart-delay <duration>', `first delay before a restart; doubles in a crash loop (default ${AGENT_DEFAULTS.restartDelay})`))
    .addOption(new Option('--restart-delay-max <duration>', `longest delay before a restart (default ${AGENT_DEFAULTS.restartDelayMax})`))
    .addOption(new Option('--log-level <level>', 'debug, info, warn or error (default info)'))
    .action(async (flags: AgentFlags, self: Command) => {
      let cfg
      try {
        cfg = buildAgentConfig(flags, process.env)
      } catch (e) {
        fail((e as Error).message)
      }
      try {
        mkdirSync(cfg.logDir, { recursive: true })
        accessSync(cfg.logDir, constants.W_OK)
      } catch (e) {
        fail(`--log-dir: cannot write ${cfg.logDir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
      }
      let client: Client
      try {
        client = new Client({ endpoints: endpointsOf(self), ...clientOptionsOf(self.optsWithGlobals()) })
      } catch (e) {
        fail((e as Error).message)
      }
      const log = pino({ level: cfg.logLevel, base: { name: 'cairn-agent', machine: cfg.machineId } }, pino.destination(2))
      const agent = new Agent(client, cfg, log)
      const stop = (signal: string) => {
        log.info({ signal }, 'agent: stopping')
        agent.stop()
        setTimeout(() => {
          log.error({}, 'agent: did not stop in time')
          process.exit(1)
        }, cfg.stopTimeoutMs + 10_000).unref()
      }
      process.once('SIGTERM', () => stop('SIGTERM'))
      process.once('SIGINT', () => stop('SIGINT'))
      try {
        await agent.run()
      } catch (e) {
        log.error({ err: (e as Error).message }, 'agent: failed')
        process.exitCode = 1
      }
      client.close()
      log.flush()
      process.exit(process.exitCode ?? 0)
    })
}
