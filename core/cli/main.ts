// `cairn`: one program that serves, administers and runs every agent.

import { Command, CommanderError } from 'commander'
import { addCtlCommands } from './ctl/index.ts'
import { discoveryCommand } from './discovery.ts'
import { moveLeaderCommand } from './move-leader.ts'

const program = new Command('cairn')
  .description('Cairn: a replicated, durable, watchable key-value store with coordination recipes')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride()

// The member's modules (RocksDB, Raft, the API) take half a second to load: only `serve` and
// `snapshot` need them, so the other verbs see a stand-in that only names them in the help.
const words = process.argv.slice(2)
const verb = words.find((w) => !w.startsWith('-'))
const listing = verb === undefined || verb === 'help'
if (listing || words.includes('serve')) {
  const { serveCommand } = await import('./serve.ts')
  program.addCommand(serveCommand())
} else {
  program.addCommand(new Command('serve').description('run a Cairn member'))
}
addCtlCommands(program)
if (listing || words.includes('snapshot')) {
  const { snapshotCommand } = await import('./snapshot.ts')
  program.addCommand(snapshotCommand())
} else {
  program.addCommand(new Command('snapshot').description('save, inspect and restore backups'))
}

program.addCommand(discoveryCommand())
program.addCommand(moveLeaderCommand())
if (listing || words.includes('dns')) {
  const { dnsCommand } = await import('../../agents/dns/cli.ts')
  program.addCommand(dnsCommand())
} else {
  program.addCommand(new Command('dns').description('answer DNS from service records; register, list and remove them'))
}
if (listing || words.includes('confd')) {
  const { confdCommand } = await import('../../agents/confd/command.ts')
  program.addCommand(confdCommand())
} else {
  program.addCommand(new Command('confd').description('render files from templates and keys; reload services (confd-compatible)'))
}
if (listing || words.includes('lock') || words.includes('rebootd')) {
  const { lockCommand } = await import('../../agents/rebootd/lockctl.ts')
  const { rebootdCommand } = await import('../../agents/rebootd/cli.ts')
  program.addCommand(lockCommand())
  program.addCommand(rebootdCommand())
} else {
  program.addCommand(new Command('lock').description('the reboot semaphore (locksmithctl) and running a command under a lock'))
  program.addCommand(new Command('rebootd').description('reboot this machine when needed, at most N at a time (locksmithd)'))
}

if (listing || words.includes('scheduler') || words.includes('agent') || words.includes('work')) {
  const { schedulerCommand } = await import('../../agents/scheduler/cli.ts')
  const { agentCommand } = await import('../../agents/agent/cli.ts')
  const { workCommand } = await import('../../agents/workctl/cli.ts')
  program.addCommand(schedulerCommand())
  program.addCommand(agentCommand())
  program.addCommand(workCommand())
} else {
  program.addCommand(new Command('scheduler').description('assign jobs to machines (elected: several may run, one acts)'))
  program.addCommand(new Command('agent').description('run the work the scheduler assigns to this machine'))
  program.addCommand(new Command('work').description('submit, list, inspect and remove jobs; list machines'))
}

// Parse errors as etcdctl reports them: one `Error: …` line.
function etcdctlErrors(cmd: Command): void {
  cmd.configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'Error: ')) })
  for (const sub of cmd.commands) etcdctlErrors(sub)
}
etcdctlErrors(program)

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 1)
  }
  process.stderr.write(`Error: ${(e as Error).message}\n`)
  process.exit(1)
}
