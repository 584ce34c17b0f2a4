// register: reads, writes and compare-and-swaps on a few keys, every written value unique. Checked
// with the linearizability checker per key, and across keys by revision order: a later operation (one
// that starts after another returned) never sees a smaller store revision, and every acknowledged write
// has a revision of its own.

import { sleep } from '../../cluster/harness.ts'
import { b64, revisionOf, unb64 } from '../http.ts'
import type { PutAnswer, RangeAnswer, TxnAnswer } from '../http.ts'
import { check, formatOps } from '../linearizability.ts'
import { registerModel } from '../models.ts'
import type { RegisterInput, RegisterOp, RegisterOutput } from '../models.ts'
import { Client, emptyResult, newCounts } from '../workload.ts'
import type { RunContext, Workload, WorkloadResult } from '../workload.ts'

export interface RevisionedOp {
  op: RegisterOp
  /** Store revision in the answer's header (for a write: its own revision). */
  revision: number
  mutated: boolean
}

export interface RegisterOptions {
  keys: number
  clients: number
  thinkMsMax: number
}

export class RegisterWorkload implements Workload {
  readonly name = 'register'
  readonly counts = newCounts()
  readonly history: RegisterOp[] = []
  readonly revisioned: RevisionedOp[] = []
  private nextValue = 1
  private nextOpId = 0
  private readonly lastSeen = new Map<string, number>()

  constructor(private readonly o: RegisterOptions) {}

  async run(ctx: RunContext): Promise<void> {
    await Promise.all([...Array(this.o.clients).keys()].map((i) => this.client(ctx, new Client(ctx, i, this.counts))))
  }

  private async client(ctx: RunContext, c: Client): Promise<void> {
    for (let n = 0; n < 1_000_000 && !ctx.stopping(); n++) {
      const key = `reg/${ctx.prng.int(0, this.o.keys - 1)}`
      const dice = ctx.prng.float()
      let input: RegisterInput
      if (dice < 0.5) input = { key, kind: 'read' }
      else if (dice < 0.75) input = { key, kind: 'write', value: this.nextValue++ }
      else input = { key, kind: 'cas', from: this.lastSeen.get(key) ?? this.nextValue - 1, to: this.nextValue++ }
      await this.invoke(c, input)
      if (this.o.thinkMsMax > 0) await sleep(ctx.prng.int(0, this.o.thinkMsMax))
    }
  }

  private record(c: Client, input: RegisterInput, output: RegisterOutput | undefined, callAt: number, ret: number): RegisterOp {
    const op: RegisterOp = { id: this.nextOpId++, client: c.id, input, output, call: callAt, ret: output === undefined ? Infinity : ret }
    this.history.push(op)
    return op
  }

