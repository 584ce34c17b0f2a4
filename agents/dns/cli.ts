// The `cairn dns` command: the server (`cairn dns --addr … --domain …`), and the record verbs
// `cairn dns register NAME --host …` (kept alive under a lease until the process ends), `cairn dns ls
// [NAME]` and `cairn dns rm NAME`. The store is found with the global `--endpoints` (CAIRN_ENDPOINTS).

import { Command, Option } from 'commander'
import pino from 'pino'
import { Client } from '../../core/client/index.ts'
import { clientOptionsOf } from '../../core/cli/ctl/context.ts'
import { fqdn } from '../../recipes/dns/name.ts'
import { LEASE_TTL_SECONDS_DEFAULT, listRecords, register, removeRecords } from '../../recipes/dns/register.ts'
import { hostKind } from '../../recipes/dns/service.ts'
import type { ServiceInput } from '../../recipes/dns/service.ts'
import { ADDR_DEFAULT, DOMAIN_DEFAULT, MIN_TTL_SECONDS_DEFAULT, parseDnsOptions, startDns, TTL_SECONDS_DEFAULT } from './agent.ts'
import type { DnsFlags } from './agent.ts'

interface GlobalFlags {
  endpoints?: string
  writeOut?: string
  pathPrefix?: string
  ttl?: string
  logLevel?: string
  user?: string
  password?: string
}

function endpointsOf(g: GlobalFlags): string[] {
  return (g.endpoints ?? 'http://127.0.0.1:2379')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
}

/** One `Error: …` line and a non-zero exit, for a configuration or usage error. */
function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}

function logger(level: string | undefined) {
  return pino({ level: level ?? 'info', base: { name: 'cairn-dns' } }, pino.destination(2))
}

function wholeNumber(flag: string, v: string | undefined, max: number): number | undefined {
  if (v === undefined) return undefined
  if (!/^\d+$/.test(v) || Number(v) > max) fail(`${flag}: expected a whole number in [0, ${max}], got "${v}"`)
  return Number(v)
}

export function dnsCommand(): Command {
  const cmd = new Command('dns')
    .description('answer DNS from service records in the store (skydns layout); register, list and remove records')
    .option('--addr <host:port>', `address to answer on, UDP and TCP (default ${ADDR_DEFAULT})`)
    .option('--domain <name>', `domain served (default ${DOMAIN_DEFAULT})`)
    .option('--path-prefix <path>', 'key prefix of the records (default /skydns)')
    .option('--nameservers <ip:port,…>', 'forward questions outside the domain to these servers (else REFUSED)')
    .option('--ttl <seconds>', `TTL of records without their own (default ${TTL_SECONDS_DEFAULT}); for register: the lease TTL`)
    .option('--min-ttl <seconds>', `SOA minimum and TTL of negative answers (default ${MIN_TTL_SECONDS_DEFAULT})`)
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .action(async (flags: DnsFlags & { logLevel?: string }, self: Command) => {
      const g = self.optsWithGlobals<GlobalFlags>()
      let opts
      try {
        opts = { ...parseDnsOptions(flags, endpointsOf(g)), client: clientOptionsOf(g) }
      } catch (e) {
        fail((e as Error).message)
      }
      const log = logger(flags.logLevel)
      let running
      try {
        running = await startDns(opts, log)
      } catch (e) {
        if (e instanceof RangeError) fail(e.message)
        fail(`cannot listen on ${flags.addr ?? ADDR_DEFAULT}: ${(e as Error).message}`)
      }
      const stop = async () => {
        log.info('dns: stopping')
        await running.stop()
        process.exit(0)
      }
      process.on('SIGTERM', () => void stop())
      process.on('SIGINT', () => void stop())
    })
  cmd.addCommand(registerCommand())
  cmd.addCommand(lsCommand())
  cmd.addCommand(rmCommand())
  return cmd
}

interface RegisterFlags {
  host: string
  port?: string
  priority?: string
  weight?: string
  text?: string
  mail?: boolean
  recordTtl?: string
  targetstrip?: string
  group?: string
  ttl?: string
}

