// `cairn agent`'s loop: hold a session (a lease kept alive), announce the machine under
// machines/<id> bound to it, follow only assign/<id>/ (read, then watch from the read's revision),
// and keep one ReplicaRunner per assignment. If the session is lost, every program is stopped at
// once — the lease's expiry is exactly when the scheduler starts counting this machine as gone, so
// its work may soon run elsewhere — and the agent registers again with a new session, picking up
// whatever is still assigned to it.

import type { Client } from '../../core/client/index.ts'
import { compare, op, toText } from '../../core/client/index.ts'
import type { Clock } from '../../recipes/clock.ts'
import { systemClock } from '../../recipes/clock.ts'
import { Session } from '../../recipes/lock/session.ts'
import type { Assignment } from '../../recipes/work/assignment.ts'
import { parseAssignment } from '../../recipes/work/assignment.ts'
import { ASSIGN_PREFIX, assignPrefixOf, machineKey, parseReplicaKey, replicaId, statusKey } from '../../recipes/work/layout.ts'
import type { ReplicaRef } from '../../recipes/work/layout.ts'
import { encodeMachineInfo } from '../../recipes/work/machine.ts'
import type { Resources } from '../../recipes/work/spec.ts'
import { stopLeftovers } from './leftovers.ts'
import { StatusReporter } from './reporter.ts'
import type { Log } from './replica.ts'
import { ReplicaRunner } from './replica.ts'

export interface AgentConfig {
  machineId: string
  labels: Record<string, string>
  capacity: Partial<Resources>
  ttlSeconds: number
  logDir: string
  stopTimeoutMs: number
  restartDelayMinMs: number
  restartDelayMaxMs: number
}

export class Agent {
  private readonly stopper = new AbortController()
  private readonly runners = new Map<string, ReplicaRunner>()
  /** Assignments waiting for the previous runner of the same replica to finish stopping. */
  private readonly pending = new Map<string, { ref: ReplicaRef; assignment: Assignment }>()
  private readonly clock: Clock
  /** Registrations so far (a new one after each lost session). */
  sessions = 0

  constructor(
    private readonly client: Client,
    private readonly cfg: AgentConfig,
    private readonly log: Log,
    deps: { clock?: Clock } = {},
  ) {
    this.clock = deps.clock ?? systemClock
  }

  get stopped(): boolean {
    return this.stopper.signal.aborted
  }

  stop(): void {
    this.stopper.abort()
  }

