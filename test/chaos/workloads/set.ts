// set: clients append unique elements to one key by compare-and-swap on its mod revision. Checks:
// every acknowledged element is in the final value on every member; nothing appears that nobody added,
// nor twice; every value read during the run is a prefix of the final value (the list only ever grows);
// and a read never misses an element whose append was acknowledged before the read began (stale read).

import { sleep } from '../../cluster/harness.ts'
import { b64, unb64 } from '../http.ts'
import type { RangeAnswer, TxnAnswer } from '../http.ts'
import { answeredByEach, Client, emptyResult, newCounts } from '../workload.ts'
import type { RunContext, Workload, WorkloadResult } from '../workload.ts'

const KEY = b64('set')
const ATTEMPTS_MAX = 10

interface ObservedRead {
  call: number
  ret: number
  elements: number[]
  member: number
}

export class SetWorkload implements Workload {
  readonly name = 'set'
  readonly counts = newCounts()
  private next = 0
  /** Element → when its append was acknowledged (ms into the run). */
  readonly acked = new Map<number, number>()
  readonly attempted = new Set<number>()
  readonly indeterminate = new Set<number>()
  readonly reads: ObservedRead[] = []

  constructor(private readonly o: { clients: number }) {}

  async run(ctx: RunContext): Promise<void> {
    await Promise.all([...Array(this.o.clients).keys()].map((i) => this.client(ctx, new Client(ctx, i, this.counts))))
  }

  private async client(ctx: RunContext, c: Client): Promise<void> {
    for (let n = 0; n < 1_000_000 && !ctx.stopping(); n++) {
      const element = this.next++
      await this.append(ctx, c, element)
      await sleep(ctx.prng.int(0, 10))
    }
  }

  private async append(ctx: RunContext, c: Client, element: number): Promise<void> {
    for (let attempt = 0; attempt < ATTEMPTS_MAX && !ctx.stopping(); attempt++) {
      const member = c.memberIndex
      const read = await c.request<RangeAnswer>('/v3/kv/range', { key: KEY })
      if (read.type !== 'ok') {
        await sleep(50)
        continue
      }
      const kv = read.value.kvs?.[0]
      const text = kv ? unb64(kv.value) : ''
      this.reads.push({ call: read.call, ret: read.ret, elements: parse(text), member })
      const compare = kv
        ? { key: KEY, target: 'MOD', result: 'EQUAL', mod_revision: kv.mod_revision }
        : { key: KEY, target: 'CREATE', result: 'EQUAL', create_revision: '0' }
      this.attempted.add(element)
      const txn = await c.request<TxnAnswer>('/v3/kv/txn', {
        compare: [compare],
        success: [{ request_put: { key: KEY, value: b64(text ? `${text} ${element}` : String(element)) } }],
      })
      if (txn.type === 'ok' && txn.value.succeeded) {
        this.acked.set(element, txn.ret)
        return
      }
      if (txn.type === 'indeterminate') {
        this.indeterminate.add(element)
        return
      }
      await sleep(ctx.prng.int(0, 20))
    }
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    const answers = await answeredByEach<RangeAnswer>(ctx, '/v3/kv/range', { key: KEY })
    const finals: Array<{ member: string; elements: number[] }> = []
    for (const { member, answer } of answers) {
      if (!answer) result.warnings.push(`set: ${member} did not answer the final read`)
      else finals.push({ member, elements: parse(unb64(answer.kvs?.[0]?.value)) })
    }
    const reference = finals[0]
    if (!reference) {
      result.linearizable = 'unknown'
      result.warnings.push('set: no final value could be read')
      return result
    }
    for (const f of finals) {
      if (f.elements.join(' ') !== reference.elements.join(' ')) {
        result.linearizable = false
        result.problems.push(`set: replicas diverged: ${reference.member} has ${reference.elements.length} elements, ${f.member} has ${f.elements.length}`)
      }
    }
    const lost = new Set<number>()
    for (const f of finals) {
      const have = new Set(f.elements)
      const missing = [...this.acked.keys()].filter((e) => !have.has(e))
      for (const e of missing) lost.add(e)
      if (missing.length > 0) result.problems.push(`set: ${f.member} misses ${missing.length} acknowledged elements: ${missing.slice(0, 20).join(' ')}`)
      const seen = new Set<number>()
      const dups = f.elements.filter((e) => (seen.has(e) ? true : (seen.add(e), false)))
      if (dups.length > 0) result.problems.push(`set: ${f.member} has duplicate elements: ${dups.slice(0, 20).join(' ')}`)
      const phantom = f.elements.filter((e) => !this.attempted.has(e))
      if (phantom.length > 0) result.problems.push(`set: ${f.member} has elements nobody added: ${phantom.slice(0, 20).join(' ')}`)
      if (dups.length > 0 || phantom.length > 0) result.linearizable = false
    }
    result.lost = lost.size
    this.checkReads(result, reference.elements)
    result.notes.push(
      `set: ${this.attempted.size} elements attempted, ${this.acked.size} acknowledged, ${this.indeterminate.size} indeterminate, ` +
        `${reference.elements.length} in the final value, ${this.reads.length} reads`,
    )
    return result
  }

  /** Every read is a prefix of the final value and contains every element acknowledged before it began. */
  private checkReads(result: WorkloadResult, final: number[]): void {
    const finalText = final.join(' ')
    const diverged = this.reads.filter((r) => r.elements.length > 0 && !(finalText + ' ').startsWith(r.elements.join(' ') + ' '))
    if (diverged.length > 0) {
      result.linearizable = false
      const r = diverged[0]!
      result.problems.push(
        `set: ${diverged.length} reads saw a value that is not a prefix of the final one (an append was later undone), e.g. ` +
          `at [${r.call.toFixed(1)}, ${r.ret.toFixed(1)}] ms via n${r.member + 1}: …${r.elements.slice(-5).join(' ')}`,
      )
    }
    // A read that is a prefix of the final value holds exactly its first L elements; it is stale when an
    // element acknowledged before it began sits at position L or later.
    const position = new Map(final.map((e, i) => [e, i]))
    const ackedByTime = [...this.acked].filter(([e]) => position.has(e)).sort((a, b) => a[1] - b[1])
    const maxPosition: number[] = []
    for (const [e] of ackedByTime) maxPosition.push(Math.max(maxPosition.at(-1) ?? -1, position.get(e)!))
    let stale = 0
    let example = ''
    const skip = new Set(diverged)
    for (const r of this.reads) {
      if (skip.has(r)) continue
      let lo = 0
      let hi = ackedByTime.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (ackedByTime[mid]![1] < r.call) lo = mid + 1
        else hi = mid
      }
      if (lo === 0 || maxPosition[lo - 1]! < r.elements.length) continue
      stale++
      if (!example) {
        const [e, at] = ackedByTime.slice(0, lo).find(([x]) => position.get(x)! >= r.elements.length)!
        example = `read at [${r.call.toFixed(1)}, ${r.ret.toFixed(1)}] ms via n${r.member + 1} lacks element ${e}, acknowledged at ${at.toFixed(1)} ms`
      }
    }
    if (stale > 0) {
      result.linearizable = false
      result.problems.push(`set: ${stale} stale reads (missing elements acknowledged before the read began), e.g. ${example}`)
    }
  }
}

function parse(text: string): number[] {
  return text.trim() === '' ? [] : text.trim().split(' ').map(Number)
}