  private async invoke(c: Client, input: RegisterInput): Promise<void> {
    const k = b64(input.key)
    if (input.kind === 'read') {
      const r = await c.request<RangeAnswer>('/v3/kv/range', { key: k })
      if (r.type !== 'ok') return // a read that did not answer tells nothing
      const kv = r.value.kvs?.[0]
      const value = kv ? Number(unb64(kv.value)) : null
      if (value !== null) this.lastSeen.set(input.key, value)
      const op = this.record(c, input, { kind: 'read', value }, r.call, r.ret)
      this.revisioned.push({ op, revision: revisionOf(r.value.header), mutated: false })
      if (kv && Number(kv.mod_revision) > revisionOf(r.value.header)) {
        this.revisioned.push({ op, revision: -1, mutated: false })
      }
      return
    }
    if (input.kind === 'write') {
      const r = await c.request<PutAnswer>('/v3/kv/put', { key: k, value: b64(String(input.value)) })
      if (r.type === 'fail') return
      const op = this.record(c, input, r.type === 'ok' ? { kind: 'write' } : undefined, r.call, r.ret)
      if (r.type === 'ok') {
        this.lastSeen.set(input.key, input.value)
        this.revisioned.push({ op, revision: revisionOf(r.value.header), mutated: true })
      }
      return
    }
    const r = await c.request<TxnAnswer>('/v3/kv/txn', {
      compare: [{ key: k, target: 'VALUE', result: 'EQUAL', value: b64(String(input.from)) }],
      success: [{ request_put: { key: k, value: b64(String(input.to)) } }],
    })
    if (r.type === 'fail') return
    const ok = r.type === 'ok' ? r.value.succeeded === true : undefined
    const op = this.record(c, input, ok === undefined ? undefined : { kind: 'cas', ok }, r.call, r.ret)
    if (r.type === 'ok') {
      if (ok) this.lastSeen.set(input.key, input.to)
      this.revisioned.push({ op, revision: revisionOf(r.value.header), mutated: ok === true })
    }
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    const started = Date.now()
    const lin = check(registerModel, this.history)
    result.notes.push(
      `register: ${this.history.length} operations on ${lin.parts} keys checked in ${Date.now() - started} ms (${lin.steps} search steps)`,
    )
    if (lin.verdict === 'unknown') {
      result.linearizable = 'unknown'
      result.warnings.push('register: the linearizability search ran out of budget on some key')
    }
    if (lin.verdict === 'not-linearizable') {
      result.linearizable = false
      result.problems.push(
        `register: history is not linearizable; smallest failing window (${lin.window?.length ?? 0} operations, ` +
          `${lin.windowFromAnyState ? 'starting from any value' : 'from the initial state'}; call → return in ms into the run, ∞ = outcome unknown):\n` +
          formatOps(registerModel, lin.window ?? []),
      )
    }
    const order = checkRevisionOrder(this.revisioned)
    if (order.length > 0) {
      result.linearizable = false
      result.problems.push(`register: ${order.length} revision-order violations, e.g.\n${order.slice(0, 5).join('\n')}`)
    }
    void ctx
    return result
  }
}

/**
 * Real-time order of revisions across all keys: if A returned before B was called, B's revision is at
 * least A's (more, if both wrote); two acknowledged writes never share a revision; a value read never
 * has a mod revision above the answer's revision (marked -1 by the client).
 */
export function checkRevisionOrder(ops: RevisionedOp[]): string[] {
  const out: string[] = []
  const describe = (r: RevisionedOp) => `${registerModel.describe(r.op)} @rev ${r.revision} [${r.op.call.toFixed(1)}, ${r.op.ret.toFixed(1)}] ms`
  for (const r of ops) if (r.revision === -1) out.push(`  mod revision above header revision: ${describe(r)}`)
  const valid = ops.filter((r) => r.revision > 0)
  const writes = new Map<number, RevisionedOp>()
  for (const r of valid) {
    if (!r.mutated) continue
    const other = writes.get(r.revision)
    if (other) out.push(`  two writes acknowledged with revision ${r.revision}: ${describe(other)} and ${describe(r)}`)
    else writes.set(r.revision, r)
  }
  // Sweep by time: the highest revision (and highest write revision) among operations already returned.
  const byRet = [...valid].sort((a, b) => a.op.ret - b.op.ret)
  const byCall = [...valid].sort((a, b) => a.op.call - b.op.call)
  let j = 0
  let maxAny: RevisionedOp | undefined
  let maxWrite: RevisionedOp | undefined
  for (const b of byCall) {
    while (j < byRet.length && byRet[j]!.op.ret < b.op.call) {
      const a = byRet[j++]!
      if (!maxAny || a.revision > maxAny.revision) maxAny = a
      if (a.mutated && (!maxWrite || a.revision > maxWrite.revision)) maxWrite = a
    }
    if (maxAny && b.revision < maxAny.revision) out.push(`  went back in time: ${describe(b)} after ${describe(maxAny)}`)
    else if (b.mutated && maxWrite && b.revision <= maxWrite.revision) out.push(`  write not after an earlier write: ${describe(b)} after ${describe(maxWrite)}`)
    if (out.length > 50) break
  }
  return out
}
