// A deliberately naive keyspace for model-based tests: the whole state after every revision kept as
// a map, everything recomputed by brute force. It shares no code with the store except request
// validation (shape checks, tested on their own) and byte comparison.

import { CairnError } from '../../errors.ts'
import { compareBytes, bytesToBinaryString, emptyBytes } from '../bytes.ts'
import type {
  ApplyRequest,
  Compare,
  PutRequest,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  TxnRequest,
} from '../requests.ts'
import type { Event, KeyValue, RevisionEvents } from '../types.ts'
import { validateApplyRequest, validateRangeRequest } from '../validate.ts'

type State = Map<string, KeyValue>

export type ModelOutcome = { status: 'applied'; response: unknown } | { status: 'refused'; code: string } | { status: 'skipped' }

class Refused extends Error {
  constructor(readonly code: string) {
    super(code)
  }
}

function inRange(key: Uint8Array, start: Uint8Array, rangeEnd: Uint8Array | undefined): boolean {
  if (rangeEnd === undefined || rangeEnd.length === 0) return compareBytes(key, start) === 0
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return compareBytes(key, start) >= 0
  return compareBytes(key, start) >= 0 && compareBytes(key, rangeEnd) < 0
}

function sortedKvs(state: State): KeyValue[] {
  return [...state.values()].sort((a, b) => compareBytes(a.key, b.key))
}

/** Mutable working copy of one entry's effect. */
class Draft {
  readonly state: State
  readonly events: Event[] = []
  constructor(
    readonly model: ReferenceModel,
    base: State,
  ) {
    this.state = new Map(base)
  }
  get visible(): number {
    return this.model.revision + (this.events.length > 0 ? 1 : 0)
  }
}

export class ReferenceModel {
  revision = 1
  compactRevision = 0
  appliedIndex = 0
  readonly states = new Map<number, State>([[1, new Map()]])
  readonly history = new Map<number, Event[]>()
  readonly leases = new Map<number, number>()

  constructor(
    private readonly txnOpsMax = 128,
    private readonly leaseTtlMin = 2,
  ) {}

  current(): State {
    return this.states.get(this.revision)!
  }

  apply(index: number, request: ApplyRequest): ModelOutcome {
    if (index <= this.appliedIndex) return { status: 'skipped' }
    this.appliedIndex = index
    try {
      validateApplyRequest(request, { txnOpsMax: this.txnOpsMax })
    } catch (error) {
      if (error instanceof CairnError) return { status: 'refused', code: error.code }
      throw error
    }
    const draft = new Draft(this, this.current())
    let response: unknown
    try {
      response = this.dispatch(draft, request)
    } catch (error) {
      if (error instanceof Refused) return { status: 'refused', code: error.code }
      throw error
    }
    if (draft.events.length > 0) {
      this.revision++
      this.states.set(this.revision, draft.state)
      this.history.set(this.revision, draft.events)
    }
    return { status: 'applied', response }
  }

  private dispatch(draft: Draft, request: ApplyRequest): unknown {
    if ('put' in request) {
      this.checkPut(draft, request.put)
      return { put: this.put(draft, request.put) }
    }
    if ('deleteRange' in request) return { deleteRange: this.deleteRange(draft, request.deleteRange) }
    if ('txn' in request) return { txn: this.txn(draft, request.txn) }
    if ('compaction' in request) {
      const revision = request.compaction.revision
      if (revision <= this.compactRevision) throw new Refused('Compacted')
      if (revision > this.revision) throw new Refused('FutureRevision')
      for (let r = this.compactRevision; r < revision; r++) {
        this.states.delete(r)
        this.history.delete(r)
      }
      this.compactRevision = revision
      return { compaction: { header: { revision: this.revision } } }
    }
    if ('leaseGrant' in request) {
      const { id, ttl } = request.leaseGrant
      if (this.leases.has(id)) throw new Refused('LeaseExists')
      const granted = Math.max(ttl, this.leaseTtlMin)
      this.leases.set(id, granted)
      return { leaseGrant: { header: { revision: this.revision }, id, ttl: granted, error: '' } }
    }
    if (!('leaseRevoke' in request)) throw new Error('the reference model models neither alarms nor auth')
    const id = request.leaseRevoke.id
    if (!this.leases.has(id)) throw new Refused('LeaseNotFound')
    for (const kv of sortedKvs(draft.state)) if (kv.lease === id) this.remove(draft, kv)
    this.leases.delete(id)
    return { leaseRevoke: { header: { revision: draft.visible } } }
  }

