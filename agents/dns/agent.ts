// `cairn dns`: the DNS server over the store's service records. Wires the index sync (watch), the lease
// lifetimes (TTL caps), the forwarder (--nameservers) and the sockets together.

import type { Logger } from 'pino'
import { Client } from '../../core/client/index.ts'
import type { ClientTls } from '../../core/client/index.ts'
import type { AnswerContext, Zone } from '../../recipes/dns/answer.ts'
import { canonical, isValidName, normalizePrefix, PATH_PREFIX_DEFAULT } from '../../recipes/dns/name.ts'
import { Forwarder, parseNameservers } from './forward.ts'
import type { Upstream } from './forward.ts'
import { LeaseLifetimes } from './leases.ts'
import { DnsServer, parseAddress } from './server.ts'
import type { ListenAddress } from './server.ts'
import { IndexSync } from './sync.ts'

export const ADDR_DEFAULT = '127.0.0.1:5353'
export const DOMAIN_DEFAULT = 'skydns.local.'
export const TTL_SECONDS_DEFAULT = 300
export const MIN_TTL_SECONDS_DEFAULT = 30
/** How often leases no record uses any more are forgotten. */
const LEASE_SWEEP_MS = 30_000

export interface DnsFlags {
  addr?: string
  domain?: string
  pathPrefix?: string
  nameservers?: string
  ttl?: string
  minTtl?: string
}

export interface DnsOptions {
  address: ListenAddress
  zone: Zone
  prefix: string
  nameservers: Upstream[]
  endpoints: string[]
  /**
   * How the client reaches the members: TLS for https endpoints (the global --cacert, --cert, --key)
   * and --user/--password for a cluster with auth enabled.
   */
  client?: { tls?: ClientTls; username?: string; password?: string }
}

/** Validates the flags; throws RangeError with one line naming the flag for a configuration error. */
export function parseDnsOptions(flags: DnsFlags, endpoints: string[]): DnsOptions {
  const domain = canonical(flags.domain ?? DOMAIN_DEFAULT)
  if (domain === '.' || !isValidName(`hostmaster.${domain}`) || !isValidName(`ns.dns.${domain}`)) throw new RangeError(`--domain: expected a domain name such as skydns.local., got "${flags.domain}"`)
  const seconds = (flag: string, v: string | undefined, def: number) => {
    if (v === undefined) return def
    if (!/^\d+$/.test(v) || Number(v) > 2 ** 31 - 1) throw new RangeError(`${flag}: expected whole seconds, got "${v}"`)
    return Number(v)
  }
  const ttlDefault = seconds('--ttl', flags.ttl, TTL_SECONDS_DEFAULT)
  const ttlMin = seconds('--min-ttl', flags.minTtl, MIN_TTL_SECONDS_DEFAULT)
  if (endpoints.length === 0) throw new RangeError('--endpoints: no endpoints given')
  const address = parseAddress(flags.addr ?? ADDR_DEFAULT)
  const nameservers = parseNameservers(flags.nameservers ?? '')
  if (nameservers.some((n) => n.host === address.host && n.port === address.port)) {
    throw new RangeError(`--nameservers: ${address.host}:${address.port} is this server's own --addr (questions would loop)`)
  }
  return {
    address,
    zone: { domain, ttlDefault, ttlMin },
    prefix: normalizePrefix(flags.pathPrefix ?? PATH_PREFIX_DEFAULT),
    nameservers,
    endpoints,
  }
}

export interface RunningDns {
  server: DnsServer
  sync: IndexSync
  leases: LeaseLifetimes
  address: ListenAddress
  stop(): Promise<void>
}

/** Starts answering (SERVFAIL inside the zone until the records are loaded) and starts loading. */
export async function startDns(opts: DnsOptions, logger: Logger): Promise<RunningDns> {
  let client: Client
  try {
    client = new Client({ endpoints: opts.endpoints, ...opts.client })
  } catch (e) {
    throw new RangeError(`--endpoints: ${(e as Error).message}`)
  }
  const leases = new LeaseLifetimes({
    fetch: async (id) => (await client.lease.timeToLive(id, { timeoutMs: 2000 })).ttl,
    nowMs: () => Date.now(),
  })
  const sync = new IndexSync({
    client,
    prefix: opts.prefix,
    logger,
    onLease: (id) => leases.prefetch(id),
    onLoaded: (index) => leases.retain(new Set(index.leases())),
  })
  const forwarder = opts.nameservers.length > 0 ? new Forwarder(opts.nameservers) : undefined
  const context = (): AnswerContext => ({
    zone: opts.zone,
    index: sync.index,
    ready: sync.ready,
    leaseRemaining: (id) => leases.remaining(id),
    forwarding: forwarder !== undefined,
  })
  const server = new DnsServer({ address: opts.address, context, forwarder, logger })
  let address: ListenAddress
  try {
    address = await server.listen()
  } catch (e) {
    client.close()
    throw e
  }
  sync.start()
  const sweeper = setInterval(() => leases.retain(new Set(sync.index.leases())), LEASE_SWEEP_MS)
  sweeper.unref()
  logger.info({ addr: `${address.host}:${address.port}`, domain: opts.zone.domain, prefix: opts.prefix, nameservers: opts.nameservers.length }, 'dns: serving')
  return {
    server,
    sync,
    leases,
    address,
    async stop() {
      clearInterval(sweeper)
      leases.close()
      await server.close()
      await sync.stop()
      client.close()
    },
  }
}
