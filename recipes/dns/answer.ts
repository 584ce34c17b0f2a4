// The answering logic: one question in, the sections of the answer out. Pure — the index, the clock's
// view of lease lifetimes and the configuration come in as parameters, so tests drive it exactly.
// Semantics follow skydns and CoreDNS's etcd plugin (see docs/dns.md for each rule).

import type { Answer } from 'dns-packet'
import { canonical, fqdn, isSubdomain, labelsOf, stripLabels } from './name.ts'
import { RECORDS_PER_QUERY_MAX } from './record-index.ts'
import type { IndexedRecord, RecordIndex } from './record-index.ts'
import { hostKind, PRIORITY_DEFAULT, WEIGHT_DEFAULT } from './service.ts'

/** skydns follows at most 8 CNAMEs in a chain. */
export const CNAME_CHAIN_MAX = 8
/** Labels of the name whose records are the zone's name servers: `ns.dns.<domain>`. */
const NS_LABELS = ['ns', 'dns']
/** SOA timers (seconds), as skydns writes them. */
const SOA_REFRESH = 28_800
const SOA_RETRY = 7_200
const SOA_EXPIRE = 604_800

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED'

export interface Zone {
  /** The domain served, absolute and lower-case (`skydns.local.`). */
  domain: string
  /** TTL (seconds) of a record with no `ttl` of its own. */
  ttlDefault: number
  /** The SOA's MINIMUM, and the TTL of the SOA in negative answers (NXDOMAIN, NODATA). */
  ttlMin: number
}

export interface AnswerContext {
  zone: Zone
  index: RecordIndex
  /** False until the index has been loaded once: in-zone questions then get SERVFAIL. */
  ready: boolean
  /** Remaining lifetime of a lease in seconds, or undefined when not known (yet). */
  leaseRemaining: (lease: number) => number | undefined
  /** Whether questions outside the zone go to upstream name servers (else REFUSED). */
  forwarding: boolean
}

export interface Question {
  name: string
  type: string
  class: string
}

export interface Resolution {
  rcode: Rcode
  authoritative: boolean
  answers: Answer[]
  authorities: Answer[]
  additionals: Answer[]
  /** Records were left out (a query matching more than RECORDS_PER_QUERY_MAX records). */
  truncated: boolean
  /** Send the question to the upstream name servers instead. */
  forward: boolean
  /** The answer ends in a CNAME to a name outside the zone: its addresses may be appended from upstream. */
  chase?: { name: string; type: 'A' | 'AAAA' }
}

function resolution(rcode: Rcode, authoritative = false): Resolution {
  return { rcode, authoritative, answers: [], authorities: [], additionals: [], truncated: false, forward: false }
}

/** Answers one question. */
export function resolve(q: Question, ctx: AnswerContext): Resolution {
  const name = canonical(q.name)
  if (q.class !== 'IN') return resolution('REFUSED')
  if (q.type === 'ANY' || q.type === 'AXFR' || q.type === 'IXFR') return resolution('REFUSED')
  if (!isSubdomain(name, ctx.zone.domain)) return outsideZone(q, name, ctx)
  if (!ctx.ready) return resolution('SERVFAIL')
  return insideZone(q, name, ctx)
}

function outsideZone(q: Question, name: string, ctx: AnswerContext): Resolution {
  if (q.type === 'PTR' && ctx.ready && (isSubdomain(name, 'in-addr.arpa.') || isSubdomain(name, 'ip6.arpa.'))) {
    const r = reverse(q, name, ctx)
    if (r) return r
  }
  if (ctx.forwarding) return { ...resolution('NOERROR'), forward: true }
  return resolution('REFUSED')
}

/** PTR from `/skydns/arpa/in-addr/…`: the record stored at exactly that name, whose host is a name. */
function reverse(q: Question, name: string, ctx: AnswerContext): Resolution | undefined {
  const record = ctx.index.exact(pathOf(name))
  if (!record) return undefined
  const host = hostKind(record.service.host)
  if (host.kind !== 'name') return undefined
  // skydns sends reverse answers with AA off: it is not the reverse zone's authority.
  const r = resolution('NOERROR', false)
  r.answers.push({ type: 'PTR', name: q.name, ttl: ttlOf(record, ctx), data: host.name })
  return r
}

