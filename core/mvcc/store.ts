// The revisioned keyspace as a Raft state machine. apply() is the only way state changes: one
// committed entry at a time, each written as one backend batch that also records the entry's index,
// so after a crash the store resumes exactly after the last entry it applied. Reads open consistent
// backend views and stream from them while later entries are applied.
//
// The store never reads a clock and draws no randomness: lease IDs come in the requests, and lease
// expiry is the server's decision, applied as a LeaseRevoke entry.

import { AuthStore, type PreparedAuthChange } from '../auth/auth-store.ts'
import { unguard } from '../auth/guard.ts'
import { CairnError, CompactedError, CorruptDataError, FutureRevisionError, LeaseNotFoundError } from '../errors.ts'
import { AlarmTable } from './alarms.ts'
import { applyToTxn } from './apply-ops.ts'
import type { BackendOp, KvBackend } from './backend.ts'
import { toInterval } from './interval.ts'
import {
  historyBounds,
  layoutFormat,
  leaseAttachmentBounds,
  leaseGrantBounds,
  leaseGrantKey,
  metaAppliedIndexKey,
  metaCompactRevisionKey,
  metaFormatKey,
  metaRestoringKey,
  metaRevisionKey,
  prefixAlarm,
  prefixAuth,
  prefixBounds,
  prefixKeyspace,
  prefixLease,
} from './layout.ts'
import { historyReadEventsMax, leaseTtlSecondsMinDefault, txnOpsMaxDefault } from './limits.ts'
import { rangeScansReverse, runRange, streamRange, type RangeStream } from './range.ts'
import { decodeLeaseRecord, decodeNumber, encodeNumber } from './records.ts'
import { readRevisions, type HistoryRead } from './history-read.ts'
import { readAttachedKeys, readLeaseList, type LeaseInfo } from './lease-reads.ts'
import { reclaimHistory } from './reclaim.ts'
import type {
  AlarmMember,
  AlarmType,
  ApplyRequest,
  ApplyResponse,
  LeaseLeasesResponse,
  LeaseTimeToLiveRequest,
  LeaseTimeToLiveResponse,
  RangeRequest,
  RangeResponse,
} from './requests.ts'
import { guardedKinds } from './requests.ts'
import { openLatestKey, openScanAt, readLatestKey, type Scan } from './scan.ts'
import { SerialQueue } from './serial.ts'
import { StagedBackend, stagedOpsMax } from './staged-backend.ts'
import { clearOwnedPrefixes, restoreEntries } from './snapshot-restore.ts'
import { encodeSnapshot, type SnapshotHeader } from './snapshot-stream.ts'
import type { KeyValue, RevisionEvents } from './types.ts'

export type { HistoryRead } from './history-read.ts'
export type { LeaseInfo } from './lease-reads.ts'
import { validateApplyRequest, validateRangeRequest, checkLeaseId } from './validate.ts'
import { WriteTxn } from './write-txn.ts'
import { RecentKeys } from './recent-keys.ts'

export interface MvccStoreOptions {
  /** Most operations per txn list (etcd's --max-txn-ops). */
  txnOpsMax?: number
  /** TTL a smaller grant is raised to; derive it from the election timeout as etcd does. */
  leaseTtlSecondsMin?: number
  /**
   * fsync every applied batch. Off by default: the Raft log is synced, and entries whose application
   * is lost in a machine crash are applied again from it on restart.
   */
  syncWrites?: boolean
  /** Memory for the latest state of recently written keys (default 32 MiB); 0 turns it off. */
  recentKeysBytes?: number
}

/**
 * What apply() did. `refused` is a deterministic answer (every member refuses the same entry): the
 * keyspace is unchanged, but the entry counts as applied. `skipped`: the entry was applied before.
 */
export type ApplyOutcome =
  | { status: 'applied'; response: ApplyResponse | undefined }
  | { status: 'refused'; error: CairnError }
  | { status: 'skipped' }

/** Told of changes synchronously, after they are in the backend and before apply() resolves. */
export interface StoreListener {
  onRevision?(batch: RevisionEvents): void
  onCompact?(compactRevision: number): void
  /** The whole state was replaced by a snapshot: anything derived from it must be rebuilt. */
  onReset?(): void
}

