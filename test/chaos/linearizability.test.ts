import { describe, expect, it } from 'vitest'
import { Prng } from '../sim/prng.ts'
import { check } from './linearizability.ts'
import { registerModel } from './models.ts'
import type { RegisterInput, RegisterOp, RegisterOutput } from './models.ts'

let nextId = 0
function op(call: number, ret: number, input: RegisterInput, output: RegisterOutput | undefined, client = 0): RegisterOp {
  return { id: nextId++, client, input, output, call, ret: output === undefined ? Infinity : ret }
}
const w = (key: string, value: number) => ({ key, kind: 'write' as const, value })
const r = (key: string) => ({ key, kind: 'read' as const })
const cas = (key: string, from: number, to: number) => ({ key, kind: 'cas' as const, from, to })
const read = (value: number | null) => ({ kind: 'read' as const, value })
const wrote = { kind: 'write' as const }
const swapped = (ok: boolean) => ({ kind: 'cas' as const, ok })

const verdict = (h: RegisterOp[]) => check(registerModel, h).verdict

describe('check() on register histories', () => {
  it('accepts the empty history and a sequential one', () => {
    expect(verdict([])).toBe('linearizable')
    expect(verdict([op(0, 1, w('a', 1), wrote), op(2, 3, r('a'), read(1)), op(4, 5, cas('a', 1, 2), swapped(true)), op(6, 7, r('a'), read(2))])).toBe(
      'linearizable',
    )
  })

  it('refuses a stale read after a completed write', () => {
    expect(verdict([op(0, 1, w('a', 1), wrote), op(2, 3, r('a'), read(null))])).toBe('not-linearizable')
  })

  it('accepts reads concurrent with a write seeing either value', () => {
    expect(verdict([op(0, 10, w('a', 1), wrote), op(1, 2, r('a'), read(null)), op(3, 4, r('a'), read(1)), op(5, 6, r('a'), read(1))])).toBe(
      'linearizable',
    )
  })

  it('refuses a new value followed by the old one during one write (no going back)', () => {
    expect(verdict([op(0, 10, w('a', 1), wrote), op(1, 2, r('a'), read(1)), op(3, 4, r('a'), read(null))])).toBe('not-linearizable')
  })

  it('lets a timed-out write take effect at any later time, or never', () => {
    const base = [op(0, 1, w('a', 1), wrote), op(2, 0, w('a', 2), undefined), op(3, 4, r('a'), read(1))]
    expect(verdict([...base, op(100, 101, r('a'), read(2)), op(102, 103, r('a'), read(2))])).toBe('linearizable')
    expect(verdict([...base, op(100, 101, r('a'), read(1))])).toBe('linearizable')
    // …but only once: seen, then gone with no other write, is a violation.
    expect(verdict([...base, op(100, 101, r('a'), read(2)), op(102, 103, r('a'), read(1))])).toBe('not-linearizable')
  })

  it('refuses a timed-out write that would have to take effect twice', () => {
    const h = [
      op(0, 1, w('a', 1), wrote),
      op(2, 0, w('a', 2), undefined),
      op(10, 11, r('a'), read(2)),
      op(20, 21, w('a', 3), wrote),
      op(22, 23, r('a'), read(2)),
    ]
    expect(verdict(h)).toBe('not-linearizable')
  })

  it('checks compare-and-swap outcomes against the value', () => {
    expect(verdict([op(0, 1, w('a', 1), wrote), op(2, 3, cas('a', 1, 2), swapped(false))])).toBe('not-linearizable')
    expect(verdict([op(0, 1, w('a', 1), wrote), op(2, 3, cas('a', 5, 2), swapped(true))])).toBe('not-linearizable')
    expect(verdict([op(0, 1, w('a', 1), wrote), op(2, 3, cas('a', 5, 2), swapped(false)), op(4, 5, r('a'), read(1))])).toBe('linearizable')
  })

  it('lets a timed-out compare-and-swap apply only where the value matched', () => {
    const h = [op(0, 1, w('a', 1), wrote), op(2, 0, cas('a', 1, 2), undefined)]
    expect(verdict([...h, op(5, 6, r('a'), read(2))])).toBe('linearizable')
    // After 3 is written the swap from 1 can no longer match, and before it 3 would overwrite it.
    expect(verdict([...h, op(5, 6, w('a', 3), wrote), op(7, 8, r('a'), read(2))])).toBe('not-linearizable')
  })

  it('checks keys independently and reports a window of the failing key only', () => {
    const h: RegisterOp[] = []
    for (let i = 0; i < 50; i++) h.push(op(i * 10, i * 10 + 5, w('a', i + 1), wrote), op(i * 10 + 6, i * 10 + 8, r('b'), read(null)))
    h.push(op(1000, 1001, w('b', 7), wrote), op(1002, 1003, r('b'), read(null)))
    const result = check(registerModel, h)
    expect(result.verdict).toBe('not-linearizable')
    expect(result.parts).toBe(2)
    expect(result.window!.every((o) => o.input.key === 'b')).toBe(true)
    expect(result.window!.length).toBeLessThanOrEqual(3)
    expect(result.window!.map((o) => o.call)).toContain(1002)
  })

  it('finds the smallest failing window after a long linearizable prefix', () => {
    const h: RegisterOp[] = []
    for (let i = 1; i <= 200; i++) h.push(op(i * 10, i * 10 + 4, w('a', i), wrote), op(i * 10 + 5, i * 10 + 9, r('a'), read(i)))
    h.push(op(3000, 3001, r('a'), read(150))) // a stale read, far behind
    const result = check(registerModel, h)
    expect(result.verdict).toBe('not-linearizable')
    expect(result.window!.length).toBeLessThanOrEqual(3)
    expect(result.window!.at(-1)!.call).toBe(3000)
  })

  it("answers 'unknown' when the step budget runs out", () => {
    const h: RegisterOp[] = []
    for (let i = 0; i < 12; i++) h.push(op(0, 0, w('a', i), undefined))
    h.push(op(1, 2, r('a'), read(99)))
    expect(check(registerModel, h, 50).verdict).toBe('unknown')
    expect(check(registerModel, h).verdict).toBe('not-linearizable')
  })

  it('accepts random histories generated from a real linearization, and catches a corrupted read', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const prng = new Prng(seed)
      const h = randomHistory(prng, 120)
      expect(verdict(h), `seed ${seed}`).toBe('linearizable')
      // Corrupt one completed read to a value nobody wrote.
      const reads = h.filter((o) => o.input.kind === 'read' && o.output !== undefined)
      const victim = prng.pick(reads)
      const corrupted = h.map((o) => (o === victim ? { ...o, output: read(-1) } : o))
      expect(verdict(corrupted), `seed ${seed} corrupted`).toBe('not-linearizable')
    }
  })
})

