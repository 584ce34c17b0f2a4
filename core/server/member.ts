// One Cairn member: drives the Raft node (ticks, Readies), persists through the log store, sends
// through the transport, applies committed entries to the keyspace and answers the requests waiting
// on them. Everything the client API needs goes through the methods at the bottom.

import type { Logger } from 'pino'
import { CairnError, LeaseNotFoundError, NoLeaderError, NotLeaderError } from '../errors.ts'
import type { MvccStore } from '../mvcc/store.ts'
import type { ApplyOutcome } from '../mvcc/store.ts'
import type {
  ApplyRequest,
  CompactionRequest,
  CompactionResponse,
  DeleteRangeRequest,
  DeleteRangeResponse,
  LeaseGrantResponse,
  LeaseRevokeResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from '../mvcc/requests.ts'
import { WatchHub } from '../mvcc/watch-hub.ts'
import { decodeConfChange } from '../raft/confchange-codec.ts'
import { RaftError } from '../raft/errors.ts'
import type { RawNode, Status } from '../raft/rawnode.ts'
import type { Ready } from '../raft/ready.ts'
import type { ConfChange, ConfState, Entry, Message, Snapshot } from '../raft/types.ts'
import type { Db, LogStore } from '../storage/index.ts'
import { WriteBatch } from '../storage/index.ts'
import { decodePayload, encodePayload, isMemberRequest } from './entry-codec.ts'
import type { EntryPayload, MemberRequest } from './entry-codec.ts'
import { ACK_BEFORE_FSYNC_DELAY_MS } from './failpoints.ts'
import type { Failpoint } from './failpoints.ts'
import { LeaseClock } from './lease-clock.ts'
import { ReadIndexBatcher } from './read-index.ts'
import type { MemberInfo, Registry } from './registry.ts'
import type { OutgoingSnapshot } from './snapshot-transfer.ts'
import type { Transport } from './transport.ts'
import { Waiters } from './waiters.ts'

export interface MemberParts {
  id: number
  clusterId: number
  name: string
  db: Db
  logStore: LogStore
  mvcc: MvccStore
  registry: Registry
  node: RawNode
  transport: Transport
  logger: Logger
  heartbeatIntervalMs: number
  electionTimeoutMs: number
  snapshotCount: number
  clientUrls: string[]
  /** Streams a snapshot of our current state to a peer; resolves with success. */
  sendSnapshot: (to: number, snap: OutgoingSnapshot) => Promise<boolean>
  /** Called when this member was removed from the cluster. */
  onRemoved: () => void
  /** Size of the member's database on disk and of the part holding live data (bytes). */
  dbSize?: () => { total: number; inUse: number }
  /**
   * Checked before a request is proposed (the backend quota, quota.ts): undefined admits it, a
   * promise that rejects refuses it.
   */
  admit?: (request: ApplyRequest | MemberRequest) => Promise<void> | undefined
  /** Test-only deliberate bugs (see failpoints.ts). */
  failpoints?: Set<Failpoint>
  /** Observers for metrics. */
  observeFsyncSeconds?: (s: number) => void
  observeApplySeconds?: (s: number, entries: number) => void
}

/** Entries kept behind a snapshot so slightly lagging followers catch up from the log, not a snapshot. */
export const SNAPSHOT_CATCH_UP_ENTRIES = 5_000
export const REQUEST_TIMEOUT_MS = 7_000
/** How often watchers that asked for progress notifications get one while idle (etcd: 10 minutes). */
export const PROGRESS_NOTIFY_MS = 10 * 60_000

export class Member {
  readonly id: number
  readonly clusterId: number
  readonly name: string
  readonly mvcc: MvccStore
  readonly watchHub: WatchHub
  readonly registry: Registry
  readonly logger: Logger
  private readonly node: RawNode
  private readonly p: MemberParts
  private readonly waiters = new Waiters<ApplyOutcome>()
  private readonly reads: ReadIndexBatcher
  private readonly leases: LeaseClock
  private tickTimer: NodeJS.Timeout | undefined
  private leaseTimer: NodeJS.Timeout | undefined
  private progressTimer: NodeJS.Timeout | undefined
  private looping = false
  private wake = false
  private seq = 0
  /** Proposals made since the loop last ran, stepped into Raft together (flushProposals). */
  private proposals: { seq: number; data: Uint8Array }[] = []
  /** A nonce of this run: entries proposed by an earlier run of this member never wake our waiters. */
  private readonly run = Math.floor(Math.random() * 2 ** 48)
  private stopped = false
  private confState: ConfState
  private snapshotIndex: number
  private prevTerm = 0
  private prevVote = 0
  private snapshotsInFlight = new Set<number>()
  /** A snapshot received from the leader, waiting for Raft to accept it. */
  private incoming: { index: number; restore: () => Promise<void>; cleanup: () => Promise<void> } | undefined
  leaderChanges = 0

  constructor(parts: MemberParts) {
    this.p = parts
    this.id = parts.id
    this.clusterId = parts.clusterId
    this.name = parts.name
    this.mvcc = parts.mvcc
    this.registry = parts.registry
    this.logger = parts.logger
    this.node = parts.node
    this.confState = parts.logStore.initialState().confState
    this.snapshotIndex = parts.logStore.firstIndex() - 1
    const hs = parts.logStore.initialState().hardState
    this.prevTerm = hs.term
    this.prevVote = hs.vote
    this.watchHub = new WatchHub(parts.mvcc)
    this.reads = new ReadIndexBatcher(
      {
        contextPrefix: parts.id.toString(16),
        requestReadIndex: (ctx) => {
          this.node.readIndex(ctx)
          this.schedule()
        },
        appliedIndex: () => this.mvcc.appliedIndex(),
      },
      REQUEST_TIMEOUT_MS,
      Math.max(300, parts.electionTimeoutMs),
    )
    this.leases = new LeaseClock()
  }

  start(): void {
    this.tickTimer = setInterval(() => {
      this.node.tick()
      this.schedule()
    }, this.p.heartbeatIntervalMs)
    this.leaseTimer = setInterval(() => this.expireLeases(), 250)
    this.progressTimer = setInterval(() => this.watchHub.notifyProgress(), PROGRESS_NOTIFY_MS)
    this.progressTimer.unref?.()
    this.schedule()
  }

  // ---- the Raft loop ----

  /** Runs the loop soon; calls while it runs make it go round once more. */
  schedule(): void {
    if (this.stopped) return
    if (this.looping) {
      this.wake = true
      return
    }
    this.looping = true
    setImmediate(() => void this.loop())
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        this.wake = false
        this.flushProposals()
        this.reads.flush()
        while (this.node.hasReady() && !this.stopped) {
          const rd = this.node.ready()
          await this.handleReady(rd)
          this.node.advance(rd)
          this.flushProposals()
        }
        if (!this.wake || this.stopped) break
      }
    } catch (e) {
      this.logger.fatal({ err: e }, 'member loop failed; stopping')
      this.looping = false
      this.fail(e)
      return
    }
    this.looping = false
  }

  private fail(e: unknown): void {
    void this.stop().finally(() => {
      // A storage failure leaves the member unable to continue safely; exit so a supervisor restarts it.
      process.exitCode = 1
      this.p.onRemoved()
      void e
    })
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.lead, rd.softState.state)
    const termOrVoteChanged = rd.hardState !== undefined && (rd.hardState.term !== this.prevTerm || rd.hardState.vote !== this.prevVote)
    // A leader may send appends before its own fsync (Raft thesis §10.2.1): its acknowledgement counts only
    // once persisted, because the commit index moves only after this Ready is done. Anything else must be
    // durable before it is sent, and so must a term or vote change.
    const ackBeforeFsync = this.p.failpoints?.has('ack-before-fsync') === true
    const early = ackBeforeFsync || (this.node.raft.state === 'leader' && !termOrVoteChanged)
    if (early) this.sendMessages(rd.messages)
    const incoming = rd.snapshot ? this.takeIncoming(rd.snapshot) : undefined
    const saving = this.persistReady(rd, incoming, early, ackBeforeFsync)
    saving.catch(() => undefined) // observed below; this only keeps a failure during the apply from counting as unhandled
    // Committed entries already in our log apply while this Ready's writes are on their way to the
    // disk: their answers need not wait for an fsync of other, newer entries (see applyEarly).
    const applyEarly = this.canApplyEarly(rd)
    if (applyEarly) await this.applyCommitted(rd.committedEntries)
    await saving
    for (const rs of rd.readStates) this.reads.onReadState(rs.index, rs.requestContext)
    if (!applyEarly) await this.applyCommitted(rd.committedEntries)
    this.reads.onApplied()
    this.maybeCampaignAlone()
    await this.maybeSnapshot()
  }

  /** Step 1 and 2 of the Ready contract: persist, then (unless sent already) send. */
  private async persistReady(rd: Ready, incoming: { restore: () => Promise<void> } | undefined, early: boolean, ackBeforeFsync: boolean): Promise<void> {
    if (ackBeforeFsync && rd.entries.length > 0 && this.node.raft.state !== 'leader') {
      // Failpoint: a follower's write reaches the disk only a while after it was acknowledged. (The
      // leader is left alone: it answers a client only after its own write, so it is the followers'
      // early acknowledgements that let an entry commit while only the leader has it on disk.)
      await new Promise((r) => setTimeout(r, ACK_BEFORE_FSYNC_DELAY_MS))
    }
    const saveStarted = performance.now()
    await this.p.logStore.save(
      { entries: rd.entries, ...(rd.hardState ? { hardState: rd.hardState } : {}), ...(rd.snapshot ? { snapshot: rd.snapshot } : {}) },
      rd.mustSync,
    )
    if (rd.mustSync) this.p.observeFsyncSeconds?.((performance.now() - saveStarted) / 1000)
    // The snapshot is durable in the log first; its data stays spooled until the keyspace is restored,
    // so a crash in between is finished at the next start (see start.ts).
    if (rd.snapshot && incoming) await this.restoreSnapshot(rd.snapshot, incoming)
    if (rd.hardState) {
      this.prevTerm = rd.hardState.term
      this.prevVote = rd.hardState.vote
    }
    if (!early) this.sendMessages(rd.messages)
  }

  /**
   * Whether this Ready's committed entries may be applied before its own writes are durable: only
   * normal entries that were already in our stable log before this Ready (never one it appends), and
   * no snapshot. Their commit index may still be unsaved, so a crash can leave the keyspace applied
   * past the saved commit index; start.ts then starts Raft at the saved commit, and the entries it hands
   * out again are skipped by the keyspace (it knows its applied index) — which is why conf changes,
   * whose effects are not all idempotent, always wait for the save.
   */
  private canApplyEarly(rd: Ready): boolean {
    const committed = rd.committedEntries
    if (committed.length === 0 || rd.snapshot !== undefined) return false
    const firstAppended = rd.entries[0]?.index ?? Infinity
    if (committed[committed.length - 1]!.index >= firstAppended) return false
    return committed.every((e) => e.type !== 'conf-change')
  }

  private async applyCommitted(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return
    const applyStarted = performance.now()
    await this.applyEntries(entries)
    await this.maybePromoteLeases(entries[entries.length - 1]!.index)
    this.p.observeApplySeconds?.((performance.now() - applyStarted) / 1000, entries.length)
  }

  /**
   * Set on becoming leader: the index of the term's first entry. Leases start once the log is applied
   * up to it, so every entry of earlier terms is applied first — an expiry revoke a predecessor
   * appended in its own term included — and no keep-alive is answered for a lease such a revoke is
   * about to delete.
   */
  private leasePromotion: { term: number; index: number } | undefined = undefined

  /** Runs between applies (the loop awaits it), so no grant is applied between the read and the promotion. */
  private async maybePromoteLeases(appliedIndex: number): Promise<void> {
    const p = this.leasePromotion
    if (p === undefined || appliedIndex < p.index) return
    this.leasePromotion = undefined
    if (!this.isLeader() || this.node.raft.term !== p.term) return
    const { leases } = await this.mvcc.leases()
    // etcd's rule: a new leader gives every lease a fresh TTL, so none expires early for lack of keep-alives.
    if (this.isLeader() && this.node.raft.term === p.term) this.leases.promote(leases, Date.now(), 2 * this.p.electionTimeoutMs)
  }

  /** A single-voter cluster need not wait an election timeout to lead. */
  private maybeCampaignAlone(): void {
    const voters = this.confState.voters
    if (voters.length !== 1 || voters[0] !== this.id || this.node.raft.state !== 'follower' || this.node.raft.lead !== 0) return
    if (this.mvcc.appliedIndex() < this.node.raft.raftLog.committed) return
    this.node.campaign()
  }

  private onSoftState(lead: number, state: string): void {
    this.logger.info({ term: this.node.raft.term, lead: lead.toString(16), state }, 'raft state changed')
    this.leaderChanges++
    this.reads.reissue()
    if (state === 'leader') {
      // The log's last entry is this term's first (Raft appends it on becoming leader), or later.
      this.leasePromotion = { term: this.node.raft.term, index: this.node.raft.raftLog.lastIndex() }
    } else {
      this.leasePromotion = undefined
      this.leases.demote()
    }
  }

  private sendMessages(messages: Message[]): void {
    if (messages.length === 0) return
    const normal: Message[] = []
    for (const m of messages) {
      if (m.type === 'snap') this.startSnapshotSend(m)
      else normal.push(m)
    }
    if (normal.length > 0) this.p.transport.send(normal)
  }

  private startSnapshotSend(m: Message): void {
    if (this.snapshotsInFlight.has(m.to)) {
      this.node.reportSnapshot(m.to, false)
      return
    }
    this.snapshotsInFlight.add(m.to)
    // Called between applies, so the keyspace view, the conf state and the registry all describe the
    // same applied index. We send that state rather than the (data-less) Raft snapshot: etcd does the same.
    const view = this.mvcc.snapshot()
    const confState = this.confState
    const members = this.registry.list()
    view
      .then(async (ks) => {
        const term = this.node.raft.raftLog.termOrUndefined(ks.appliedIndex)
        if (term === undefined) {
          await ks.chunks.return?.()
          throw new Error(`no term known for applied index ${ks.appliedIndex}`)
        }
        const message: Message = { ...m, snapshot: { metadata: { index: ks.appliedIndex, term, confState }, data: new Uint8Array() } }
        this.logger.info({ peer: m.to.toString(16), index: ks.appliedIndex }, 'sending snapshot')
        return this.p.sendSnapshot(m.to, { message, members, chunks: ks.chunks })
      })
      .catch((e: unknown) => {
        this.logger.warn({ peer: m.to.toString(16), err: (e as Error).message }, 'snapshot send failed')
        return false
      })
      .then((ok) => {
        this.snapshotsInFlight.delete(m.to)
        this.node.reportSnapshot(m.to, ok)
        this.schedule()
      })
  }

  /**
   * A peer refused our connection with 410 Gone: it applied our removal. We may have missed applying
   * it ourselves (down or cut off when it committed), or be a removed leader that the others no longer
   * answer: either way we are out of the cluster for good, as etcd's members conclude on a 410.
   */
  removedByPeer(peer: number): void {
    if (this.stopped || this.removalNoticed) return
    this.removalNoticed = true
    this.logger.warn({ peer: peer.toString(16) }, 'a peer says this member was removed from the cluster; stopping')
    this.p.onRemoved()
  }

  private removalNoticed = false

  /** Inbound message from the transport. */
  receive(m: Message): void {
    try {
      this.node.step(m)
    } catch (e) {
      if (!(e instanceof RaftError)) throw e
    }
    this.schedule()
  }

  /** Inbound snapshot: kept until Raft hands it back in a Ready, then restored. */
  receiveSnapshot(m: Message, members: MemberInfo[], open: () => AsyncIterable<Uint8Array>, cleanup: () => Promise<void>): void {
    const previous = this.incoming
    // A superseded snapshot's spool goes; one for the same index was just replaced on disk anyway.
    if (previous && previous.index !== m.snapshot!.metadata.index) void previous.cleanup()
    const restore = async () => {
      await this.mvcc.restore(open())
      const batch = new WriteBatch()
      this.registry.stageReplaceAll(batch, members)
      await this.p.db.write(batch, { sync: true })
      await cleanup()
    }
    this.incoming = { index: m.snapshot!.metadata.index, restore, cleanup }
    this.receive(m)
  }

  private takeIncoming(s: Snapshot): { restore: () => Promise<void> } {
    const incoming = this.incoming
    if (!incoming || incoming.index !== s.metadata.index) throw new Error(`no data for snapshot at index ${s.metadata.index}`)
    this.incoming = undefined
    return incoming
  }

  private async restoreSnapshot(s: Snapshot, incoming: { restore: () => Promise<void> }): Promise<void> {
    await incoming.restore()
    const batch = new WriteBatch()
    this.p.logStore.stageConfState(batch, s.metadata.confState, s.metadata.index)
    await this.p.db.write(batch, { sync: true })
    this.confState = s.metadata.confState
    this.snapshotIndex = s.metadata.index
    this.syncTransportPeers()
    this.logger.info({ index: s.metadata.index, term: s.metadata.term }, 'restored snapshot from leader')
  }

  // ---- applying ----

  private async applyEntries(entries: Entry[]): Promise<void> {
    let group: Entry[] = []
    for (const e of entries) {
      if (e.type === 'conf-change') {
        await this.applyNormalGroup(group)
        group = []
        await this.applyConfChange(e)
        continue
      }
      group.push(e)
    }
    await this.applyNormalGroup(group)
  }

  /** Applies consecutive normal entries with one keyspace write for all of them. */
  private async applyNormalGroup(entries: Entry[]): Promise<void> {
    if (entries.length === 0) return
    const items: Array<{ index: number; request: ApplyRequest | undefined }> = []
    // Per entry: its payload and what it is — a keyspace request, a member request (applied here,
    // not by the store), or a lease expiry from another term (skipped).
    const payloads: Array<EntryPayload | undefined> = []
    const kinds: Array<'keyspace' | 'member' | 'stale'> = []
    for (const e of entries) {
      const payload = this.decodeEntry(e)
      payloads.push(payload)
      if (payload?.decidedInTerm !== undefined && payload.decidedInTerm !== e.term) {
        // A lease expiry decided by a leader of another term (deposed, its proposal forwarded to its
        // successor): that clock no longer speaks for the cluster. Every member skips it alike.
        kinds.push('stale')
        items.push({ index: e.index, request: undefined })
      } else if (payload !== undefined && isMemberRequest(payload.request)) {
        // Member requests touch only the registry, which no keyspace entry reads; the applied index
        // moves past them with the group, and a replay after a crash writes the same records again.
        await this.applyMemberRequest(payload.request)
        kinds.push('member')
        items.push({ index: e.index, request: undefined })
      } else {
        kinds.push('keyspace')
        items.push({ index: e.index, request: payload?.request as ApplyRequest | undefined })
      }
    }
    const outcomes = await this.mvcc.applyBatch(items)
    outcomes.forEach((applied, i) => {
      const payload = payloads[i]
      if (payload === undefined) return
      const kind = kinds[i]
      const outcome: ApplyOutcome =
        kind === 'stale' ? { status: 'refused', error: new CairnError('LeaderChanged', 'lease expiry decided in an earlier term') } : applied
      if (kind === 'keyspace') this.afterApply(payload.request as ApplyRequest, outcome)
      if (payload.proposer === this.id && payload.run === this.run) this.waiters.trigger(String(payload.seq), outcome)
    })
  }

  private decodeEntry(e: Entry): EntryPayload | undefined {
    if (e.data.byteLength === 0) return undefined
    try {
      return decodePayload(e.data)
    } catch (err) {
      this.logger.error({ index: e.index, err: (err as Error).message }, 'skipping undecodable entry')
      return undefined
    }
  }

  private afterApply(request: ApplyRequest, outcome: ApplyOutcome): void {
    if (outcome.status !== 'applied') return
    if ('leaseGrant' in request && outcome.response && 'leaseGrant' in outcome.response) {
      this.leases.granted(outcome.response.leaseGrant.id, outcome.response.leaseGrant.ttl, Date.now())
    } else if ('leaseRevoke' in request) {
      this.leases.revoked(request.leaseRevoke.id)
    }
  }

  private async applyMemberRequest(r: MemberRequest): Promise<void> {
    if ('publish' in r) {
      const existing = this.registry.get(r.publish.id)
      if (!existing) return
      const batch = new WriteBatch()
      this.registry.stagePut(batch, { ...existing, name: r.publish.name, clientUrls: r.publish.clientUrls })
      await this.p.db.write(batch, { sync: false })
    } else if ('leaseCheckpoint' in r) {
      // Written by earlier versions, which renewed leases through the log; keep-alives are now served
      // by the leader's clock alone, so there is nothing to do.
    } else if ('updateMember' in r) {
      const existing = this.registry.get(r.updateMember.id)
      if (!existing) return
      const batch = new WriteBatch()
      this.registry.stagePut(batch, { ...existing, peerUrls: r.updateMember.peerUrls })
      await this.p.db.write(batch, { sync: false })
      this.syncTransportPeers()
    }
  }

  private async applyConfChange(e: Entry): Promise<void> {
    let cc: ConfChange
    try {
      cc = decodeConfChange(e.data)
    } catch (err) {
      this.logger.error({ index: e.index, err: (err as Error).message }, 'skipping undecodable conf change')
      await this.mvcc.apply(e.index, undefined)
      return
    }
    let cs = this.confState
    try {
      cs = this.node.applyConfChange(cc)
    } catch (err) {
      // Every member refuses the same invalid change; the configuration stays as it was.
      this.logger.warn({ index: e.index, err: (err as Error).message }, 'refused conf change')
    }
    const batch = new WriteBatch()
    this.p.logStore.stageConfState(batch, cs, e.index)
    const info = parseMemberContext(cc.context)
    for (const change of cc.changes) {
      if (change.type === 'remove') this.registry.stageRemove(batch, change.nodeId)
      else {
        const known = this.registry.get(change.nodeId)
        const base: MemberInfo = known ?? { id: change.nodeId, name: '', peerUrls: [], clientUrls: [], isLearner: false }
        this.registry.stagePut(batch, {
          ...base,
          ...(info && info.id === change.nodeId ? { peerUrls: info.peerUrls, name: info.name ?? base.name } : {}),
          isLearner: change.type === 'add-learner',
        })
      }
    }
    // Conf state and registry first, then the applied index: a crash in between replays the entry,
    // and replaying it writes the same records again.
    await this.p.db.write(batch, { sync: false })
    await this.mvcc.apply(e.index, undefined)
    this.confState = cs
    this.syncTransportPeers()
    if (info?.requestKey) this.confWaiters.trigger(info.requestKey, cs)
    const removedSelf = cc.changes.some((c) => c.type === 'remove' && c.nodeId === this.id)
    if (removedSelf) {
      this.logger.warn('this member was removed from the cluster; stopping once leadership is handed over')
      // A removed leader keeps running until a remaining voter leads (Raft hands over by itself, or
      // steps down after an election timeout): stopping earlier could leave the others unaware that
      // the removal committed, and unable to elect anyone.
      let waited = 0
      const check = () => {
        if (this.stopped) return
        if (!this.isLeader()) return this.p.onRemoved()
        waited += 50
        if (waited % 10_000 === 0) this.logger.warn('removed, but still leading until a remaining member takes over')
        setTimeout(check, 50).unref?.()
      }
      setTimeout(check, 200).unref?.()
    }
  }

  private readonly confWaiters = new Waiters<ConfState>()

  private syncTransportPeers(): void {
    const ids = new Set([...this.confState.voters, ...this.confState.learners, ...this.confState.votersOutgoing, ...this.confState.learnersNext])
    for (const m of this.registry.list()) {
      if (m.id !== this.id && ids.has(m.id)) this.p.transport.addPeer(m.id, m.peerUrls)
    }
    for (const m of this.registry.list()) if (!ids.has(m.id)) this.p.transport.removePeer(m.id)
    this.p.transport.dropRemoved()
  }

  private async maybeSnapshot(): Promise<void> {
    const applied = this.mvcc.appliedIndex()
    if (applied - this.snapshotIndex < this.p.snapshotCount) return
    // Raft snapshots carry no data here: a follower that needs one is sent the live keyspace instead.
    await this.p.logStore.createSnapshot(applied, this.confState, new Uint8Array())
    this.snapshotIndex = applied
    const compactTo = applied - SNAPSHOT_CATCH_UP_ENTRIES
    if (compactTo > this.p.logStore.firstIndex()) await this.p.logStore.compact(compactTo)
    this.logger.info({ index: applied, compactedTo: Math.max(0, compactTo) }, 'took snapshot')
  }

  // ---- leases (leader's clock) ----

  private expireLeases(): void {
    if (this.node.raft.state !== 'leader') return
    for (const id of this.leases.expired(Date.now())) {
      this.propose({ leaseRevoke: { id } }, this.node.raft.term).catch((e: unknown) => {
        this.leases.retryLater(id)
        this.logger.debug({ lease: id, err: (e as Error).message }, 'lease revoke not committed yet')
      })
    }
  }

  // ---- requests ----

  dbSize(): { total: number; inUse: number } {
    return this.p.dbSize?.() ?? { total: 0, inUse: 0 }
  }

  raftStatus(): Status {
    return this.node.status()
  }

  peerConnected(id: number): boolean {
    return this.p.transport.isConnected(id)
  }

  /** Whether a conf change was proposed and is not applied yet (Raft accepts one at a time). */
  hasPendingConfChange(): boolean {
    return this.node.raft.pendingConfIndex > this.node.raft.raftLog.applied
  }

  /** Hands leadership to `target` and waits until it leads (or the timeout passes). */
  async transferLeadership(target: number, timeoutMs = REQUEST_TIMEOUT_MS): Promise<void> {
    if (!this.isLeader()) throw new NotLeaderError(this.leaderId())
    if (!this.confState.voters.includes(target)) throw new CairnError('BadLeaderTransferee')
    if (target === this.id) return
    this.node.transferLeader(target)
    this.schedule()
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (this.node.raft.lead === target) return
      await new Promise((r) => setTimeout(r, 20))
    }
    throw new CairnError('Timeout', 'leader transfer did not finish in time')
  }

  isLearner(): boolean {
    return this.confState.learners.includes(this.id)
  }

  isLeader(): boolean {
    return this.node.raft.state === 'leader'
  }

  leaderId(): number {
    return this.node.raft.lead
  }

  term(): number {
    return this.node.raft.term
  }

  raftIndex(): number {
    return this.node.raft.raftLog.lastIndex()
  }

  appliedIndex(): number {
    return this.mvcc.appliedIndex()
  }

  committedIndex(): number {
    return this.node.raft.raftLog.committed
  }

  currentConfState(): ConfState {
    return this.confState
  }

  /**
   * Waits a little for a leader when none is known (just after start, or during an election), so a
   * request that arrives then is served once the election ends instead of failing at once.
   */
  private async awaitLeader(): Promise<void> {
    const deadline = Date.now() + 2 * this.p.electionTimeoutMs
    while (this.node.raft.lead === 0 && !this.stopped && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  /** Proposes a request and resolves with its outcome once it is applied here. */
  async propose(request: ApplyRequest | MemberRequest, decidedInTerm?: number): Promise<ApplyOutcome> {
    if (this.stopped) throw new CairnError('Stopped')
    const refusal = this.p.admit?.(request)
    if (refusal !== undefined) await refusal
    if (this.node.raft.lead === 0) await this.awaitLeader()
    const seq = ++this.seq
    const data = encodePayload({ proposer: this.id, run: this.run, seq, request, ...(decidedInTerm === undefined ? {} : { decidedInTerm }) })
    const wait = this.waiters.wait(String(seq), REQUEST_TIMEOUT_MS)
    this.proposals.push({ seq, data })
    this.schedule()
    return wait
  }

  /**
   * Hands the proposals gathered since the last turn of the loop to Raft as one: one append, one
   * message per follower, one answer each, instead of one per request (which made the members
   * exchange about four messages per write). They would leave no sooner anyway: messages go out
   * with the next Ready, which the loop takes right after this.
   */
  private flushProposals(): void {
    if (this.proposals.length === 0) return
    const batch = this.proposals
    this.proposals = []
    try {
      this.node.proposeMany(batch.map((p) => p.data))
    } catch (e) {
      const error = e instanceof RaftError ? new NoLeaderError() : (e as Error)
      for (const p of batch) this.waiters.fail(String(p.seq), error)
    }
  }

  private async proposeExpect<T>(request: ApplyRequest, pick: (outcome: ApplyOutcome) => T | undefined): Promise<T> {
    const outcome = await this.propose(request)
    if (outcome.status === 'refused') throw outcome.error
    if (outcome.status === 'skipped') throw new Error('proposal applied twice')
    const value = pick(outcome)
    if (value === undefined) throw new Error('apply returned an unexpected response')
    return value
  }

  put(req: PutRequest): Promise<PutResponse> {
    return this.proposeExpect({ put: req }, (o) => (o.status === 'applied' && o.response && 'put' in o.response ? o.response.put : undefined))
  }

  deleteRange(req: DeleteRangeRequest): Promise<DeleteRangeResponse> {
    return this.proposeExpect({ deleteRange: req }, (o) =>
      o.status === 'applied' && o.response && 'deleteRange' in o.response ? o.response.deleteRange : undefined,
    )
  }

  async txn(req: TxnRequest): Promise<TxnResponse> {
    return this.proposeExpect({ txn: req }, (o) => (o.status === 'applied' && o.response && 'txn' in o.response ? o.response.txn : undefined))
  }

  async compact(req: CompactionRequest): Promise<CompactionResponse> {
    const r = await this.proposeExpect({ compaction: req }, (o) =>
      o.status === 'applied' && o.response && 'compaction' in o.response ? o.response.compaction : undefined,
    )
    // etcd's "physical" compaction answers only once the old history is really gone.
    if (req.physical) await this.mvcc.compacted()
    return r
  }

  async range(req: RangeRequest): Promise<RangeResponse> {
    if (!req.serializable) await this.linearizableBarrier()
    return this.mvcc.range(req)
  }

  /** Waits until a read served locally is linearizable (ReadIndex). */
  linearizableBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new CairnError('Stopped'))
    if (this.p.failpoints?.has('stale-reads')) return Promise.resolve()
    const p = this.reads.barrier()
    this.schedule()
    return p
  }

  leaseGrant(ttl: number, id: number): Promise<LeaseGrantResponse> {
    // The proposer picks the ID (the state machine draws no randomness); 0 asks us to.
    const leaseId = id > 0 ? id : randomLeaseId()
    return this.proposeExpect({ leaseGrant: { id: leaseId, ttl } }, (o) =>
      o.status === 'applied' && o.response && 'leaseGrant' in o.response ? o.response.leaseGrant : undefined,
    )
  }

  leaseRevoke(id: number): Promise<LeaseRevokeResponse> {
    return this.proposeExpect({ leaseRevoke: { id } }, (o) =>
      o.status === 'applied' && o.response && 'leaseRevoke' in o.response ? o.response.leaseRevoke : undefined,
    )
  }

  /**
   * A keep-alive, served by the leader from its own clock (as etcd does): no log entry, and no race with
   * an expiry already decided. Followers forward keep-alives to the leader (see the API). A new leader
   * gives every lease a fresh TTL, so renewals answered by a deposed leader cannot make a lease expire
   * early once check-quorum has stepped that leader down.
   */
  async leaseKeepAlive(id: number): Promise<{ id: number; ttl: number }> {
    if (!this.isLeader() || !this.leases.isActive() || this.node.raft.removedFromConfig) throw new NotLeaderError(this.leaderId())
    const info = await this.mvcc.leaseTimeToLive({ id })
    if (!info) throw new LeaseNotFoundError(id)
    const renewed = this.leases.renew(id, Date.now())
    if (!renewed) throw new LeaseNotFoundError(id)
    return { id, ttl: info.grantedTtl }
  }

  /** Remaining seconds of a lease as the leader's clock sees it (the granted TTL on followers). */
  leaseRemainingSeconds(id: number, grantedTtl: number): number {
    const remaining = this.leases.remainingMs(id, Date.now())
    if (remaining === undefined) return grantedTtl
    return Math.max(0, Math.ceil(remaining / 1000))
  }

  async proposeConfChange(cc: ConfChange, requestKey: string): Promise<ConfState> {
    if (this.node.raft.lead === 0) await this.awaitLeader()
    const wait = this.confWaiters.wait(requestKey, REQUEST_TIMEOUT_MS)
    try {
      this.node.proposeConfChange(cc)
    } catch (e) {
      this.confWaiters.fail(requestKey, e instanceof RaftError ? new NoLeaderError() : (e as Error))
    }
    this.schedule()
    return wait
  }

  publish(): void {
    const attempt = () => {
      if (this.stopped) return
      this.propose({ publish: { id: this.id, name: this.name, clientUrls: this.p.clientUrls } }).catch(() => {
        setTimeout(attempt, 500).unref?.()
      })
    }
    attempt()
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    if (this.tickTimer) clearInterval(this.tickTimer)
    if (this.leaseTimer) clearInterval(this.leaseTimer)
    if (this.progressTimer) clearInterval(this.progressTimer)
    const err = new CairnError('Stopped')
    this.proposals = []
    this.waiters.failAll(err)
    this.confWaiters.failAll(err)
    this.reads.failAll(err)
    this.watchHub.close()
    this.p.transport.close()
    // Let an in-flight Ready finish its write before closing storage.
    for (let i = 0; i < 100 && this.looping; i++) await new Promise((r) => setTimeout(r, 10))
    await this.p.logStore.close()
    await this.mvcc.close()
  }
}

function randomLeaseId(): number {
  // 52 random bits, never 0: lease IDs are safe integers in Cairn.
  return Math.floor(Math.random() * 2 ** 52) + 1
}

interface MemberContext {
  id: number
  name?: string
  peerUrls: string[]
  requestKey?: string
}

/** Conf change context: JSON {id, name, peerUrls, requestKey}. Tolerates anything (it comes from the log). */
export function parseMemberContext(context: Uint8Array): MemberContext | undefined {
  if (context.byteLength === 0) return undefined
  try {
    const v = JSON.parse(new TextDecoder().decode(context)) as Record<string, unknown>
    if (typeof v.id !== 'number' || !Array.isArray(v.peerUrls)) return undefined
    const out: MemberContext = { id: v.id, peerUrls: v.peerUrls.filter((u): u is string => typeof u === 'string') }
    if (typeof v.name === 'string') out.name = v.name
    if (typeof v.requestKey === 'string') out.requestKey = v.requestKey
    return out
  } catch {
    return undefined
  }
}

export function encodeMemberContext(c: MemberContext): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(c))
}