  private checkPut(draft: Draft, put: { key: Uint8Array; lease?: number; ignoreValue?: boolean; ignoreLease?: boolean }): void {
    if ((put.ignoreValue === true || put.ignoreLease === true) && !draft.state.has(bytesToBinaryString(put.key))) {
      throw new Refused('KeyNotFound')
    }
    if ((put.lease ?? 0) !== 0 && !this.leases.has(put.lease!)) throw new Refused('LeaseNotFound')
  }

  private put(draft: Draft, put: PutRequest): unknown {
    const id = bytesToBinaryString(put.key)
    const prev = draft.state.get(id)
    if (prev === undefined && (put.ignoreValue === true || put.ignoreLease === true)) throw new Refused('KeyNotFound')
    const revision = this.revision + 1
    const kv: KeyValue = {
      key: put.key,
      createRevision: prev?.createRevision ?? revision,
      modRevision: revision,
      version: (prev?.version ?? 0) + 1,
      value: put.ignoreValue === true ? prev!.value : (put.value ?? emptyBytes),
      lease: put.ignoreLease === true ? prev!.lease : (put.lease ?? 0),
    }
    draft.state.set(id, kv)
    draft.events.push(prev === undefined ? { type: 'PUT', kv } : { type: 'PUT', kv, prevKv: prev })
    const response: Record<string, unknown> = { header: { revision: draft.visible } }
    if (put.prevKv === true && prev !== undefined) response.prevKv = prev
    return response
  }

  private remove(draft: Draft, prev: KeyValue): void {
    draft.state.delete(bytesToBinaryString(prev.key))
    const kv: KeyValue = { key: prev.key, createRevision: 0, modRevision: this.revision + 1, version: 0, value: emptyBytes, lease: 0 }
    draft.events.push({ type: 'DELETE', kv, prevKv: prev })
  }

  private deleteRange(draft: Draft, request: { key: Uint8Array; rangeEnd?: Uint8Array; prevKv?: boolean }): unknown {
    const doomed = sortedKvs(draft.state).filter((kv) => inRange(kv.key, request.key, request.rangeEnd))
    for (const kv of doomed) this.remove(draft, kv)
    return { header: { revision: draft.visible }, deleted: doomed.length, prevKvs: request.prevKv === true ? doomed : [] }
  }

  private compareOne(state: State, compare: Compare): boolean {
    const kvs = sortedKvs(state).filter((kv) => inRange(kv.key, compare.key, compare.rangeEnd))
    if (kvs.length === 0 && compare.target === 'VALUE') return false
    const targets = kvs.length === 0 ? [undefined] : kvs
    return targets.every((kv) => {
      let order: number
      if (compare.target === 'VALUE') order = compareBytes(kv!.value, compare.value ?? emptyBytes)
      else {
        const field = { VERSION: 'version', CREATE: 'createRevision', MOD: 'modRevision', LEASE: 'lease' }[compare.target] as
          | 'version'
          | 'createRevision'
          | 'modRevision'
          | 'lease'
        const operand = (compare[field] as number | undefined) ?? 0
        order = Math.sign((kv?.[field] ?? 0) - operand)
      }
      return { EQUAL: order === 0, NOT_EQUAL: order !== 0, GREATER: order > 0, LESS: order < 0 }[compare.result]
    })
  }

