// ledger: beside every workload, a few clients write keys ledger/0, ledger/1, … one write at a time.
// The first writes through the leader (looking it up again after a failure and every few writes), as a
// leader-aware client does: a leader's own proposals under light load are where an acknowledgement sent
// too early is most exposed. The others stay with one member each. At the end every acknowledged key
// must be on every member: the plainest measure of acknowledged writes lost.

import { sleep } from '../../cluster/harness.ts'
import { b64, prefixEnd, unb64 } from '../http.ts'
import type { PutAnswer, RangeAnswer } from '../http.ts'
import { answeredByEach, Client, emptyResult } from '../workload.ts'
import type { OpCounts, RunContext, WorkloadResult } from '../workload.ts'

export class Ledger {
  readonly acked: number[] = []
  private next = 0

  constructor(
    private readonly counts: OpCounts,
    private readonly writers: number,
  ) {}

  async run(ctx: RunContext, thinkMs: number): Promise<void> {
    await Promise.all([...Array(this.writers).keys()].map((i) => this.writer(ctx, new Client(ctx, i, this.counts), thinkMs, i === 0)))
  }

  private async writer(ctx: RunContext, c: Client, thinkMs: number, followLeader: boolean): Promise<void> {
    let lookup = true
    for (let i = 0; i < 1_000_000 && !ctx.stopping(); i++) {
      if (followLeader && (lookup || i % 20 === 0)) {
        const leader = await ctx.cluster.leader(300)
        if (leader !== undefined) c.moveTo(leader)
      }
      const n = this.next++
      const r = await c.request<PutAnswer>('/v3/kv/put', { key: b64(`ledger/${n}`), value: b64(String(n)) })
      if (r.type === 'ok') {
        this.acked.push(n)
        if (followLeader) ctx.acks.notify(c.memberIndex)
      }
      lookup = r.type !== 'ok'
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
