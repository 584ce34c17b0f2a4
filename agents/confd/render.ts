// Rendering one resource from a snapshot of its keys: the store confd builds (prefix cut off, keys as
// "/paths"), confd's functions over it, and the template file parsed as confd parses it (named after
// its file). DNS lookups are asynchronous in Node: a render that asks for an unknown name records it,
// the names are resolved, and the (pure) render runs again with the answers, a bounded number of times.

import { promises as dns } from 'node:dns'
import { existsSync, readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { confdFuncs, KVStore, LookupCache, Template } from '../../recipes/template/index.ts'
import type { ConfdEnvironment, SrvAnswer } from '../../recipes/template/index.ts'
import type { Clock } from './clock.ts'
import type { Resource } from './resource.ts'
import type { Snapshot } from './source.ts'

/** Renders that may each add lookups before the answer must be complete. */
export const LOOKUP_ROUNDS_MAX = 8
const LOOKUP_TIMEOUT_MS = 5000

export interface Resolver {
  lookupIP(host: string): Promise<string[]>
  lookupSRV(service: string, proto: string, name: string): Promise<SrvAnswer[]>
}

function withTimeout<T>(p: Promise<T>, fallback: T): Promise<T> {
  return Promise.race([p, new Promise<T>((resolve) => setTimeout(() => resolve(fallback), LOOKUP_TIMEOUT_MS).unref())])
}

/** The system resolver; a failed lookup answers nothing (as confd's lookup functions do). */
export const systemResolver: Resolver = {
  async lookupIP(host) {
    return withTimeout(
      dns.lookup(host, { all: true }).then((r) => r.map((a) => a.address), () => []),
      [],
    )
  },
  async lookupSRV(service, proto, name) {
    const q = service === '' && proto === '' ? name : `_${service}._${proto}.${name}`
    return withTimeout(
      dns.resolveSrv(q).then((r) => r.map((a) => ({ target: a.name.endsWith('.') ? a.name : a.name + '.', port: a.port, priority: a.priority, weight: a.weight })), () => []),
      [],
    )
  },
}

export interface RenderDeps {
  clock: Clock
  resolver: Resolver
  getenv: (name: string) => string | undefined
  fileExists: (path: string) => boolean
}

export const processDeps = (clock: Clock, resolver: Resolver = systemResolver): RenderDeps => ({
  clock,
  resolver,
  getenv: (n) => process.env[n],
  fileExists: (p) => {
    try {
      return existsSync(p)
    } catch {
      return true
    }
  },
})

export class MissingTemplateError extends Error {}

/** The text of a resource's template rendered against a snapshot of its keys. */
export async function renderResource(r: Resource, snap: Snapshot, deps: RenderDeps): Promise<string> {
  let text: string
  try {
    text = readFileSync(r.src, 'utf8')
  } catch {
    throw new MissingTemplateError(`Missing template: ${r.src}`)
  }
  const store = KVStore.fromPrefixed(snap.kvs, r.prefix)
  const cache = new LookupCache()
  const env: ConfdEnvironment = {
    getenv: deps.getenv,
    nowMs: () => deps.clock.now(),
    fileExists: deps.fileExists,
    lookupIP: (h) => cache.lookupIP(h),
    lookupSRV: (s, p, n) => cache.lookupSRV(s, p, n),
  }
  const template = Template.parse(basename(r.src), text, confdFuncs(store, env))
  for (let round = 0; ; round++) {
    cache.clearPending()
    const out = template.execute(undefined, { missingKey: r.missingKey })
    if (!cache.hasPending) return out
    if (round >= LOOKUP_ROUNDS_MAX) throw new Error(`${r.src}: lookups still unresolved after ${LOOKUP_ROUNDS_MAX} renders`)
    await Promise.all([
      ...[...cache.pendingIps].map(async (h) => cache.ips.set(h, await deps.resolver.lookupIP(h))),
      ...[...cache.pendingSrvs].map(async ([key, [s, p, n]]) => cache.srvs.set(key, await deps.resolver.lookupSRV(s, p, n))),
    ])
  }
}