  private txn(draft: Draft, request: TxnRequest): unknown {
    const base = draft.state
    const paths = new Map<TxnRequest, boolean>()
    const plan = (t: TxnRequest): void => {
      const ok = (t.compare ?? []).every((c) => this.compareOne(base, c))
      paths.set(t, ok)
      for (const op of (ok ? t.success : t.failure) ?? []) if ('requestTxn' in op) plan(op.requestTxn)
    }
    plan(request)
    const walk = (t: TxnRequest, visit: (op: RequestOp) => void): void => {
      for (const op of (paths.get(t) ? t.success : t.failure) ?? []) {
        if ('requestTxn' in op) walk(op.requestTxn, visit)
        else visit(op)
      }
    }
    walk(request, (op) => {
      if ('requestPut' in op) this.checkPut(draft, op.requestPut)
    })
    walk(request, (op) => {
      if (!('requestRange' in op)) return
      const revision = op.requestRange.revision ?? 0
      if (revision > this.revision) throw new Refused('FutureRevision')
      if (revision !== 0 && revision < this.compactRevision) throw new Refused('Compacted')
    })
    const execute = (t: TxnRequest): unknown => {
      const responses: ResponseOp[] = []
      for (const op of (paths.get(t) ? t.success : t.failure) ?? []) {
        if ('requestPut' in op) responses.push({ responsePut: this.put(draft, op.requestPut) as never })
        else if ('requestDeleteRange' in op) responses.push({ responseDeleteRange: this.deleteRange(draft, op.requestDeleteRange) as never })
        else if ('requestTxn' in op) responses.push({ responseTxn: execute(op.requestTxn) as never })
        else {
          const revision = op.requestRange.revision ?? 0
          const state = revision === 0 ? draft.state : this.states.get(revision)!
          responses.push({ responseRange: rangeOver(state, op.requestRange, draft.visible) })
        }
      }
      return { header: { revision: draft.visible }, succeeded: paths.get(t), responses }
    }
    return execute(request)
  }

  /** A range outside apply; throws Refused-like errors as { code }. */
  range(request: RangeRequest): RangeResponse | { code: string } {
    try {
      validateRangeRequest(request)
    } catch (error) {
      if (error instanceof CairnError) return { code: error.code }
      throw error
    }
    const revision = request.revision === undefined || request.revision === 0 ? this.revision : request.revision
    if (revision > this.revision) return { code: 'FutureRevision' }
    if (revision < this.compactRevision) return { code: 'Compacted' }
    return rangeOver(this.states.get(revision)!, request, this.revision)
  }

  /** History from `from` on, or { code } if compacted. */
  historyFrom(from: number): RevisionEvents[] | { code: string } {
    if (from < this.compactRevision) return { code: 'Compacted' }
    const out: RevisionEvents[] = []
    for (let r = Math.max(from, 2); r <= this.revision; r++) out.push({ revision: r, events: this.history.get(r)! })
    return out
  }
}

export function rangeOver(state: State, request: RangeRequest, headerRevision: number): RangeResponse {
  const all = sortedKvs(state).filter((kv) => {
    const end = request.rangeEnd
    if (end !== undefined && end.length > 0 && !(end.length === 1 && end[0] === 0) && compareBytes(end, request.key) <= 0) return false
    return inRange(kv.key, request.key, end)
  })
  const count = all.length
  if (request.countOnly === true) return { header: { revision: headerRevision }, kvs: [], more: false, count }
  let kvs = all.filter(
    (kv) =>
      (!request.minModRevision || kv.modRevision >= request.minModRevision) &&
      (!request.maxModRevision || kv.modRevision <= request.maxModRevision) &&
      (!request.minCreateRevision || kv.createRevision >= request.minCreateRevision) &&
      (!request.maxCreateRevision || kv.createRevision <= request.maxCreateRevision),
  )
  const target = request.sortTarget ?? 'KEY'
  let order = request.sortOrder ?? 'NONE'
  if (target !== 'KEY' && order === 'NONE') order = 'ASCEND'
  if (order !== 'NONE') {
    const value = (kv: KeyValue): number | Uint8Array =>
      ({ KEY: kv.key, VERSION: kv.version, CREATE: kv.createRevision, MOD: kv.modRevision, VALUE: kv.value })[target]
    const cmp = (a: KeyValue, b: KeyValue): number => {
      const x = value(a)
      const y = value(b)
      return typeof x === 'number' ? x - (y as number) : compareBytes(x, y as Uint8Array)
    }
    const sign = order === 'DESCEND' ? -1 : 1
    kvs = [...kvs].sort((a, b) => sign * cmp(a, b))
  }
  let more = false
  const limit = request.limit ?? 0
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit)
    more = true
  }
  if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: emptyBytes }))
  return { header: { revision: headerRevision }, kvs, more, count }
}
