// A V2Backend over an in-memory MvccStore and WatchHub: what the member gives the v2 view, minus
// Raft. Txns apply at once with the next entry index, so tests run the real v2 store, plans,
// history and watches deterministically, with a clock the test moves.

import { MemoryBackend } from '../../core/mvcc/memory-backend.ts'
import type { RangeRequest, RangeResponse, TxnRequest, TxnResponse } from '../../core/mvcc/requests.ts'
import { MvccStore } from '../../core/mvcc/store.ts'
import { WatchHub } from '../../core/mvcc/watch-hub.ts'
import type { Watcher } from '../../core/mvcc/watcher.ts'
import type { WatchCreateRequest } from '../../core/mvcc/watch-types.ts'
import { V2Store } from '../../core/api/v2/store.ts'
import type { V2Backend, WriteAs } from '../../core/api/v2/store.ts'
import type { AuthRequest } from '../../core/auth/requests.ts'

export class MemoryV2Backend implements V2Backend {
  private index = 0
  barriers = 0
  /** Called before each txn applies (lets a test slip in a concurrent write). */
  beforeTxn: ((request: TxnRequest) => Promise<void>) | undefined

  private constructor(
    readonly mvcc: MvccStore,
    readonly hub: WatchHub,
  ) {}

  static async create(): Promise<MemoryV2Backend> {
    const mvcc = await MvccStore.open(new MemoryBackend())
    return new MemoryV2Backend(mvcc, new WatchHub(mvcc))
  }

  range(request: RangeRequest): Promise<RangeResponse> {
    return this.mvcc.range(request)
  }

  latest(keys: readonly Uint8Array[]): ReturnType<V2Backend['latest']> {
    return this.mvcc.latest(keys)
  }

  async txn(request: TxnRequest, as?: WriteAs): Promise<TxnResponse> {
    const hook = this.beforeTxn
    this.beforeTxn = undefined
    if (hook) await hook(request)
    const outcome = await this.mvcc.apply(
      ++this.index,
      as === undefined ? { txn: request } : { guarded: { user: as.user, userRevision: as.revision, request: { txn: request } } },
    )
    if (outcome.status === 'refused') throw outcome.error
    if (outcome.status !== 'applied' || !outcome.response || !('txn' in outcome.response)) throw new Error('txn not applied')
    return outcome.response.txn
  }

  async linearizableBarrier(): Promise<void> {
    this.barriers++
  }

  currentRevision(): number {
    return this.mvcc.currentRevision()
  }

  compactRevision(): number {
    return this.mvcc.compactRevision()
  }

  watch(request: WatchCreateRequest): Watcher {
    return this.hub.watch(request)
  }

  /** An auth change (users, roles, auth enable), as the log would apply it. */
  async auth(request: AuthRequest): Promise<void> {
    const outcome = await this.mvcc.apply(++this.index, { auth: request })
    if (outcome.status !== 'applied') throw new Error(`auth change not applied: ${JSON.stringify(outcome)}`)
  }

  /** A plain v3 write, as another client of the same keyspace would make. */
  async putV3(key: Uint8Array, value: Uint8Array): Promise<number> {
    const outcome = await this.mvcc.apply(++this.index, { put: { key, value } })
    if (outcome.status !== 'applied' || !outcome.response || !('put' in outcome.response)) throw new Error('put not applied')
    return outcome.response.put.header.revision
  }

  async compact(revision: number): Promise<void> {
    const outcome = await this.mvcc.apply(++this.index, { compaction: { revision } })
    if (outcome.status !== 'applied') throw new Error('compaction not applied')
  }
}

export class ManualClock {
  constructor(public nowMs = Date.UTC(2026, 0, 2, 3, 4, 5, 600)) {}
  readonly now = (): number => this.nowMs
  advance(ms: number): void {
    this.nowMs += ms
  }
}

export async function memoryStore(): Promise<{ store: V2Store; backend: MemoryV2Backend; clock: ManualClock }> {
  const backend = await MemoryV2Backend.create()
  const clock = new ManualClock()
  return { store: new V2Store(backend, clock.now), backend, clock }
}