  /** Registers, runs the assigned work, and again after a lost session; until stop(). */
  async run(): Promise<void> {
    const leftovers = await stopLeftovers(this.cfg.logDir, this.cfg.stopTimeoutMs)
    if (leftovers.length > 0) this.log.warn({ programs: leftovers }, 'agent: stopped programs left running by a previous agent')
    let backoffMs = 200
    while (!this.stopped) {
      let session: Session
      try {
        session = await Session.create(this.client, { ttlSeconds: this.cfg.ttlSeconds })
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'agent: cannot get a lease; trying again')
        await this.clock.sleep(backoffMs, this.stopper.signal)
        backoffMs = Math.min(5000, backoffMs * 2)
        continue
      }
      backoffMs = 200
      this.sessions++
      const reporter = new StatusReporter(this.client, session.leaseId, (key, e) => this.log.warn({ key, err: e.message }, 'agent: status write failed; retrying'))
      const signal = AbortSignal.any([session.signal, this.stopper.signal])
      try {
        await this.serve(session, reporter, signal)
      } catch (e) {
        if (!signal.aborted) this.log.error({ err: (e as Error).message }, 'agent: failed; registering again')
      } finally {
        if (session.isLost && !this.stopped) this.log.warn({ reason: (session.signal.reason as Error).message }, 'agent: lease lost; stopping all work')
        // With the lease gone the statuses are gone too: stop without waiting on the store.
        if (session.isLost) reporter.close()
        await this.stopAll()
        reporter.close()
        // Revoked rather than left to expire: a fresh registration need not wait for it (closing a
        // lost session revokes nothing).
        await session.close()
      }
      if (!this.stopped) await this.clock.sleep(500, this.stopper.signal)
    }
    this.log.info({}, 'agent: stopped')
  }

  private async serve(session: Session, reporter: StatusReporter, signal: AbortSignal): Promise<void> {
    await this.retrying('registering', signal, () => this.register(session, signal))
    if (signal.aborted) return
    this.log.info({ lease: session.leaseId.toString(16), labels: this.cfg.labels }, 'agent: registered')
    const prefix = assignPrefixOf(this.cfg.machineId)
    while (!signal.aborted) {
      const r = await this.retrying('reading assignments', signal, () => this.client.get(prefix, { prefix: true, signal }))
      if (r === undefined) return
      const seen = new Set<string>()
      for (const kv of r.kvs) {
        const ref = parseReplicaKey(ASSIGN_PREFIX, toText(kv.key))
        if (ref === undefined) continue
        seen.add(replicaId(ref))
        this.assign(ref, toText(kv.value), reporter)
      }
      // After a resync (the watch was compacted), drop what is no longer assigned.
      for (const [id, runner] of this.runners) if (!seen.has(id)) runner.remove()
      for (const id of [...this.pending.keys()]) if (!seen.has(id)) this.pending.delete(id)
      const watch = this.client.watch(prefix, { prefix: true, startRevision: r.header.revision + 1, signal })
      try {
        for await (const resp of watch) {
          for (const e of resp.events) {
            const ref = parseReplicaKey(ASSIGN_PREFIX, toText(e.kv.key))
            if (ref === undefined) continue
            if (e.type === 'DELETE') this.unassign(ref)
            else this.assign(ref, toText(e.kv.value), reporter)
          }
        }
      } catch (e) {
        if (signal.aborted) return
        this.log.warn({ err: (e as Error).message }, 'agent: assignment watch ended; reading again')
      }
    }
  }

  /**
   * Runs `fn` until it succeeds or `signal` aborts (then undefined). A store that is briefly
   * unavailable (a leader change, a member restart) must not stop the work: only the lease decides.
   */
  private async retrying<T>(what: string, signal: AbortSignal, fn: () => Promise<T>): Promise<T | undefined> {
    let delayMs = 200
    while (!signal.aborted) {
      try {
        return await fn()
      } catch (e) {
        if (signal.aborted) return undefined
        this.log.warn({ err: (e as Error).message }, `agent: ${what} failed; trying again`)
        await this.clock.sleep(delayMs, signal)
        delayMs = Math.min(2000, delayMs * 2)
      }
    }
    return undefined
  }

  /** Puts our machine key, unless another live agent holds this machine ID: then waits for it to go. */
  private async register(session: Session, signal: AbortSignal): Promise<void> {
    const key = machineKey(this.cfg.machineId)
    const info = encodeMachineInfo({ id: this.cfg.machineId, labels: this.cfg.labels, capacity: this.cfg.capacity, stopTimeoutMs: this.cfg.stopTimeoutMs, startedAt: Date.now() })
    let warned = false
    while (!signal.aborted) {
      const r = await this.client
        .txn()
        .if(compare.createRevision(key, '=', 0))
        .then(op.put(key, info, { lease: session.leaseId }))
        .else(op.get(key))
        .commit({ signal })
      if (r.succeeded) return
      const other = r.responses[0]?.kind === 'range' ? r.responses[0].range.kvs[0] : undefined
      if (other?.lease === session.leaseId) return
      if (!warned) {
        // Another agent with our ID — or our own previous run, whose lease has not run out yet.
        this.log.warn({ lease: other?.lease.toString(16) }, 'agent: machine ID registered by another lease; waiting for it to expire')
        warned = true
      }
      await this.clock.sleep(1000, signal)
    }
  }

  private assign(ref: ReplicaRef, value: string, reporter: StatusReporter): void {
    let a: Assignment
    try {
      a = parseAssignment(value)
    } catch (e) {
      this.log.error({ replica: replicaId(ref), err: (e as Error).message }, 'agent: ignoring an undecodable assignment')
      return
    }
    const id = replicaId(ref)
    const existing = this.runners.get(id)
    if (existing?.update(a)) return
    if (existing === undefined) {
      this.startRunner(ref, a, reporter)
      return
    }
    // The previous runner is still stopping: start afresh once it is done (never two at once).
    const waiting = this.pending.has(id)
    this.pending.set(id, { ref, assignment: a })
    if (waiting) return
    void existing.done.then(() => {
      const next = this.pending.get(id)
      this.pending.delete(id)
      if (next !== undefined && !this.stopped && !this.runners.has(id)) this.startRunner(next.ref, next.assignment, reporter)
    })
  }

  private unassign(ref: ReplicaRef): void {
    this.pending.delete(replicaId(ref))
    this.runners.get(replicaId(ref))?.remove()
  }

  private startRunner(ref: ReplicaRef, a: Assignment, reporter: StatusReporter): void {
    const id = replicaId(ref)
    const runner = new ReplicaRunner(ref, a, {
      machine: this.cfg.machineId,
      logDir: this.cfg.logDir,
      stopTimeoutMs: this.cfg.stopTimeoutMs,
      restartDelayMinMs: this.cfg.restartDelayMinMs,
      restartDelayMaxMs: this.cfg.restartDelayMaxMs,
      report: (v) => reporter.set(statusKey(this.cfg.machineId, ref), v),
      log: this.log,
    })
    this.runners.set(id, runner)
    void runner.done.then(() => {
      if (this.runners.get(id) === runner) this.runners.delete(id)
    })
  }

  private async stopAll(): Promise<void> {
    this.pending.clear()
    const all = [...this.runners.values()]
    for (const r of all) r.remove()
    await Promise.all(all.map((r) => r.done))
  }
}
