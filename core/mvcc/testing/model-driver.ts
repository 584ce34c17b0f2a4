// Random operation sequences for the model-based tests: generators, and a runner that applies each
// operation to the store and to the reference model and demands identical answers.

import fc from 'fast-check'
import { expect } from 'vitest'
import { CairnError } from '../../errors.ts'
import { binaryStringToBytes, bytesToBinaryString, prefixEnd } from '../bytes.ts'
import type { ApplyRequest, Compare, DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../requests.ts'
import { compareResults, compareTargets, sortOrders, sortTargets } from '../requests.ts'
import type { MvccStore, StoreListener } from '../store.ts'
import { ReferenceModel } from './reference-model.ts'

export type ModelOp =
  | { kind: 'apply'; request: ApplyRequest }
  | { kind: 'range'; request: RangeRequest }
  | { kind: 'history'; from: number; maxEvents: number }
  | { kind: 'replay' }
  | { kind: 'reopen' }

const keyTexts = ['a', 'ab', 'b', 'ba', 'c', 'd', '\u00ff', 'a\u0000']
const keys = keyTexts.map(binaryStringToBytes)
const keyArb = fc.constantFrom(...keys)
const valueArb = fc.constantFrom('', 'x', 'y', 'zz', '\u0080').map(binaryStringToBytes)
const rangeEndArb = fc.oneof(
  fc.constant(undefined),
  fc.constant(new Uint8Array([0])),
  keyArb,
  keyArb.map((k) => prefixEnd(k)),
)
const revisionArb = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 14 }))
const leaseArb = fc.oneof({ weight: 2, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 3 }) })

/** Drops undefined fields (exactOptionalPropertyTypes: absent, not undefined). */
function compact<R>(value: object): R {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as R
}

/** Absent a fifth of the time. */
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
/** Absent most of the time. */
const rarely = <T>(arb: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb })

const putArb = fc
  .record({
    key: keyArb,
    value: fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 5, arbitrary: valueArb }),
    lease: maybe(leaseArb),
    prevKv: maybe(fc.boolean()),
    ignoreValue: rarely(fc.constant(true)),
    ignoreLease: rarely(fc.constant(true)),
  })
  .map((r) => compact<PutRequest>(r))

const deleteArb = fc
  .record({ key: keyArb, rangeEnd: rangeEndArb, prevKv: maybe(fc.boolean()) })
  .map((r) => compact<DeleteRangeRequest>(r))

const wideRangeEndArb = fc.oneof(
  { weight: 1, arbitrary: rangeEndArb },
  { weight: 1, arbitrary: fc.constant(new Uint8Array([0])) },
)

export const rangeArb: fc.Arbitrary<RangeRequest> = fc
  .record({
    key: keyArb,
    rangeEnd: wideRangeEndArb,
    limit: maybe(fc.integer({ min: 0, max: 3 })),
    revision: maybe(revisionArb),
    sortOrder: maybe(fc.constantFrom(...sortOrders)),
    sortTarget: maybe(fc.constantFrom(...sortTargets)),
    keysOnly: maybe(fc.boolean()),
    countOnly: rarely(fc.constant(true)),
    minModRevision: rarely(fc.integer({ min: 0, max: 12 })),
    maxModRevision: rarely(fc.integer({ min: 0, max: 12 })),
    minCreateRevision: rarely(fc.integer({ min: 0, max: 12 })),
    maxCreateRevision: rarely(fc.integer({ min: 0, max: 12 })),
  })
  .map((r) => compact<RangeRequest>(r))

const compareArb: fc.Arbitrary<Compare> = fc
  .record({
    result: fc.constantFrom(...compareResults),
    target: fc.constantFrom(...compareTargets),
    key: keyArb,
    rangeEnd: rarely(rangeEndArb),
    version: fc.integer({ min: 0, max: 3 }),
    createRevision: fc.integer({ min: 0, max: 15 }),
    modRevision: fc.integer({ min: 0, max: 15 }),
    value: valueArb,
    lease: fc.integer({ min: 0, max: 4 }),
  })
  .map((c) => compact<Compare>(c))

const { txn: txnArb } = fc.letrec<{ txn: TxnRequest; op: RequestOp }>((tie) => ({
  txn: fc.record({
    compare: fc.array(compareArb, { maxLength: 3 }),
    success: fc.array(tie('op'), { maxLength: 3 }),
    failure: fc.array(tie('op'), { maxLength: 3 }),
  }),
  op: fc.oneof(
    { maxDepth: 2, depthIdentifier: 'txn' },
    putArb.map((requestPut) => ({ requestPut })),
    deleteArb.map((requestDeleteRange) => ({ requestDeleteRange })),
    rangeArb.map((requestRange) => ({ requestRange })),
    tie('txn').map((requestTxn) => ({ requestTxn })),
  ),
}))

export const applyArb: fc.Arbitrary<ApplyRequest> = fc.oneof(
  { weight: 6, arbitrary: putArb.map((put) => ({ put })) },
  { weight: 1, arbitrary: deleteArb.map((deleteRange) => ({ deleteRange })) },
  { weight: 3, arbitrary: txnArb.map((txn) => ({ txn })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 10 }).map((revision) => ({ compaction: { revision } })) },
  {
    weight: 2,
    arbitrary: fc.record({ id: fc.integer({ min: 1, max: 3 }), ttl: fc.integer({ min: 0, max: 5 }) }).map((leaseGrant) => ({ leaseGrant })),
  },
  { weight: 2, arbitrary: fc.integer({ min: 1, max: 4 }).map((id) => ({ leaseRevoke: { id } })) },
)

