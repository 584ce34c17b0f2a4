// Writing a plan. Every transaction carries two guards:
//  - fencing: our election key still exists as created (its create revision is our token), so a
//    scheduler that was deposed without knowing it (a long pause, a partition) writes nothing;
//  - freshness: no assignment changed since the read the plan was made from (a MOD compare over the
//    whole assign prefix), so a plan is never written over a picture it did not see.
// Unassignments are written before assignments, so a replica being moved never has two keys, and a
// plan larger than one transaction is split (the server caps operations per transaction).

import type { Client, Comparison, TxnOp } from '../../core/client/index.ts'
import { compare, op, prefixEnd } from '../../core/client/index.ts'
import { encodeAssignment } from '../../recipes/work/assignment.ts'
import type { Action, JobEntry } from '../../recipes/work/decide.ts'
import { ASSIGN_PREFIX, assignKey } from '../../recipes/work/layout.ts'

/** Below the server's default of 128 operations per transaction. */
export const TXN_OPS_MAX = 100

export type WriteOutcome = { kind: 'written'; revision: number; txns: number } | { kind: 'refused'; written: number }

function opOf(a: Action, jobs: ReadonlyMap<string, JobEntry>): TxnOp {
  const key = assignKey(a.machine, a)
  if (a.kind === 'unassign') return op.delete(key)
  const job = jobs.get(a.job)
  if (job === undefined) throw new Error(`assertion: ${a.kind} of ${a.job}, which is not a job`)
  return op.put(key, encodeAssignment({ spec: job.spec, revision: job.revision }))
}

/** Writes the plan; 'refused' when a guard failed (deposed, or the picture changed): read again. */
export async function writePlan(client: Client, fence: Comparison, readRevision: number, actions: readonly Action[], jobs: ReadonlyMap<string, JobEntry>): Promise<WriteOutcome> {
  const ordered = [...actions.filter((a) => a.kind === 'unassign'), ...actions.filter((a) => a.kind !== 'unassign')]
  let since = readRevision
  let txns = 0
  for (let i = 0; i < ordered.length; i += TXN_OPS_MAX) {
    const ops = ordered.slice(i, i + TXN_OPS_MAX).map((a) => opOf(a, jobs))
    const fresh = compare.modRevision(ASSIGN_PREFIX, '<', since + 1, { end: prefixEnd(ASSIGN_PREFIX) })
    const r = await client.txn().if(fence, fresh).then(...ops).commit()
    if (!r.succeeded) return { kind: 'refused', written: i }
    // Our own writes are the only changes up to here (the fence shut out everyone else).
    since = r.header.revision
    txns++
  }
  return { kind: 'written', revision: since, txns }
}
