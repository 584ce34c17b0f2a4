// The backend quota (--quota-backend-bytes), as etcd's quota KV server applies it: before a request
// that needs space is proposed, the member checks that the keyspace (plus the request) stays under the
// quota. If it would not, the member proposes a NOSPACE alarm for itself — through the log, so every
// member applies it and refuses the same writes — and answers NoSpace. While the alarm is active,
// such requests are refused here at once (and at apply, for entries already in the log). Reads,
// deletes, compaction, lease revokes and alarm changes are never refused by the quota.

import type { Logger } from 'pino'
import { CairnError } from '../errors.ts'
import { needsSpace } from '../mvcc/index.ts'
import type { AlarmMember, ApplyRequest, RequestOp } from '../mvcc/index.ts'
import { isMemberRequest } from './entry-codec.ts'
import type { MemberRequest } from './entry-codec.ts'

/** etcd's per-put overhead in its cost estimate; requests are counted as key + value + this. */
const putOverheadBytes = 256

export interface QuotaOptions {
  quotaBytes: number
  /** The keyspace's size as the quota counts it (SpaceUsage.bytes()). */
  usedBytes: () => number
  alarms: () => AlarmMember[]
  /** Proposes this member's NOSPACE alarm and resolves once it is applied. */
  raiseAlarm: () => Promise<unknown>
  logger: Logger
}

export class BackendQuota {
  private raising: Promise<void> | undefined

  constructor(private readonly opts: QuotaOptions) {}

  /** undefined when the request may be proposed; otherwise a promise that rejects with NoSpace. */
  admit(request: ApplyRequest | MemberRequest): Promise<void> | undefined {
    if (isMemberRequest(request) || !needsSpace(request)) return undefined
    if (this.opts.alarms().some((a) => a.alarm === 'NOSPACE')) return Promise.reject(new CairnError('NoSpace'))
    const used = this.opts.usedBytes()
    if (used + requestCost(request) < this.opts.quotaBytes) return undefined
    return this.raise(used).then(() => {
      throw new CairnError('NoSpace')
    })
  }

  /** One alarm proposal at a time, however many writes find the quota full. */
  private raise(used: number): Promise<void> {
    this.raising ??= (async () => {
      this.opts.logger.warn({ usedBytes: used, quotaBytes: this.opts.quotaBytes }, 'backend quota exceeded; raising the NOSPACE alarm')
      try {
        await this.opts.raiseAlarm()
      } catch (e) {
        this.opts.logger.warn({ err: (e as Error).message }, 'could not raise the NOSPACE alarm; writes are refused meanwhile')
      } finally {
        this.raising = undefined
      }
    })()
    return this.raising
  }
}

/** Bytes a request may add: key and value of every put (on any txn branch), plus etcd's overhead. */
export function requestCost(request: ApplyRequest): number {
  if ('guarded' in request) return requestCost(request.guarded.request)
  if ('put' in request) return putOverheadBytes + (request.put.key?.length ?? 0) + (request.put.value?.length ?? 0)
  if ('txn' in request) return txnCost([...(request.txn.success ?? []), ...(request.txn.failure ?? [])])
  return putOverheadBytes
}

function txnCost(ops: RequestOp[]): number {
  let cost = 0
  for (const op of ops) {
    if ('requestPut' in op) cost += putOverheadBytes + (op.requestPut.key?.length ?? 0) + (op.requestPut.value?.length ?? 0)
    else if ('requestTxn' in op) cost += txnCost([...(op.requestTxn.success ?? []), ...(op.requestTxn.failure ?? [])])
  }
  return cost
}
