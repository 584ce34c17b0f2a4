// `cairn work`: submit, list, inspect and remove jobs, and list machines.
//
//   cairn work submit job.json                      a JSON spec (docs/work.md); `-` reads stdin
//   cairn work submit --name web --replicas 3 -- python3 -m http.server 8080
//   cairn work ls                                   JOB REPLICA MACHINE STATE SINCE
//   cairn work status web
//   cairn work rm web
//   cairn work machines
//
// The store comes from the global --endpoints (CAIRN_ENDPOINTS); `-w json` prints JSON. Any failure
// is one `Error: …` line and exit 1.

import { readFileSync } from 'node:fs'
import { Command, Option } from 'commander'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { jobKey } from '../../recipes/work/layout.ts'
import { readWorld } from '../../recipes/work/read.ts'
import { encodeJobSpec, parseJobSpec, parseJobSpecText } from '../../recipes/work/spec.ts'
import type { JobSpec } from '../../recipes/work/spec.ts'
import { parseLabelsFlag } from '../../recipes/work/machine.ts'
import { endpointsOf, fail } from './flags.ts'
import { age, machineRows, replicaRows, table } from './view.ts'

function clientOf(cmd: Command): Client {
  try {
    return new Client({ endpoints: endpointsOf(cmd), callTimeoutMs: 5000, ...clientOptionsOf(cmd.optsWithGlobals()) })
  } catch (e) {
    fail((e as Error).message)
  }
}

function json(cmd: Command): boolean {
  const w = cmd.optsWithGlobals<{ writeOut?: string }>().writeOut ?? 'simple'
  if (w !== 'simple' && w !== 'table' && w !== 'json') fail(`-w: expected simple, table or json, got "${w}"`)
  return w === 'json'
}

/** Runs a verb: any failure is one `Error: …` line and exit 1. */
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

export function workCommand(): Command {
  const cmd = new Command('work').description('submit, list, inspect and remove jobs run by `cairn agent`s; list machines')
  for (const sub of [submitVerb(), lsVerb(), statusVerb(), rmVerb(), machinesVerb()]) cmd.addCommand(sub)
  return cmd
}

interface SubmitFlags {
  name?: string
  replicas?: string
  global?: boolean
  labels?: string
  conflicts?: string
  cpu?: string
  memory?: string
  restart?: string
  env?: string[]
  workdir?: string
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v]
}

function number(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+(\.\d+)?$/.test(v)) throw new RangeError(`--${flag}: expected a number >= 0, got "${v}"`)
  return Number(v)
}

/** The spec from flags and the command after `--`. */
export function specFromFlags(f: SubmitFlags, command: string[]): JobSpec {
  const env: Record<string, string> = {}
  for (const e of f.env ?? []) {
    const eq = e.indexOf('=')
    if (eq <= 0) throw new TypeError(`--env: expected NAME=value, got "${e}"`)
    env[e.slice(0, eq)] = e.slice(eq + 1)
  }
  const replicas = f.replicas === undefined ? undefined : /^\d+$/.test(f.replicas) ? Number(f.replicas) : f.replicas
  const resources: Record<string, number> = {}
  const cpu = number('cpu', f.cpu)
  const memory = number('memory', f.memory)
  if (cpu !== undefined) resources.cpu = cpu
  if (memory !== undefined) resources.memory = memory
  return parseJobSpec({
    name: f.name,
    command,
    env,
    ...(f.workdir !== undefined ? { workingDir: f.workdir } : {}),
    ...(f.global ? { global: true } : {}),
    ...(replicas !== undefined ? { replicas } : {}),
    constraints: {
      labels: parseLabelsFlag(f.labels ?? ''),
      conflicts: (f.conflicts ?? '').split(',').map((c) => c.trim()).filter((c) => c !== ''),
    },
    resources,
    ...(f.restart !== undefined ? { restart: f.restart } : {}),
  })
}