/**
 * Operations of 4 clients on 2 keys, each applied atomically at a random instant inside its own
 * [call, ret] interval; some outcomes are then forgotten (timed out).
 */
function randomHistory(prng: Prng, count: number): RegisterOp[] {
  const values = new Map<string, number | null>([
    ['a', null],
    ['b', null],
  ])
  const planned: Array<{ at: number; call: number; ret: number; input: RegisterInput; client: number }> = []
  const clientFree = [0, 0, 0, 0]
  let next = 1
  for (let i = 0; i < count; i++) {
    const client = prng.int(0, 3)
    const call = clientFree[client]! + prng.int(0, 5)
    const ret = call + prng.int(1, 30)
    clientFree[client] = ret + 1
    const key = prng.pick(['a', 'b'])
    const kind = prng.int(0, 2)
    const input: RegisterInput = kind === 0 ? r(key) : kind === 1 ? w(key, next++) : cas(key, prng.int(1, Math.max(1, next - 1)), next++)
    planned.push({ at: prng.int(call, ret) + prng.float() * 0.5, call, ret, input, client })
  }
  const out: RegisterOp[] = []
  for (const p of [...planned].sort((x, y) => x.at - y.at)) {
    const cur = values.get(p.input.key)!
    let output: RegisterOutput
    if (p.input.kind === 'read') output = read(cur)
    else if (p.input.kind === 'write') {
      values.set(p.input.key, p.input.value)
      output = wrote
    } else {
      const ok = cur === p.input.from
      if (ok) values.set(p.input.key, p.input.to)
      output = swapped(ok)
    }
    const forget = p.input.kind !== 'read' && prng.chance(0.1)
    out.push(op(p.call, p.ret, p.input, forget ? undefined : output, p.client))
  }
  return out
}
