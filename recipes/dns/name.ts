// Domain names and the skydns key layout. A name is handled as its labels (lower-case for matching);
// a record for `1.rails.production.east.skydns.local.` lives at the key
// `/skydns/local/skydns/east/production/rails/1`: the labels reversed under the path prefix.
// Records match by labels, never by string prefix: `webx` is not under `web`.

/** RFC 1035: a label is at most 63 bytes, a name at most 255 bytes on the wire. */
export const LABEL_BYTES_MAX = 63
export const NAME_WIRE_BYTES_MAX = 255
export const PATH_PREFIX_DEFAULT = '/skydns'

const encoder = new TextEncoder()

/** Labels of a name, left to right: `a.B.c.` → ['a', 'B', 'c']; the root (`.` or '') → []. */
export function labelsOf(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  if (n === '') return []
  return n.split('.')
}

/** The name written absolute (with its trailing dot), as dig prints it. */
export function fqdn(name: string): string {
  if (name === '' || name === '.') return '.'
  return name.endsWith('.') ? name : `${name}.`
}

/** Lower-cases and makes absolute: the form names are compared in. */
export function canonical(name: string): string {
  return fqdn(name.toLowerCase())
}

/** Whether a name can go on the wire: non-empty labels of at most 63 bytes, at most 255 bytes in all. */
export function isValidName(name: string): boolean {
  const labels = labelsOf(name)
  let wire = 1
  for (const l of labels) {
    const bytes = encoder.encode(l).length
    if (bytes === 0 || bytes > LABEL_BYTES_MAX) return false
    wire += bytes + 1
  }
  return wire <= NAME_WIRE_BYTES_MAX
}

/** Whether `name` is `zone` or below it, compared label by label, ignoring case. */
export function isSubdomain(name: string, zone: string): boolean {
  const n = labelsOf(name.toLowerCase())
  const z = labelsOf(zone.toLowerCase())
  if (z.length > n.length) return false
  for (let i = 1; i <= z.length; i++) {
    if (n[n.length - i] !== z[z.length - i]) return false
  }
  return true
}

/** A path prefix written the canonical way: leading slash, no trailing slash (`/skydns`). */
export function normalizePrefix(prefix: string): string {
  let p = prefix.trim()
  while (p.endsWith('/')) p = p.slice(0, -1)
  if (!p.startsWith('/')) p = `/${p}`
  if (p === '/') throw new RangeError('path prefix: expected a path such as /skydns, got "/"')
  return p
}

/** The key of a name: `1.rails.skydns.local.` → `/skydns/local/skydns/rails/1`. */
export function keyOf(name: string, prefix: string = PATH_PREFIX_DEFAULT): string {
  const labels = labelsOf(name.toLowerCase())
  if (labels.length === 0) return normalizePrefix(prefix)
  return `${normalizePrefix(prefix)}/${labels.reverse().join('/')}`
}

/**
 * The labels of a key, from the top of the tree down (`/skydns/local/skydns/rails` → ['local', 'skydns',
 * 'rails']), lower-cased; undefined when the key is not a record key under the prefix (outside it, the
 * prefix itself, an empty or dotted segment).
 */
export function keyPath(key: string, prefix: string = PATH_PREFIX_DEFAULT): string[] | undefined {
  const p = normalizePrefix(prefix)
  if (!key.startsWith(`${p}/`)) return undefined
  const segments = key.slice(p.length + 1).split('/')
  for (const s of segments) {
    if (s === '' || s.includes('.')) return undefined
  }
  return segments.map((s) => s.toLowerCase())
}

/** The name of a key: `/skydns/local/skydns/rails/1` → `1.rails.skydns.local.`; undefined as for keyPath. */
export function nameOfKey(key: string, prefix: string = PATH_PREFIX_DEFAULT): string | undefined {
  const path = keyPath(key, prefix)
  if (path === undefined) return undefined
  return fqdn([...path].reverse().join('.'))
}

/** Strips `count` leading labels (skydns's `targetstrip`); undefined when nothing would be left. */
export function stripLabels(name: string, count: number): string | undefined {
  if (count <= 0) return name
  const labels = labelsOf(name)
  if (count >= labels.length) return undefined
  return fqdn(labels.slice(count).join('.'))
}