export interface KeyspaceSnapshot extends SnapshotHeader {
  /** Chunks of at most snapshotChunkBytesMax bytes; drain it or call return() to release the view. */
  chunks: AsyncIterableIterator<Uint8Array>
}

interface StoreState {
  revision: number
  compactRevision: number
  appliedIndex: number
}

async function readNumber(backend: KvBackend, key: Uint8Array, name: string): Promise<number | undefined> {
  const record = await backend.get(key)
  return record === undefined ? undefined : decodeNumber(record, name)
}

export class MvccStore {
  private readonly queue = new SerialQueue()
  private readonly listeners = new Set<StoreListener>()
  private readonly txnOpsMax: number
  private readonly leaseTtlSecondsMin: number
  private readonly syncWrites: boolean
  private alarms = AlarmTable.empty
  /** Users, roles and the auth switch: changed by `auth` entries, stored beside the keyspace. */
  readonly auth = new AuthStore()
  /** The latest state of recently written keys, so applying a put rarely reads RocksDB. */
  private readonly recent: RecentKeys
  private reclaiming: Promise<void> = Promise.resolve()
  private failure: unknown = undefined
  private closed = false

  private constructor(
    private readonly backend: KvBackend,
    private state: StoreState,
    options: MvccStoreOptions,
  ) {
    this.txnOpsMax = options.txnOpsMax ?? txnOpsMaxDefault
    this.leaseTtlSecondsMin = options.leaseTtlSecondsMin ?? leaseTtlSecondsMinDefault
    this.syncWrites = options.syncWrites ?? false
    this.recent = new RecentKeys(options.recentKeysBytes)
  }

  /** Opens the keyspace kept in `backend` (empty: a new store at revision 1). */
  static async open(backend: KvBackend, options: MvccStoreOptions = {}): Promise<MvccStore> {
    if ((await backend.get(metaRestoringKey)) !== undefined) {
      throw new CorruptDataError('keyspace meta', 'a snapshot restore was interrupted; restore the snapshot again')
    }
    const format = await readNumber(backend, metaFormatKey, 'format')
    if (format !== undefined && format !== layoutFormat) {
      throw new CorruptDataError('keyspace meta', `layout format ${format}, this version reads ${layoutFormat}`)
    }
    if (format === undefined) await backend.write([{ type: 'put', key: metaFormatKey, value: encodeNumber(layoutFormat) }])
    const state: StoreState = {
      revision: (await readNumber(backend, metaRevisionKey, 'revision')) ?? 1,
      compactRevision: (await readNumber(backend, metaCompactRevisionKey, 'compact revision')) ?? 0,
      appliedIndex: (await readNumber(backend, metaAppliedIndexKey, 'applied index')) ?? 0,
    }
    const store = new MvccStore(backend, state, options)
    store.alarms = await AlarmTable.load(backend)
    await store.auth.load(backend)
    // Finish reclaiming history a previous run had compacted but not yet deleted.
    if (state.compactRevision > 0) store.scheduleReclaim()
    return store
  }

  /** Opens a store whose state is replaced by the snapshot stream (any previous content is removed). */
  static async restore(backend: KvBackend, chunks: AsyncIterable<Uint8Array>, options: MvccStoreOptions = {}): Promise<MvccStore> {
    const store = new MvccStore(backend, { revision: 1, compactRevision: 0, appliedIndex: 0 }, options)
    await store.restore(chunks)
    return store
  }

  appliedIndex(): number {
    return this.state.appliedIndex
  }

  currentRevision(): number {
    return this.state.revision
  }

  compactRevision(): number {
    return this.state.compactRevision
  }

  /** The active alarms as of the last applied entry (etcd's AlarmStore.Get). */
  alarmList(alarm: AlarmType = 'NONE'): AlarmMember[] {
    return this.alarms.list(alarm)
  }

  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private checkUsable(): void {
    if (this.closed) throw new Error('MvccStore is closed')
    if (this.failure !== undefined) throw this.failure
  }

