// Reading a resource's keys from the cluster: every key prefix in one read-only transaction (all at
// the same revision, as confd's etcd v3 backend does), at most TXN_OPS_MAX ranges per transaction;
// later transactions are pinned to the first one's revision. Keys are matched as paths: a resource key
// `/app` covers `/app` and `/app/...`, never `/apple`.

import type { Client } from '../../core/client/index.ts'
import { op, toText } from '../../core/client/index.ts'
import { keyUnder } from './resource.ts'

/** etcd's default --max-txn-ops (Cairn's too). */
export const TXN_OPS_MAX = 128

export interface Snapshot {
  revision: number
  /** Full keys (with the prefix) and values, in key order. */
  kvs: Array<[string, string]>
}

export async function readKeys(client: Client, keys: readonly string[], timeoutMs: number): Promise<Snapshot> {
  const unique = [...new Set(keys)]
  if (unique.length === 0) {
    // No keys: only learn the revision (a watch would start after it).
    const r = await client.get('/', { keysOnly: true, limit: 1, timeoutMs })
    return { revision: r.header.revision, kvs: [] }
  }
  const found = new Map<string, string>()
  let revision = 0
  for (let i = 0; i < unique.length; i += TXN_OPS_MAX) {
    const chunk = unique.slice(i, i + TXN_OPS_MAX)
    const ops = chunk.map((k) => op.get(k, { prefix: true, ...(revision > 0 ? { revision } : {}) }))
    const r = await client.txn().then(...ops).commit({ timeoutMs })
    if (revision === 0) revision = r.header.revision
    r.responses.forEach((resp, j) => {
      if (resp.kind !== 'range') return
      const wanted = chunk[j]!
      for (const kv of resp.range.kvs) {
        const k = toText(kv.key)
        if (keyUnder(k, wanted)) found.set(k, toText(kv.value))
      }
    })
  }
  const kvs = [...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  return { revision, kvs }
}

/** What changed between two snapshots of a resource's keys (for the log). */
export interface KeyChanges {
  added: string[]
  removed: string[]
  modified: string[]
}

export function diffKeys(before: ReadonlyArray<readonly [string, string]>, after: ReadonlyArray<readonly [string, string]>): KeyChanges {
  const a = new Map(before)
  const b = new Map(after)
  const out: KeyChanges = { added: [], removed: [], modified: [] }
  for (const [k, v] of b) {
    if (!a.has(k)) out.added.push(k)
    else if (a.get(k) !== v) out.modified.push(k)
  }
  for (const k of a.keys()) if (!b.has(k)) out.removed.push(k)
  return out
}