function registerCommand(): Command {
  return new Command('register')
    .description('write a service record bound to a lease and keep it alive until this process ends')
    .argument('<name>', 'the record name, e.g. 1.web.skydns.local')
    .addOption(new Option('--host <host>', 'IP address (A/AAAA) or name (CNAME, SRV target)').makeOptionMandatory())
    .option('--port <port>', 'port (SRV)')
    .option('--priority <n>', 'priority (SRV; MX preference)')
    .option('--weight <n>', 'weight (SRV)')
    .option('--text <text>', 'text (TXT)')
    .option('--mail', 'also an MX record')
    .option('--record-ttl <seconds>', "the record's own DNS TTL (the ttl field)")
    .option('--targetstrip <n>', 'labels to strip from the SRV/MX target')
    .option('--group <group>', 'group')
    .option('--ttl <seconds>', `lease TTL: how long the record outlives this process (default ${LEASE_TTL_SECONDS_DEFAULT})`)
    .action(async (name: string, flags: RegisterFlags, self: Command) => {
      const g = self.optsWithGlobals<GlobalFlags>()
      // `--ttl` after the verb may be taken by `cairn dns` itself (its own --ttl): read either.
      const leaseTtl = wholeNumber('--ttl', flags.ttl ?? g.ttl, 2 ** 31 - 1) ?? LEASE_TTL_SECONDS_DEFAULT
      if (leaseTtl < 1) fail('--ttl: expected at least 1 second')
      if (hostKind(flags.host).kind === 'none') fail(`--host: expected an IP address or a domain name, got "${flags.host}"`)
      const service: ServiceInput = { host: flags.host }
      const set = (field: 'port' | 'priority' | 'weight' | 'ttl' | 'targetstrip', flag: string, v: string | undefined, max: number) => {
        const n = wholeNumber(flag, v, max)
        if (n !== undefined) service[field] = n
      }
      set('port', '--port', flags.port, 65_535)
      set('priority', '--priority', flags.priority, 65_535)
      set('weight', '--weight', flags.weight, 65_535)
      set('ttl', '--record-ttl', flags.recordTtl, 2 ** 31 - 1)
      set('targetstrip', '--targetstrip', flags.targetstrip, 127)
      if (flags.text !== undefined) service.text = flags.text
      if (flags.mail) service.mail = true
      if (flags.group !== undefined) service.group = flags.group
      const log = logger(g.logLevel)
      const client = new Client({ endpoints: endpointsOf(g), ...clientOptionsOf(g) })
      let reg
      try {
        reg = await register(client, name, service, {
          ...(g.pathPrefix === undefined ? {} : { prefix: g.pathPrefix }),
          leaseTtlSeconds: leaseTtl,
          onLost: (e) => log.warn({ err: e.message }, 'dns register: lease lost; registering again'),
          onError: (e) => log.warn({ err: e.message }, 'dns register: writing the record failed; retrying'),
          onRegistered: (id) => log.info({ record: fqdn(name.toLowerCase()), lease: id.toString(16) }, 'dns register: registered'),
        })
      } catch (e) {
        fail((e as Error).message)
      }
      process.stdout.write(`registered ${fqdn(name.toLowerCase())} at ${reg.key} with lease ${reg.leaseId.toString(16)} (TTL ${leaseTtl}s)\n`)
      const stop = async () => {
        await reg.stop()
        client.close()
        process.exit(0)
      }
      process.on('SIGTERM', () => void stop())
      process.on('SIGINT', () => void stop())
    })
}

function lsCommand(): Command {
  return new Command('ls')
    .description('list the records at a name and below it (every record without a name)')
    .argument('[name]', 'a name, e.g. web.skydns.local')
    .action(async (name: string | undefined, _flags: unknown, self: Command) => {
      const g = self.optsWithGlobals<GlobalFlags>()
      const client = new Client({ endpoints: endpointsOf(g), ...clientOptionsOf(g) })
      try {
        const records = await listRecords(client, name, g.pathPrefix === undefined ? {} : { prefix: g.pathPrefix })
        if (g.writeOut === 'json') {
          process.stdout.write(`${JSON.stringify(records.map((r) => ({ name: r.name, key: r.key, value: r.value, lease: r.lease, ...(r.error ? { error: r.error } : {}) })))}\n`)
        } else {
          for (const r of records) process.stdout.write(`${r.name} ${r.value}${r.error ? `  # invalid: ${r.error}` : ''}\n`)
        }
      } catch (e) {
        fail((e as Error).message)
      }
      process.exit(0)
    })
}

function rmCommand(): Command {
  return new Command('rm')
    .description('delete the record at a name (with --recursive, every record below it too)')
    .argument('<name>', 'a name, e.g. 1.web.skydns.local')
    .option('-r, --recursive', 'also delete every record below the name')
    .action(async (name: string, flags: { recursive?: boolean }, self: Command) => {
      const g = self.optsWithGlobals<GlobalFlags>()
      const client = new Client({ endpoints: endpointsOf(g), ...clientOptionsOf(g) })
      try {
        const deleted = await removeRecords(client, name, { ...(g.pathPrefix === undefined ? {} : { prefix: g.pathPrefix }), recursive: flags.recursive === true })
        process.stdout.write(`${deleted}\n`)
      } catch (e) {
        fail((e as Error).message)
      }
      process.exit(0)
    })
}
