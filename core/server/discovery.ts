// Bootstrapping through etcd's v2 discovery protocol: every new member registers itself under a
// discovery URL (a v2 directory on some etcd or Cairn cluster) and waits until the expected number of
// members have registered; the first N registrations, in creation order, form the cluster.
//
//   GET  <url>/_config/size                    how many members the cluster should have
//   PUT  <url>/<member id>?prevExist=false     value: name=peerURL[,name=peerURL…]
//   GET  <url>?recursive=true [&wait=true&waitIndex=N]   until N registrations exist

import { ConfigError } from './options.ts'
import type { Fetch, FetchInit } from '../tls/fetch.ts'

export interface DiscoveryOptions {
  url: string
  name: string
  memberIdHex: string
  peerUrls: string[]
  /** Gives up after this long (the cluster never filled). */
  timeoutMs?: number
  log?: (msg: string) => void
  /** How to reach the discovery URL (an https one needs our CA and certificate). Default: global fetch. */
  fetch?: Fetch
}

interface V2Node {
  key?: string
  value?: string
  dir?: boolean
  createdIndex?: number
  nodes?: V2Node[]
}

export const DISCOVERY_BACKOFF_MS_MAX = 5_000

async function v2(
  get: Fetch,
  url: string,
  init?: FetchInit & { timeoutMs?: number },
): Promise<{ status: number; body: { node?: V2Node; errorCode?: number; message?: string }; index: number }> {
  const { timeoutMs, ...rest } = init ?? {}
  const res = await get(url, { ...rest, signal: AbortSignal.timeout(timeoutMs ?? 10_000) })
  const text = await res.text()
  let body: { node?: V2Node; errorCode?: number; message?: string } = {}
  try {
    body = text ? (JSON.parse(text) as typeof body) : {}
  } catch {
    throw new Error(`discovery service answered HTTP ${res.status} with something that is not JSON`)
  }
  return { status: res.status, body, index: Number(res.headers.get('x-etcd-index') ?? 0) }
}

/** Retries `step` with capped exponential backoff on network and 5xx errors; ConfigErrors end it. */
async function withBackoff<T>(what: string, deadline: number, step: () => Promise<T>, log?: (m: string) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step()
    } catch (e) {
      if (e instanceof ConfigError) throw e
      if (Date.now() > deadline) throw new ConfigError(`discovery: ${what} failed: ${(e as Error).message}`)
      const delay = Math.min(DISCOVERY_BACKOFF_MS_MAX, 100 * 2 ** attempt) * (0.5 + Math.random() / 2)
      log?.(`discovery: ${what} failed (${(e as Error).message}); retrying in ${Math.round(delay)} ms`)
      await new Promise((r) => setTimeout(r, delay))
    }
  }
}

/** Registers this member and returns the initial cluster (`name=url,…`) once it is complete. */
export async function discoverInitialCluster(opts: DiscoveryOptions): Promise<string> {
  const base = opts.url.replace(/\/+$/, '')
  const get = opts.fetch ?? ((url: string, init?: FetchInit) => fetch(url, init))
  const deadline = Date.now() + (opts.timeoutMs ?? 10 * 60_000)
  const size = await withBackoff('reading the cluster size', deadline, async () => {
    const r = await v2(get, `${base}/_config/size`)
    if (r.status === 404) throw new ConfigError(`discovery: ${base} has no _config/size (create the token with \`cairn discovery new --size N\`)`)
    if (r.status >= 500) throw new Error(`HTTP ${r.status}`)
    const n = Number(r.body.node?.value)
    if (!Number.isInteger(n) || n < 1) throw new ConfigError(`discovery: _config/size is ${JSON.stringify(r.body.node?.value)}, not a positive integer`)
    return n
  }, opts.log)
  const value = opts.peerUrls.map((u) => `${opts.name}=${u}`).join(',')
  await withBackoff('registering', deadline, async () => {
    const r = await v2(get, `${base}/${opts.memberIdHex}?prevExist=false`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `value=${encodeURIComponent(value)}`,
    })
    if (r.status === 412) {
      // Already registered: fine if it was us (a restart during bootstrap), else a duplicate ID.
      const mine = await v2(get, `${base}/${opts.memberIdHex}`)
      if (mine.body.node?.value === value) return
      throw new ConfigError(`discovery: member ID ${opts.memberIdHex} is already registered by someone else`)
    }
    if (r.status >= 300) throw new Error(`HTTP ${r.status} ${r.body.message ?? ''}`)
  }, opts.log)
  let waitIndex = 0
  for (;;) {
    const r = await withBackoff('waiting for members', deadline, async () => {
      const url = waitIndex > 0 ? `${base}?recursive=true&wait=true&waitIndex=${waitIndex}` : `${base}?recursive=true`
      const res = await v2(get, url, { timeoutMs: 60_000 })
      if (res.status >= 300) throw new Error(`HTTP ${res.status} ${res.body.message ?? ''}`)
      return res
    }, opts.log)
    const listing = waitIndex > 0 ? await v2(get, `${base}?recursive=true`) : r
    const registered = (listing.body.node?.nodes ?? [])
      .filter((n) => !n.dir && n.key !== undefined && !n.key.endsWith('/_config') && typeof n.value === 'string')
      .sort((a, b) => (a.createdIndex ?? 0) - (b.createdIndex ?? 0))
    if (registered.length >= size) {
      const chosen = registered.slice(0, size)
      if (!chosen.some((n) => n.key!.endsWith(`/${opts.memberIdHex}`))) {
        throw new ConfigError(`discovery: cluster is full (${size} members registered before this one)`)
      }
      return chosen.map((n) => n.value!).join(',')
    }
    opts.log?.(`discovery: ${registered.length} of ${size} members registered; waiting`)
    waitIndex = Math.max(listing.index, r.index) + 1
    if (Date.now() > deadline) throw new ConfigError(`discovery: only ${registered.length} of ${size} members registered in time`)
  }
}