  /**
   * Applies the committed entry at `index` (request undefined: an entry with no keyspace effect, such
   * as an empty or configuration entry, which still advances the applied index). Calls may overlap;
   * they run one at a time, in call order. Rejects only on a storage failure, after which the store is
   * unusable (the member must stop), or when a listener threw (a bug; the entry is applied).
   */
  apply(index: number, request: ApplyRequest | undefined): Promise<ApplyOutcome> {
    return this.queue.run(() => this.applyNow(this.backend, index, request))
  }

  /**
   * Applies consecutive committed entries as apply() would, one after the other, but writes their
   * changes to the backend together in one batch (or a few, for very large groups). Listeners hear
   * of each entry as it is applied; nothing reads the backend until the batch is written, because
   * readers open their views through the same queue.
   */
  applyBatch(items: ReadonlyArray<{ index: number; request: ApplyRequest | undefined }>): Promise<ApplyOutcome[]> {
    return this.queue.run(async () => {
      const staged = new StagedBackend(this.backend)
      const outcomes: ApplyOutcome[] = []
      let listenerError: unknown
      try {
        for (const { index, request } of items) {
          try {
            outcomes.push(await this.applyNow(staged, index, request))
          } catch (error) {
            // A listener's bug leaves the entry applied; keep going and report it after the write.
            if (!(error instanceof AggregateError) || this.failure !== undefined) throw error
            listenerError ??= error
            outcomes.push({ status: 'applied', response: undefined })
          }
          if (staged.size >= stagedOpsMax) await this.flushStaged(staged)
        }
      } finally {
        await this.flushStaged(staged)
      }
      if (listenerError !== undefined) throw listenerError
      return outcomes
    })
  }

  private async flushStaged(staged: StagedBackend): Promise<void> {
    try {
      await staged.flush({ sync: this.syncWrites })
    } catch (error) {
      throw this.fail(error)
    }
  }

  private async applyNow(backend: KvBackend, index: number, request: ApplyRequest | undefined): Promise<ApplyOutcome> {
    this.checkUsable()
    if (!Number.isSafeInteger(index) || index < 1) throw new Error(`apply: index must be a positive integer, got ${index}`)
    if (index <= this.state.appliedIndex) return { status: 'skipped' }
    const txn = new WriteTxn(backend, this.state.revision, this.recent)
    let response: ApplyResponse | undefined
    let refusal: CairnError | undefined
    let alarmed: ReturnType<AlarmTable['apply']> | undefined
    let authChange: PreparedAuthChange | undefined
    if (request !== undefined) {
      try {
        // Shape first (a hostile entry must be refused, never throw a TypeError), guarded ones included.
        validateApplyRequest(request, { txnOpsMax: this.txnOpsMax })
        if ('guarded' in request) request = unguard(this.auth.state(), request.guarded, guardedKinds)
        const capped = this.alarms.refusal(request)
        if (capped !== undefined) throw capped
        if ('alarm' in request) {
          alarmed = this.alarms.apply(request.alarm, this.state.revision)
          response = { alarm: alarmed.response }
        } else if ('auth' in request) {
          authChange = this.auth.prepare(request.auth)
          response = { auth: authChange.response }
        } else {
          const context = { txn, backend, compactRevision: this.state.compactRevision, leaseTtlSecondsMin: this.leaseTtlSecondsMin }
          response = await applyToTxn(context, request)
        }
      } catch (error) {
        if (!(error instanceof CairnError) || error instanceof CorruptDataError) throw this.fail(error)
        refusal = error
      }
    }
    const ops: BackendOp[] = refusal === undefined ? txn.toBackendOps() : []
    if (alarmed !== undefined) ops.push(...alarmed.ops)
    if (authChange !== undefined) ops.push(...authChange.ops)
    ops.push({ type: 'put', key: metaAppliedIndexKey, value: encodeNumber(index) })
    try {
      await backend.write(ops, { sync: this.syncWrites })
    } catch (error) {
      throw this.fail(error)
    }
    this.state = {
      appliedIndex: index,
      revision: refusal === undefined && txn.changed ? txn.writeRevision : this.state.revision,
      compactRevision: refusal === undefined ? (txn.compactRevision ?? this.state.compactRevision) : this.state.compactRevision,
    }
    if (alarmed !== undefined) this.alarms = alarmed.table
    if (refusal !== undefined) return { status: 'refused', error: refusal }
    authChange?.commit()
    for (const [id, patch] of txn.changedKeys()) this.recent.set(id, patch.kv)
    if (txn.changed) this.notify((l) => l.onRevision?.({ revision: txn.writeRevision, events: txn.events }))
    if (txn.compactRevision !== undefined) {
      this.scheduleReclaim()
      this.notify((l) => l.onCompact?.(txn.compactRevision!))
    }
    return { status: 'applied', response }
  }