function insideZone(q: Question, name: string, ctx: AnswerContext): Resolution {
  const apex = name === ctx.zone.domain
  const r = resolution('NOERROR', true)
  if (apex && q.type === 'SOA') {
    r.answers.push(soa(ctx, ctx.zone.ttlDefault))
    return r
  }
  if (apex && q.type === 'NS') {
    nameServers(q.name, ctx, r)
    return r
  }
  const path = pathOf(name)
  const found = ctx.index.lookup(path)
  r.truncated = found.capped
  const records = group(found.records)
  switch (q.type) {
    case 'A':
    case 'AAAA': {
      const chain = addresses(q.name, records, new Set([q.type]), ctx, new Set([name]), 0)
      r.answers.push(...chain.rrs)
      if (chain.chase) r.chase = { name: chain.chase, type: q.type }
      break
    }
    case 'SRV':
      srv(q.name, records, ctx, r)
      break
    case 'MX':
      mx(q.name, records, ctx, r)
      break
    case 'TXT':
      for (const rec of records) {
        if (rec.service.text !== '') r.answers.push({ type: 'TXT', name: q.name, ttl: ttlOf(rec, ctx), data: splitText(rec.service.text) })
      }
      break
    case 'CNAME': {
      const rec = records.find((x) => hostKind(x.service.host).kind === 'name')
      if (rec) r.answers.push({ type: 'CNAME', name: q.name, ttl: ttlOf(rec, ctx), data: fqdn(rec.service.host) })
      break
    }
    default:
      break
  }
  if (r.answers.length > 0) {
    dedupe(r.answers)
    dedupe(r.additionals)
    sameTtl(r.answers)
    return r
  }
  r.additionals = []
  if (!apex && found.records.length === 0 && !ctx.index.exists(path)) r.rcode = 'NXDOMAIN'
  r.authorities.push(soa(ctx, ctx.zone.ttlMin))
  return r
}

/** Query labels from the top of the tree down (the key layout's order), lower-case. */
function pathOf(canonicalName: string): string[] {
  return labelsOf(canonicalName).reverse()
}

/**
 * skydns's `group`: the shallowest records that carry a group set it, and then only records of that
 * group or of none are answered; when those shallowest records disagree, nothing is filtered.
 */
export function group(records: readonly IndexedRecord[]): IndexedRecord[] {
  let depth = Number.POSITIVE_INFINITY
  for (const r of records) if (r.service.group !== '' && r.depth < depth) depth = r.depth
  if (depth === Number.POSITIVE_INFINITY) return [...records]
  const groups = new Set(records.filter((r) => r.depth === depth && r.service.group !== '').map((r) => r.service.group))
  if (groups.size > 1) return [...records]
  const [chosen] = groups
  return records.filter((r) => r.service.group === '' || r.service.group === chosen)
}

/**
 * The TTL of a record: its own `ttl` (else the zone default), never more than its lease's remaining
 * lifetime. A lease whose lifetime is not known yet caps the TTL at the zone's minimum TTL.
 * Never the lease ID (CoreDNS's GHSA-93mf-426m-g6x9).
 */
export function ttlOf(record: IndexedRecord, ctx: AnswerContext): number {
  const own = record.service.ttl > 0 ? record.service.ttl : ctx.zone.ttlDefault
  if (record.lease === 0) return own
  const remaining = ctx.leaseRemaining(record.lease)
  if (remaining === undefined) return Math.min(own, ctx.zone.ttlMin)
  return Math.max(0, Math.min(own, Math.floor(remaining)))
}

interface Chain {
  rrs: Answer[]
  /** A name outside the zone the chain ends on. */
  chase?: string
}

/**
 * Addresses for `owner` from `records`: the A/AAAA of address hosts; when there are none, the first
 * name host whose chain resolves: a CNAME, then the target's own addresses (inside the zone, looked up
 * again, at most CNAME_CHAIN_MAX deep, never revisiting a name), or the CNAME alone for a target outside.
 */
