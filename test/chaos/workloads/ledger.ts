// ledger: beside every workload, one client per member writes keys ledger/0, ledger/1, … one write at a
// time (so one of them usually writes through the leader, with the light load under which an early
// acknowledgement is most exposed). At the end every acknowledged key must be on every member: the
// plainest measure of acknowledged writes lost.

import { sleep } from '../../cluster/harness.ts'
import { b64, prefixEnd, unb64 } from '../http.ts'
import type { PutAnswer, RangeAnswer } from '../http.ts'
import { answeredByEach, Client, emptyResult } from '../workload.ts'
import type { OpCounts, RunContext, WorkloadResult } from '../workload.ts'

export class Ledger {
  readonly acked: number[] = []
  private next = 0

  constructor(private readonly counts: OpCounts) {}

  async run(ctx: RunContext, thinkMs: number): Promise<void> {
    await Promise.all(ctx.cluster.members.map((_, i) => this.writer(ctx, new Client(ctx, i, this.counts), thinkMs)))
  }

  private async writer(ctx: RunContext, c: Client, thinkMs: number): Promise<void> {
    for (let i = 0; i < 1_000_000 && !ctx.stopping(); i++) {
      const n = this.next++
      const r = await c.request<PutAnswer>('/v3/kv/put', { key: b64(`ledger/${n}`), value: b64(String(n)) })
      if (r.type === 'ok') this.acked.push(n)
      if (thinkMs > 0) await sleep(thinkMs)
    }
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    const answers = await answeredByEach<RangeAnswer>(ctx, '/v3/kv/range', { key: b64('ledger/'), range_end: prefixEnd('ledger/'), keys_only: true })
    const lost = new Set<number>()
    for (const { member, answer } of answers) {
      if (!answer) {
        result.warnings.push(`ledger: ${member} did not answer the final read`)
        continue
      }
      const present = new Set((answer.kvs ?? []).map((kv) => unb64(kv.key)))
      const missing = this.acked.filter((n) => !present.has(`ledger/${n}`))
      for (const n of missing) lost.add(n)
      if (missing.length > 0) {
        result.problems.push(`ledger: ${member} misses ${missing.length} acknowledged writes: ${missing.slice(0, 20).map((n) => `ledger/${n}`).join(' ')}`)
      }
    }
    result.lost = lost.size
    if (lost.size > 0) result.linearizable = false
    result.notes.push(`ledger: ${this.acked.length} acknowledged writes, ${lost.size} missing on some member`)
    return result
  }
}