  private fail(error: unknown): unknown {
    this.failure ??= error
    return error
  }

  private notify(call: (listener: StoreListener) => void): void {
    const errors: unknown[] = []
    for (const listener of this.listeners) {
      try {
        call(listener)
      } catch (error) {
        errors.push(error)
      }
    }
    // A listener bug must not look like a refused entry: the change is applied. Report it loudly.
    if (errors.length > 0) throw new AggregateError(errors, 'MvccStore listener failed')
  }

  /** Serves a range outside apply, at the request's revision (0 = current). Throws CairnError. */
  async range(request: RangeRequest): Promise<RangeResponse> {
    const { scan, head } = await this.openRange(request)
    return runRange(request, scan, head)
  }

  /**
   * Like range(), but the key-values stream from the backend view as they are read, so a range over
   * millions of keys costs bounded memory (when sorted by key). Drain `kvs` or call its return().
   */
  async rangeStream(request: RangeRequest): Promise<RangeStream> {
    const { scan, head } = await this.openRange(request)
    return streamRange(request, scan, head)
  }

  /**
   * The latest state of each key (undefined: absent), all at one revision, by point reads in one
   * turn of the queue: a caller that decides on several keys sees them as of the same write.
   */
  async latest(keys: readonly Uint8Array[]): Promise<{ revision: number; kvs: (KeyValue | undefined)[] }> {
    return this.queue.run(async () => {
      this.checkUsable()
      const revision = this.state.revision
      const kvs: (KeyValue | undefined)[] = []
      for (const key of keys) kvs.push(await readLatestKey(this.backend, key))
      return { revision, kvs }
    })
  }

  private async openRange(request: RangeRequest): Promise<{ head: number; scan: Scan }> {
    validateRangeRequest(request)
    const reverse = rangeScansReverse(request)
    return this.queue.run(() => {
      this.checkUsable()
      const head = this.state.revision
      const revision = request.revision === undefined || request.revision === 0 ? head : request.revision
      if (revision > head) throw new FutureRevisionError(revision, head)
      if (revision < this.state.compactRevision) throw new CompactedError(this.state.compactRevision)
      if (revision === head && (request.rangeEnd === undefined || request.rangeEnd.length === 0)) {
        return openLatestKey(this.backend, request.key).then((scan) => ({ head, scan }))
      }
      return { head, scan: openScanAt(this.backend, toInterval(request.key, request.rangeEnd), revision, head, reverse) }
    })
  }

  /**
   * Events of revisions >= fromRevision, whole revisions only, stopping after the revision in which
   * `maxEvents` is reached. Throws CompactedError if fromRevision is below the compact revision.
   */
  async readHistory(fromRevision: number, maxEvents = historyReadEventsMax): Promise<HistoryRead> {
    const opened = await this.queue.run(() => {
      this.checkUsable()
      if (fromRevision < this.state.compactRevision) throw new CompactedError(this.state.compactRevision)
      const head = this.state.revision
      const iterator = fromRevision > head ? undefined : this.backend.iterate(historyBounds(fromRevision, head + 1))
      return { head, iterator }
    })
    if (opened.iterator === undefined) return { revisions: [], throughRevision: opened.head }
    return readRevisions(opened.iterator, opened.head, maxEvents)
  }

  /** A lease's granted TTL and attached keys, or undefined if there is no such lease. */
  async leaseTimeToLive(request: LeaseTimeToLiveRequest): Promise<LeaseTimeToLiveResponse | undefined> {
    checkLeaseId(request.id, 'ID')
    // The grant by a point read and the keys' view opened in the same turn of the queue: one state.
    const opened = await this.queue.run(async () => {
      this.checkUsable()
      const revision = this.state.revision
      const record = await this.backend.get(leaseGrantKey(request.id))
      if (record === undefined) return undefined
      const keys = request.keys === true ? this.backend.iterate({ ...leaseAttachmentBounds(request.id), few: true }) : undefined
      return { revision, grantedTtl: decodeLeaseRecord(record).ttl, keys }
    })
    if (opened === undefined) return undefined
    const grantedTtl = opened.grantedTtl
    const keys = opened.keys === undefined ? [] : await readAttachedKeys(opened.keys)
    return { header: { revision: opened.revision }, id: request.id, grantedTtl, keys }
  }