function addresses(owner: string, records: readonly IndexedRecord[], types: ReadonlySet<string>, ctx: AnswerContext, seen: Set<string>, depth: number): Chain {
  const rrs: Answer[] = []
  for (const rec of records) {
    const host = hostKind(rec.service.host)
    if (host.kind === 'ipv4' && types.has('A')) rrs.push({ type: 'A', name: owner, ttl: ttlOf(rec, ctx), data: host.address })
    if (host.kind === 'ipv6' && types.has('AAAA')) rrs.push({ type: 'AAAA', name: owner, ttl: ttlOf(rec, ctx), data: host.address })
  }
  if (rrs.length > 0 || depth >= CNAME_CHAIN_MAX) return { rrs }
  for (const rec of records) {
    const host = hostKind(rec.service.host)
    if (host.kind !== 'name') continue
    const target = canonical(host.name)
    if (seen.has(target)) continue // a loop: x → … → x
    const cname: Answer = { type: 'CNAME', name: owner, ttl: ttlOf(rec, ctx), data: host.name }
    if (!isSubdomain(target, ctx.zone.domain)) return { rrs: [cname], chase: host.name }
    const next = addresses(host.name, group(ctx.index.lookup(pathOf(target)).records), types, ctx, new Set([...seen, target]), depth + 1)
    if (next.rrs.length > 0) return next.chase === undefined ? { rrs: [cname, ...next.rrs] } : { rrs: [cname, ...next.rrs], chase: next.chase }
  }
  return { rrs: [] }
}

/** A target's addresses for the additional section (both families, following CNAMEs inside the zone). */
function glue(target: string, ctx: AnswerContext): Answer[] {
  const name = canonical(target)
  if (!isSubdomain(name, ctx.zone.domain)) return []
  const records = group(ctx.index.lookup(pathOf(name)).records)
  return addresses(target, records, new Set(['A', 'AAAA']), ctx, new Set([name]), 0).rrs
}

/**
 * The target of an SRV or MX record: the host when it is a name, else the record's own name (and the
 * address goes in the additional section), less `targetstrip` leading labels.
 */
function targetOf(rec: IndexedRecord): { target: string } | undefined {
  const host = hostKind(rec.service.host)
  let target: string
  if (host.kind === 'name') target = host.name
  else if (host.kind === 'ipv4' || host.kind === 'ipv6') target = rec.name
  else return undefined
  const stripped = stripLabels(target, rec.service.targetstrip)
  if (stripped === undefined) return undefined
  return { target: stripped }
}

function addressGlue(rec: IndexedRecord, target: string, ctx: AnswerContext): Answer[] {
  const host = hostKind(rec.service.host)
  if (host.kind === 'ipv4') return [{ type: 'A', name: target, ttl: ttlOf(rec, ctx), data: host.address }]
  if (host.kind === 'ipv6') return [{ type: 'AAAA', name: target, ttl: ttlOf(rec, ctx), data: host.address }]
  return []
}

/**
 * SRV weights as skydns computes them: within one priority, each record's share of 100 in proportion to
 * its weight (a record without one counts as 100), rounded down.
 */
export function srvWeights(records: readonly IndexedRecord[]): number[] {
  const sums = new Map<number, number>()
  for (const r of records) {
    const p = priorityOf(r)
    sums.set(p, (sums.get(p) ?? 0) + (r.service.weight || WEIGHT_DEFAULT))
  }
  return records.map((r) => Math.floor((100 * (r.service.weight || WEIGHT_DEFAULT)) / sums.get(priorityOf(r))!))
}

function priorityOf(r: IndexedRecord): number {
  return r.service.priority || PRIORITY_DEFAULT
}

function srv(owner: string, records: readonly IndexedRecord[], ctx: AnswerContext, r: Resolution): void {
  const usable = records.filter((rec) => targetOf(rec) !== undefined)
  const weights = srvWeights(usable)
  const glued = new Set<string>()
  usable.forEach((rec, i) => {
    const { target } = targetOf(rec)!
    r.answers.push({ type: 'SRV', name: owner, ttl: ttlOf(rec, ctx), data: { priority: priorityOf(rec), weight: weights[i]!, port: rec.service.port, target } })
    extra(rec, target, ctx, r, glued)
  })
}

