// Service registration: a record bound to a lease that is kept alive, so a service that dies disappears
// from DNS by itself once the lease runs out. When the lease is lost while the service still runs (a long
// partition), the record is put back under a new lease. Also: listing and removing records by name.

import type { Client, LeaseExpiredError } from '../../core/client/index.ts'
import { op, toText } from '../../core/client/index.ts'
import { isValidName, keyOf, nameOfKey, normalizePrefix, PATH_PREFIX_DEFAULT } from './name.ts'
import { parseService, serviceJson } from './service.ts'
import type { Service, ServiceInput } from './service.ts'

export const LEASE_TTL_SECONDS_DEFAULT = 10
const REREGISTER_BACKOFF_MS_MAX = 5000

export interface RegisterOptions {
  prefix?: string
  /** Lease TTL in seconds: how long the record outlives a dead service. */
  leaseTtlSeconds?: number
  /** Called each time the record is (re)written, with its lease. */
  onRegistered?: (leaseId: number) => void
  /** Called when the lease was lost (the record is then written again under a new lease). */
  onLost?: (error: LeaseExpiredError) => void
  /** Called when writing the record again failed (it is retried with backoff). */
  onError?: (error: Error) => void
}

function checkName(name: string): void {
  if (!isValidName(name) || name === '' || name === '.') throw new RangeError(`service name: expected a domain name such as web.skydns.local, got "${name}"`)
}

/** A running registration. `stop()` revokes the lease, which deletes the record. */
export class Registration {
  leaseId = 0
  private stopped = false
  private current: ReturnType<Client['lease']['keepAlive']> | undefined
  private wake: (() => void) | undefined
  /** Settles when the loop has ended (after stop()). */
  readonly done: Promise<void>

  private constructor(
    private readonly client: Client,
    readonly name: string,
    readonly key: string,
    readonly value: string,
    private readonly opts: RegisterOptions,
    first: { leaseId: number },
  ) {
    this.leaseId = first.leaseId
    this.done = this.run()
  }

  /** Writes the record under a new lease and keeps the lease alive; fails if the first write fails. */
  static async start(client: Client, name: string, service: ServiceInput, opts: RegisterOptions = {}): Promise<Registration> {
    checkName(name)
    const key = keyOf(name, opts.prefix ?? PATH_PREFIX_DEFAULT)
    const value = serviceJson(service)
    const ttl = opts.leaseTtlSeconds ?? LEASE_TTL_SECONDS_DEFAULT
    const leaseId = await writeUnderLease(client, key, value, ttl)
    opts.onRegistered?.(leaseId)
    return new Registration(client, name, key, value, opts, { leaseId })
  }

  private async run(): Promise<void> {
    let backoffMs = 100
    const ttl = this.opts.leaseTtlSeconds ?? LEASE_TTL_SECONDS_DEFAULT
    while (!this.stopped) {
      const keeper = this.client.lease.keepAlive(this.leaseId)
      this.current = keeper
      const lost = await Promise.race([keeper.lost, keeper.done.then(() => undefined)])
      if (this.stopped) return
      if (lost) this.opts.onLost?.(lost)
      // Write the record again under a fresh lease, until it works or we are stopped.
      while (!this.stopped) {
        try {
          this.leaseId = await writeUnderLease(this.client, this.key, this.value, ttl)
          this.opts.onRegistered?.(this.leaseId)
          backoffMs = 100
          break
        } catch (e) {
          this.opts.onError?.(e as Error)
          await new Promise<void>((resolve) => {
            this.wake = resolve
            setTimeout(resolve, backoffMs)
          })
          backoffMs = Math.min(REREGISTER_BACKOFF_MS_MAX, backoffMs * 2)
        }
      }
    }
  }

  /** Stops the keep-alive and revokes the lease (deleting the record). */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.current?.stop()
    this.wake?.()
    await this.done
    try {
      await this.client.lease.revoke(this.leaseId, { timeoutMs: opts.timeoutMs ?? 3000 })
    } catch {
      // The lease may already be gone; otherwise it runs out by itself.
    }
  }
}

async function writeUnderLease(client: Client, key: string, value: string, ttlSeconds: number): Promise<number> {
  const lease = await client.lease.grant(ttlSeconds)
  try {
    await client.put(key, value, { lease: lease.id })
  } catch (e) {
    await client.lease.revoke(lease.id).catch(() => undefined)
    throw e
  }
  return lease.id
}

/** Registers a service (see Registration). */
export function register(client: Client, name: string, service: ServiceInput, opts: RegisterOptions = {}): Promise<Registration> {
  return Registration.start(client, name, service, opts)
}

export interface ListedRecord {
  name: string
  key: string
  /** The raw value. */
  value: string
  /** The parsed record, or why it is not one. */
  service: Service | undefined
  error: string | undefined
  lease: number
}

/** Records at a name and below it (by labels), or every record under the prefix; in key order. */
export async function listRecords(client: Client, name: string | undefined, opts: { prefix?: string } = {}): Promise<ListedRecord[]> {
  const prefix = normalizePrefix(opts.prefix ?? PATH_PREFIX_DEFAULT)
  let kvs
  if (name === undefined || name === '' || name === '.') {
    kvs = (await client.get(`${prefix}/`, { prefix: true })).kvs
  } else {
    checkName(name)
    const key = keyOf(name, prefix)
    const r = await client.txn().then(op.get(key), op.get(`${key}/`, { prefix: true })).commit()
    kvs = r.responses.flatMap((x) => (x.kind === 'range' ? x.range.kvs : []))
  }
  const out: ListedRecord[] = []
  for (const kv of kvs) {
    const key = toText(kv.key)
    const recordName = nameOfKey(key, prefix)
    if (recordName === undefined) continue
    const value = toText(kv.value)
    const parsed = parseService(value)
    out.push({ name: recordName, key, value, service: parsed.ok ? parsed.service : undefined, error: parsed.ok ? undefined : parsed.error, lease: kv.lease })
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** Deletes the record at a name (and, with `recursive`, every record below it); answers how many went. */
export async function removeRecords(client: Client, name: string, opts: { prefix?: string; recursive?: boolean } = {}): Promise<number> {
  checkName(name)
  const key = keyOf(name, opts.prefix ?? PATH_PREFIX_DEFAULT)
  const ops = [op.delete(key)]
  if (opts.recursive) ops.push(op.delete(`${key}/`, { prefix: true }))
  const r = await client.txn().then(...ops).commit()
  return r.responses.reduce((n, x) => n + (x.kind === 'delete' ? x.delete.deleted : 0), 0)
}
