// A service record: skydns's JSON value `{host, port, priority, weight, text, mail, ttl, targetstrip,
// group}`, every field optional. Field names match ignoring case, as Go's encoding/json reads them
// (skydns's own examples write `"Host"`); a field of the wrong type makes the whole record invalid, as a
// Go decoder would refuse it.

import { isIPv4, isIPv6 } from 'node:net'
import { fqdn, isValidName, labelsOf } from './name.ts'

export interface Service {
  /** An IPv4 or IPv6 address (A/AAAA), or a name (CNAME; the SRV/MX target). '' when absent. */
  host: string
  port: number
  /** 0 when absent; answers use PRIORITY_DEFAULT then. */
  priority: number
  /** 0 when absent; SRV weights count it as WEIGHT_DEFAULT then. */
  weight: number
  text: string
  /** The record is also an MX (preference = priority). */
  mail: boolean
  /** Seconds; 0 = the server's default. */
  ttl: number
  /** Labels stripped from the front of the SRV/MX target. */
  targetstrip: number
  group: string
}

export type ServiceInput = Partial<Service>

/** Defaults the answers use when a field is 0 (as CoreDNS's etcd plugin and skydns do). */
export const PRIORITY_DEFAULT = 10
export const WEIGHT_DEFAULT = 100
/** Bounds on a record's value: a larger value is refused rather than half-read. */
export const SERVICE_VALUE_BYTES_MAX = 65_535
const TTL_SECONDS_MAX = 2 ** 31 - 1

const INTEGER_FIELDS: Record<string, number> = { port: 65_535, priority: 65_535, weight: 65_535, ttl: TTL_SECONDS_MAX, targetstrip: 127 }
const STRING_FIELDS = new Set(['host', 'text', 'group'])

export type ParseResult = { ok: true; service: Service } | { ok: false; error: string }

export function emptyService(): Service {
  return { host: '', port: 0, priority: 0, weight: 0, text: '', mail: false, ttl: 0, targetstrip: 0, group: '' }
}

/** Reads a record's value. Unknown fields are ignored; a mistyped or out-of-range field is an error. */
export function parseService(value: string | Uint8Array): ParseResult {
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength
  if (bytes > SERVICE_VALUE_BYTES_MAX) return { ok: false, error: `value of ${bytes} bytes is over ${SERVICE_VALUE_BYTES_MAX}` }
  let raw: unknown
  try {
    raw = JSON.parse(typeof value === 'string' ? value : new TextDecoder().decode(value))
  } catch (e) {
    return { ok: false, error: `not JSON: ${(e as Error).message}` }
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, error: 'expected a JSON object' }
  const s = emptyService() as unknown as Record<string, unknown>
  for (const [field, v] of Object.entries(raw as Record<string, unknown>)) {
    const name = field.toLowerCase()
    if (v === null) continue
    if (name in INTEGER_FIELDS) {
      const max = INTEGER_FIELDS[name]!
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
        return { ok: false, error: `${name}: expected an integer in [0, ${max}], got ${JSON.stringify(v)}` }
      }
      s[name] = v
    } else if (STRING_FIELDS.has(name)) {
      if (typeof v !== 'string') return { ok: false, error: `${name}: expected a string, got ${JSON.stringify(v)}` }
      s[name] = v
    } else if (name === 'mail') {
      if (typeof v !== 'boolean') return { ok: false, error: `mail: expected true or false, got ${JSON.stringify(v)}` }
      s[name] = v
    }
  }
  return { ok: true, service: s as unknown as Service }
}

/** The JSON value of a record, with only the fields that differ from their zero value (Go's omitempty). */
export function serviceJson(input: ServiceInput): string {
  const s = { ...emptyService(), ...input }
  const out: Record<string, unknown> = {}
  if (s.host !== '') out.host = s.host
  if (s.port !== 0) out.port = s.port
  if (s.priority !== 0) out.priority = s.priority
  if (s.weight !== 0) out.weight = s.weight
  if (s.text !== '') out.text = s.text
  if (s.mail) out.mail = true
  if (s.ttl !== 0) out.ttl = s.ttl
  if (s.targetstrip !== 0) out.targetstrip = s.targetstrip
  if (s.group !== '') out.group = s.group
  const json = JSON.stringify(out)
  const check = parseService(json)
  if (!check.ok) throw new RangeError(`service record: ${check.error}`)
  return json
}

/** A host name's labels: letters, digits, hyphens and underscores (names anything else could not be looked up). */
const HOST_LABEL = /^[A-Za-z0-9_-]+$/

export type HostKind = { kind: 'ipv4' | 'ipv6'; address: string } | { kind: 'name'; name: string } | { kind: 'none' }

/** What a record's host is: an address, a name (absolute, as written), or nothing usable (ignored by answers). */
export function hostKind(host: string): HostKind {
  if (host === '') return { kind: 'none' }
  if (isIPv4(host)) return { kind: 'ipv4', address: host }
  // A zone index (fe80::1%eth0) has no meaning in an AAAA record.
  if (isIPv6(host) && !host.includes('%')) return { kind: 'ipv6', address: host }
  const name = fqdn(host)
  if (name === '.' || !isValidName(name) || !labelsOf(name).every((l) => HOST_LABEL.test(l))) return { kind: 'none' }
  return { kind: 'name', name }
}