function mx(owner: string, records: readonly IndexedRecord[], ctx: AnswerContext, r: Resolution): void {
  const glued = new Set<string>()
  for (const rec of records) {
    if (!rec.service.mail) continue
    const t = targetOf(rec)
    if (!t) continue
    r.answers.push({ type: 'MX', name: owner, ttl: ttlOf(rec, ctx), data: { preference: priorityOf(rec), exchange: t.target } })
    extra(rec, t.target, ctx, r, glued)
  }
}

function extra(rec: IndexedRecord, target: string, ctx: AnswerContext, r: Resolution, glued: Set<string>): void {
  const own = addressGlue(rec, target, ctx)
  if (own.length > 0) {
    r.additionals.push(...own)
    return
  }
  const key = canonical(target)
  if (glued.has(key)) return
  glued.add(key)
  r.additionals.push(...glue(target, ctx))
}

/** The zone's name servers: records at `ns.dns.<domain>` (addresses only); `ns.dns.<domain>` itself when none. */
function nameServers(owner: string, ctx: AnswerContext, r: Resolution): void {
  const nsName = canonical(`${NS_LABELS.join('.')}.${ctx.zone.domain}`)
  const records = group(ctx.index.lookup(pathOf(nsName)).records)
  for (const rec of records) {
    const own = addressGlue(rec, rec.name, ctx)
    if (own.length === 0) continue
    r.answers.push({ type: 'NS', name: owner, ttl: ttlOf(rec, ctx), data: rec.name })
    r.additionals.push(...own)
  }
  if (r.answers.length === 0) r.answers.push({ type: 'NS', name: owner, ttl: ctx.zone.ttlDefault, data: nsName })
  dedupe(r.answers)
  sameTtl(r.answers)
}

function soa(ctx: AnswerContext, ttl: number): Answer {
  const d = ctx.zone.domain
  return {
    type: 'SOA',
    name: d,
    ttl,
    data: {
      mname: `${NS_LABELS.join('.')}.${d}`,
      rname: `hostmaster.${d}`,
      // The index's store revision: it changes exactly when the records do.
      serial: ctx.index.revision % 2 ** 32,
      refresh: SOA_REFRESH,
      retry: SOA_RETRY,
      expire: SOA_EXPIRE,
      minimum: ctx.zone.ttlMin,
    },
  }
}

/** TXT character-strings hold at most 255 bytes: long text is split into several. */
export function splitText(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8')
  const parts: Buffer[] = []
  for (let i = 0; i < bytes.length; i += 255) parts.push(bytes.subarray(i, i + 255))
  return parts
}

/** Removes repeated records (same owner, type and data), keeping the first. */
function dedupe(rrs: Answer[]): void {
  const seen = new Set<string>()
  let w = 0
  for (const rr of rrs) {
    const id = `${rr.name.toLowerCase()}|${rr.type}|${rdataKey('data' in rr ? rr.data : undefined)}`
    if (seen.has(id)) continue
    seen.add(id)
    rrs[w++] = rr
  }
  rrs.length = w
}

/** The data of a record as a string to compare by (names ignoring case). */
function rdataKey(data: unknown): string {
  if (typeof data === 'string') return data.toLowerCase()
  if (Array.isArray(data)) return data.map((b: Buffer) => b.toString('hex')).join(',')
  if (data !== null && typeof data === 'object') return Object.values(data).map((v) => (typeof v === 'string' ? v.toLowerCase() : String(v))).join(' ')
  return String(data)
}

/** One TTL for the answer (the smallest), as skydns does: the records of one RRset must agree (RFC 2181). */
function sameTtl(rrs: Answer[]): void {
  let min = Number.POSITIVE_INFINITY
  for (const rr of rrs) if ('ttl' in rr && rr.ttl !== undefined && rr.ttl < min) min = rr.ttl
  for (const rr of rrs) if ('ttl' in rr) rr.ttl = min
}

export { RECORDS_PER_QUERY_MAX }