function submitVerb(): Command {
  return new Command('submit')
    .description('add or replace a job: from a JSON spec FILE (- for stdin), or from flags and -- COMMAND')
    .argument('[file-or-command...]', 'a spec file, or (with --name) the command after --')
    .addOption(new Option('--name <name>', 'job name (builds the spec from flags instead of a file)'))
    .addOption(new Option('--replicas <n>', 'replicas to run (default 1)'))
    .addOption(new Option('--global', 'run one replica on every machine that matches'))
    .addOption(new Option('--labels <k=v,…>', 'only on machines with these labels'))
    .addOption(new Option('--conflicts <job,…>', 'never on a machine running one of these jobs'))
    .addOption(new Option('--cpu <units>', 'cpu units each replica needs'))
    .addOption(new Option('--memory <units>', 'memory units each replica needs'))
    .addOption(new Option('--restart <policy>', 'always, on-failure or never (default always)'))
    .addOption(new Option('--env <NAME=value>', 'environment variable (repeatable)').argParser(collect))
    .addOption(new Option('--workdir <dir>', 'working directory of the process'))
    .action(
      verb(async (args: string[], flags: SubmitFlags, self: Command) => {
        let spec: JobSpec
        if (flags.name !== undefined) {
          if (args.length === 0) throw new TypeError('expected the command after --, e.g. cairn work submit --name web -- python3 -m http.server')
          spec = specFromFlags(flags, args)
        } else {
          if (args.length !== 1) throw new TypeError('expected one spec file (or --name NAME -- COMMAND)')
          const file = args[0]!
          let text: string
          try {
            text = readFileSync(file === '-' ? 0 : file, 'utf8')
          } catch (e) {
            throw new Error(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
          }
          spec = parseJobSpecText(text)
        }
        const client = clientOf(self)
        const r = await client.put(jobKey(spec.name), encodeJobSpec(spec), { prevKv: true })
        process.stdout.write(`job ${spec.name} ${r.prevKv ? 'updated' : 'submitted'}\n`)
      }),
    )
}

function lsVerb(): Command {
  return new Command('ls').description('every replica: job, replica, machine, state, since').action(
    verb(async (_flags: unknown, self: Command) => {
      const world = await readWorld(clientOf(self))
      const rows = replicaRows(world)
      if (json(self)) {
        process.stdout.write(`${JSON.stringify(rows)}\n`)
        return
      }
      const now = Date.now()
      process.stdout.write(table(['JOB', 'REPLICA', 'MACHINE', 'STATE', 'SINCE'], rows.map((r) => [r.job, r.replica, r.machine || '-', r.state, age(r.since, now)])))
    }),
  )
}

function statusVerb(): Command {
  return new Command('status')
    .description('a job\'s spec and where each replica runs')
    .argument('<name>', 'job name')
    .action(
      verb(async (name: string, _flags: unknown, self: Command) => {
        const world = await readWorld(clientOf(self))
        const job = world.jobs.get(name)
        const rows = replicaRows(world, name)
        if (job === undefined && rows.length === 0) {
          const bad = world.bad.find((b) => b.key === jobKey(name))
          throw new Error(bad ? `job ${name} has an invalid spec: ${bad.error}` : `job ${name} not found`)
        }
        if (json(self)) {
          process.stdout.write(`${JSON.stringify({ spec: job?.spec ?? null, revision: job?.revision ?? 0, replicas: rows })}\n`)
          return
        }
        const now = Date.now()
        if (job) {
          const s = job.spec
          process.stdout.write(`job:         ${s.name}\n`)
          process.stdout.write(`command:     ${JSON.stringify(s.command)}\n`)
          process.stdout.write(`replicas:    ${s.global ? 'global (one per machine)' : s.replicas}\n`)
          process.stdout.write(`restart:     ${s.restart}\n`)
          const labels = Object.entries(s.constraints.labels).map(([k, v]) => `${k}=${v}`).join(',')
          if (labels) process.stdout.write(`labels:      ${labels}\n`)
          if (s.constraints.conflicts.length) process.stdout.write(`conflicts:   ${s.constraints.conflicts.join(',')}\n`)
          if (s.resources.cpu || s.resources.memory) process.stdout.write(`resources:   cpu=${s.resources.cpu},memory=${s.resources.memory}\n`)
        } else {
          process.stdout.write(`job:         ${name} (removed; replicas stopping)\n`)
        }
        process.stdout.write('\n')
        process.stdout.write(
          table(
            ['REPLICA', 'MACHINE', 'STATE', 'PID', 'RESTARTS', 'EXIT', 'SINCE'],
            rows.map((r) => [r.replica, r.machine || '-', r.state, r.pid ? String(r.pid) : '-', String(r.restarts), r.exitCode === null ? '-' : String(r.exitCode), age(r.since, now)]),
          ),
        )
      }),
    )
}

function rmVerb(): Command {
  return new Command('rm')
    .description('remove a job: the scheduler unassigns it and the agents stop it')
    .argument('<name>', 'job name')
    .action(
      verb(async (name: string, _flags: unknown, self: Command) => {
        const r = await clientOf(self).delete(jobKey(name))
        if (r.deleted === 0) throw new Error(`job ${name} not found`)
        process.stdout.write(`job ${name} removed\n`)
      }),
    )
}

function machinesVerb(): Command {
  return new Command('machines').description('machines whose agent is present: labels, capacity, assigned replicas').action(
    verb(async (_flags: unknown, self: Command) => {
      const rows = machineRows(await readWorld(clientOf(self)))
      if (json(self)) {
        process.stdout.write(`${JSON.stringify(rows)}\n`)
        return
      }
      const now = Date.now()
      process.stdout.write(table(['MACHINE', 'LABELS', 'CAPACITY', 'REPLICAS', 'UP'], rows.map((r) => [r.machine, r.labels || '-', r.capacity || '-', String(r.replicas), age(r.since, now)])))
    }),
  )
}