  /** Every lease with its granted TTL: the server's expiry tracking starts from this. */
  async leases(): Promise<{ revision: number; leases: LeaseInfo[] }> {
    const opened = await this.queue.run(() => {
      this.checkUsable()
      return { revision: this.state.revision, iterator: this.backend.iterate(leaseGrantBounds()) }
    })
    return { revision: opened.revision, leases: await readLeaseList(opened.iterator) }
  }

  /** etcd's LeaseLeases answer. */
  async leaseLeases(): Promise<LeaseLeasesResponse> {
    const { revision, leases } = await this.leases()
    return { header: { revision }, leases: leases.map(({ id }) => ({ id })) }
  }

  /** A keep-alive's answer: the lease's granted TTL. Throws LeaseNotFoundError. (Renewal is the server's.) */
  async leaseKeepAlive(id: number): Promise<LeaseInfo> {
    const response = await this.leaseTimeToLive({ id })
    if (response === undefined) throw new LeaseNotFoundError(id)
    return { id, ttl: response.grantedTtl }
  }

  /** A consistent snapshot of the whole keyspace state at the current applied index. */
  async snapshot(): Promise<KeyspaceSnapshot> {
    return this.queue.run(() => {
      this.checkUsable()
      const header: SnapshotHeader = { ...this.state }
      const sources = [
        this.backend.iterate(historyBounds(this.state.compactRevision)),
        this.backend.iterate(prefixBounds(prefixKeyspace)),
        this.backend.iterate(prefixBounds(prefixLease)),
        this.backend.iterate(prefixBounds(prefixAlarm)),
        this.backend.iterate(prefixBounds(prefixAuth)),
      ]
      return { ...header, chunks: encodeSnapshot(header, sources) }
    })
  }

  /**
   * Replaces the whole state by a snapshot stream (what a follower does when the leader sends one).
   * Listeners get onReset(). If the stream is damaged the store is left unusable and refuses to open
   * until a restore completes.
   */
  restore(chunks: AsyncIterable<Uint8Array>): Promise<void> {
    return this.queue.run(async () => {
      this.checkUsable()
      try {
        await this.reclaiming
        await this.backend.write([{ type: 'put', key: metaRestoringKey, value: new Uint8Array(0) }], { sync: true })
        this.recent.clear()
        await clearOwnedPrefixes(this.backend, [metaRestoringKey])
        const header = await restoreEntries(this.backend, chunks)
        await this.backend.write(
          [
            { type: 'put', key: metaFormatKey, value: encodeNumber(layoutFormat) },
            { type: 'put', key: metaRevisionKey, value: encodeNumber(header.revision) },
            { type: 'put', key: metaCompactRevisionKey, value: encodeNumber(header.compactRevision) },
            { type: 'put', key: metaAppliedIndexKey, value: encodeNumber(header.appliedIndex) },
            { type: 'del', key: metaRestoringKey },
          ],
          { sync: true },
        )
        this.state = { ...header }
        this.alarms = await AlarmTable.load(this.backend)
        await this.auth.load(this.backend)
      } catch (error) {
        throw this.fail(error)
      }
      this.notify((l) => l.onReset?.())
    })
  }

  /** Resolves once history below the compact revision has been deleted (etcd's "physical" compaction). */
  async compacted(): Promise<void> {
    await this.reclaiming
    if (this.failure !== undefined) throw this.failure
  }

  private scheduleReclaim(): void {
    this.reclaiming = this.reclaiming
      .then(() => reclaimHistory(this.backend, () => this.state.compactRevision, () => this.closed))
      .catch((error: unknown) => void this.fail(error))
  }

  /** Stops background work. The backend stays open: it belongs to the caller. */
  async close(): Promise<void> {
    await this.queue.run(() => {
      this.closed = true
    })
    await this.reclaiming
  }
}
