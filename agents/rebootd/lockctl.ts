// `cairn lock`: locksmithctl's verbs over the reboot semaphore — status, lock [ID], unlock [ID],
// set-max N, each with --group — and `cairn lock run NAME -- COMMAND…`, which holds a lock (the Lock
// recipe) while COMMAND runs and stops COMMAND if the lock is lost (as `consul lock` does).
// `lock` never waits: with no free slot it fails at once with `Error: semaphore is at 0`.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { constants } from 'node:os'
import { Command, Option } from 'commander'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { Lock } from '../../recipes/lock/index.ts'
import type { LockHold } from '../../recipes/lock/index.ts'
import { Semaphore } from '../../recipes/semaphore/index.ts'
import { endpointsOf, fail } from './cli.ts'
import { DEFAULTS } from './config.ts'
import { parseDuration } from './duration.ts'
import { readMachineId } from './state.ts'

interface GlobalFlags {
  endpoints?: string
  writeOut?: string
  group?: string
  commandTimeout?: string
}

function clientOf(cmd: Command): Client {
  try {
    return new Client({ endpoints: endpointsOf(cmd.optsWithGlobals<GlobalFlags>()), ...clientOptionsOf(cmd.optsWithGlobals()) })
  } catch (e) {
    fail((e as Error).message)
  }
}

function semaphoreOf(cmd: Command, client: Client): Semaphore {
  const group = cmd.optsWithGlobals<GlobalFlags>().group ?? process.env.CAIRN_REBOOTD_GROUP ?? process.env.LOCKSMITHD_GROUP
  return new Semaphore(client, group !== undefined && group !== '' ? { group } : {})
}

/** The global --command-timeout, as the deadline of one semaphore operation (conflicts included). */
function deadline(cmd: Command): { timeoutMs: number } {
  const text = cmd.optsWithGlobals<GlobalFlags>().commandTimeout ?? '5s'
  try {
    return { timeoutMs: parseDuration(text) }
  } catch (e) {
    fail(`--command-timeout: ${(e as Error).message}`)
  }
}

function idOf(arg: string | undefined): string {
  const id = arg ?? process.env.CAIRN_REBOOTD_ID ?? readMachineId(DEFAULTS.machineIdFile)
  if (id === undefined || id === '') fail(`no ID given and ${DEFAULTS.machineIdFile} cannot be read`)
  return id
}

/** Runs a verb: its failure is one `Error: …` line and exit 1. */
function verb<A extends unknown[]>(fn: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args)
    } catch (e) {
      fail((e as Error).message)
    }
    process.exit(0)
  }
}

const groupOption = () => new Option('--group <group>', 'reboot group (default: the fleet-wide semaphore)')

export function lockCommand(): Command {
  const cmd = new Command('lock')
    .description('the reboot semaphore (locksmithctl): status, lock, unlock, set-max; and run a command under a lock')
    .addOption(groupOption())
  for (const sub of [statusVerb(), lockVerb(), unlockVerb(), setMaxVerb(), runCommand()]) cmd.addCommand(sub)
  return cmd
}

function statusVerb(): Command {
  return new Command('status')
    .description('print the free slots, the maximum and the holders')
    .addOption(groupOption())
    .action(
      verb(async (_flags: unknown, self: Command) => {
        const s = await semaphoreOf(self, clientOf(self)).status(deadline(self))
        if (self.optsWithGlobals<GlobalFlags>().writeOut === 'json') {
          process.stdout.write(JSON.stringify({ ...s.value, dead: s.dead }) + '\n')
          return
        }
        let text = `Available: ${s.value.semaphore}\nMax: ${s.value.max}\n`
        if (s.value.holders.length > 0) {
          text += '\nMACHINE ID\n'
          for (const h of s.value.holders) text += s.dead.includes(h) ? `${h} (dead: its liveness lease is gone)\n` : `${h}\n`
        }
        process.stdout.write(text)
      }),
    )
}

function lockVerb(): Command {
  return new Command('lock')
    .description("take a slot for ID (default: this machine's ID); fails at once if none is free")
    .argument('[id]', 'holder ID')
    .addOption(groupOption())
    .action(
      verb(async (id: string | undefined, _flags: unknown, self: Command) => {
        await semaphoreOf(self, clientOf(self)).lock(idOf(id), deadline(self))
      }),
    )
}

function unlockVerb(): Command {
  return new Command('unlock')
    .description("give back the slot of ID (default: this machine's ID)")
    .argument('[id]', 'holder ID')
    .addOption(groupOption())
    .action(
      verb(async (id: string | undefined, _flags: unknown, self: Command) => {
        // NotHolderError reads as locksmithctl's: `holder does not exist: ID`.
        await semaphoreOf(self, clientOf(self)).unlock(idOf(id), deadline(self))
      }),
    )
}