export function modelOpArb(options: { reopen: boolean }): fc.Arbitrary<ModelOp> {
  const ops: Array<fc.WeightedArbitrary<ModelOp>> = [
    { weight: 10, arbitrary: applyArb.map((request) => ({ kind: 'apply' as const, request })) },
    { weight: 4, arbitrary: rangeArb.map((request) => ({ kind: 'range' as const, request })) },
    {
      weight: 1,
      arbitrary: fc
        .record({ from: fc.integer({ min: 0, max: 16 }), maxEvents: fc.integer({ min: 1, max: 5 }) })
        .map(({ from, maxEvents }) => ({ kind: 'history' as const, from, maxEvents })),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'replay' as const }) },
  ]
  if (options.reopen) ops.push({ weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) })
  return fc.oneof(...ops)
}

/** Plain data for comparison: bytes become strings, absent and undefined fields are the same. */
export function normalize(value: unknown): unknown {
  if (value instanceof Uint8Array) return `b:${bytesToBinaryString(value)}`
  if (Array.isArray(value)) return value.map(normalize)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, unknown>)[key]
      if (field !== undefined) out[key] = normalize(field)
    }
    return out
  }
  return value
}

async function rangeOutcome(store: MvccStore, request: RangeRequest): Promise<unknown> {
  try {
    const whole = normalize(await store.range(request))
    const stream = await store.rangeStream(request)
    const kvs: unknown[] = []
    for await (const kv of stream.kvs) kvs.push(kv)
    expect(normalize({ header: stream.header, kvs, ...stream.summary() }), 'rangeStream agrees with range').toEqual(whole)
    return whole
  } catch (error) {
    if (error instanceof CairnError) return { code: error.code }
    throw error
  }
}

export interface ModelHarness {
  store(): MvccStore
  reopen?(): Promise<void>
}

/** Runs `ops` against the store and a fresh model, comparing every answer. */
export async function runModel(ops: ModelOp[], harness: ModelHarness): Promise<void> {
  const model = new ReferenceModel()
  let index = 0
  for (const [step, op] of ops.entries()) {
    const where = `step ${step}: ${JSON.stringify(normalize(op))}`
    const store = harness.store()
    if (op.kind === 'apply') {
      index++
      const outcome = await store.apply(index, op.request)
      const actual = outcome.status === 'refused' ? { status: 'refused', code: outcome.error.code } : normalize(outcome)
      const expected = model.apply(index, op.request)
      expect(actual, where).toEqual(normalize(expected))
    } else if (op.kind === 'range') {
      expect(await rangeOutcome(store, op.request), where).toEqual(normalize(model.range(op.request)))
    } else if (op.kind === 'history') {
      await checkHistory(store, model, op.from, op.maxEvents, where)
    } else if (op.kind === 'replay') {
      if (index > 0) expect((await store.apply(index, { put: { key: keys[0]!, value: keys[1]! } })).status, where).toBe('skipped')
    } else {
      await harness.reopen?.()
    }
    const current = harness.store()
    expect(current.currentRevision(), where).toBe(model.revision)
    expect(current.compactRevision(), where).toBe(model.compactRevision)
    expect(current.appliedIndex(), where).toBe(index)
  }
  // Whole keyspace and lease table agree at the end.
  const store = harness.store()
  expect(await rangeOutcome(store, { key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) })).toEqual(
    normalize(model.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) })),
  )
  const leases = (await store.leases()).leases.map(({ id, ttl }) => [id, ttl])
  expect(leases).toEqual([...model.leases.entries()].sort((a, b) => a[0] - b[0]))
}

/** Reads history in steps of maxEvents and compares it, revision by revision, with the model. */
async function checkHistory(store: MvccStore, model: ReferenceModel, from: number, maxEvents: number, where: string): Promise<void> {
  const expected = model.historyFrom(from)
  const actual: unknown[] = []
  let next = from
  try {
    for (;;) {
      const read = await store.readHistory(next, maxEvents)
      actual.push(...read.revisions)
      if (read.throughRevision >= store.currentRevision()) break
      next = read.throughRevision + 1
    }
  } catch (error) {
    if (!(error instanceof CairnError)) throw error
    expect({ code: error.code }, where).toEqual(expected)
    return
  }
  expect(normalize(actual), where).toEqual(normalize(expected))
}

/** A store's whole state as hex (its snapshot stream), to compare two stores byte for byte. */
export async function snapshotHex(store: MvccStore): Promise<string> {
  const snap = await store.snapshot()
  const parts: Buffer[] = []
  for await (const c of snap.chunks) parts.push(Buffer.from(c))
  return Buffer.concat(parts).toString('hex')
}

/** Every revision and compaction the store announces from now on, normalized for comparison. */
export function recordEvents(store: MvccStore): unknown[] {
  const seen: unknown[] = []
  const listener: StoreListener = { onRevision: (b) => seen.push(normalize(b)), onCompact: (r) => seen.push({ compact: r }) }
  store.subscribe(listener)
  return seen
}