function setMaxVerb(): Command {
  return new Command('set-max')
    .description('set the number of slots (holders are kept; the free count may go negative)')
    .argument('<max>', 'number of slots')
    .addOption(groupOption())
    .action(
      verb(async (maxArg: string, _flags: unknown, self: Command) => {
        if (!/^\d+$/.test(maxArg)) throw new Error(`set-max: expected a whole number, got "${maxArg}"`)
        const sem = semaphoreOf(self, clientOf(self))
        const old = (await sem.status(deadline(self))).value.max
        const now = await sem.setMax(Number(maxArg), deadline(self))
        process.stdout.write(`Old: ${old}\nNew: ${now.max}\n`)
      }),
    )
}

interface RunFlags {
  ttl?: string
  timeout?: string
  killGrace?: string
}

function runCommand(): Command {
  return new Command('run')
    .description('hold the lock NAME while COMMAND runs; stop COMMAND if the lock is lost')
    .usage('[options] NAME -- COMMAND [ARGS…]')
    .argument('<name>', 'lock name (keys under NAME/)')
    .argument('[command...]', 'the command and its arguments, after --')
    .option('--ttl <seconds>', 'session lease TTL: how long a crashed holder keeps the lock (default 10)')
    .option('--timeout <duration>', 'give up waiting for the lock after this long (default: wait)')
    .option('--kill-grace <duration>', 'after SIGTERM, wait this long before SIGKILL (default 5s)')
    .action(async (name: string, command: string[], flags: RunFlags, self: Command) => {
      if (command.length === 0) fail('lock run: expected a command after --')
      const ttl = flags.ttl === undefined ? 10 : Number(flags.ttl)
      if (!Number.isSafeInteger(ttl) || ttl < 1) fail(`--ttl: expected a whole number of seconds, got "${flags.ttl}"`)
      let timeoutMs: number | undefined
      let graceMs = 5000
      try {
        if (flags.timeout !== undefined) timeoutMs = parseDuration(flags.timeout)
        if (flags.killGrace !== undefined) graceMs = parseDuration(flags.killGrace)
      } catch (e) {
        fail((e as Error).message)
      }
      const client = clientOf(self)
      const waiting = new AbortController()
      const onSignal = () => waiting.abort()
      process.once('SIGINT', onSignal)
      process.once('SIGTERM', onSignal)
      let hold: LockHold
      try {
        hold = await new Lock(client, name, { ttlSeconds: ttl }).acquire({
          signal: waiting.signal,
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        })
      } catch (e) {
        fail(waiting.signal.aborted ? 'interrupted while waiting for the lock' : `cannot take lock ${name}: ${(e as Error).message}`)
      }
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      const code = await runHolding(hold, command, graceMs)
      await hold.release().catch(() => undefined)
      client.close()
      process.exit(code)
    })
}

/** Runs the command while the hold lasts; returns the exit code to leave with. */
function runHolding(hold: LockHold, command: string[], graceMs: number): Promise<number> {
  return new Promise((resolve) => {
    const token = String(hold.fencingToken)
    const env = { ...process.env, CAIRN_LOCK_KEY: hold.key, CAIRN_LOCK_FENCING_TOKEN: token, ETCD_LOCK_KEY: hold.key, ETCD_LOCK_REV: token }
    let child: ChildProcess
    try {
      child = spawn(command[0]!, command.slice(1), { env, stdio: 'inherit' })
    } catch (e) {
      process.stderr.write(`Error: ${(e as Error).message}\n`)
      return resolve(1)
    }
    let lost = false
    const stopChild = () => {
      child.kill('SIGTERM')
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref()
    }
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal)
    process.on('SIGINT', forward('SIGINT'))
    process.on('SIGTERM', forward('SIGTERM'))
    void hold.lost.then((e) => {
      lost = true
      process.stderr.write(`Error: lock lost: ${e.reason}; stopping the command\n`)
      stopChild()
    })
    child.on('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`Error: ${e.code === 'ENOENT' ? `exec: "${command[0]}": executable file not found in $PATH` : e.message}\n`)
      resolve(1)
    })
    child.on('exit', (code, signal) => {
      if (lost) return resolve(1)
      if (code !== null) return resolve(code)
      const n = signal ? (constants.signals as Record<string, number>)[signal] : undefined
      resolve(128 + (n ?? 1))
    })
  })
}
