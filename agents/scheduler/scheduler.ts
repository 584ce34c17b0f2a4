// `cairn scheduler`'s loop. Several may run; the election picks the one that acts. The leader
// reconciles whenever something under /cairn/work/ changes (debounced, so a burst of agent reports is
// one pass), every --interval as a safety net, and when a vanished machine's grace period runs out.
// A pass reads everything, asks decide() for a plan, checks the plan against the safety rules and
// writes it fenced by the election key. Losing the leadership ends the pass and the watch; the
// scheduler campaigns again.

import { hostname } from 'node:os'
import type { Client } from '../../core/client/index.ts'
import type { Clock } from '../../recipes/clock.ts'
import { systemClock } from '../../recipes/clock.ts'
import { Election } from '../../recipes/election/index.ts'
import type { Leadership } from '../../recipes/election/election.ts'
import { planViolations } from '../../recipes/work/check.ts'
import { decide } from '../../recipes/work/decide.ts'
import type { SchedulerState } from '../../recipes/work/decide.ts'
import { ELECTION_NAME, JOBS_PREFIX, parseNameKey, replicaId, WORK_PREFIX } from '../../recipes/work/layout.ts'
import { readWorld } from '../../recipes/work/read.ts'
import { AbsenceTracker } from './absence.ts'
import { writePlan } from './write.ts'

export interface Log {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface SchedulerConfig {
  /** Who we are, as proclaimed in the election. */
  id: string
  machineGraceMs: number
  intervalMs: number
  debounceMs: number
  /** Election lease TTL (seconds): how soon a standby takes over from a dead leader. */
  ttlSeconds: number
}

export const SCHEDULER_DEFAULTS = { machineGrace: '30s', interval: '5s', debounce: '100ms', ttlSeconds: 10 } as const

export function defaultSchedulerId(): string {
  return `${hostname()}:${process.pid}`
}

export class Scheduler {
  private readonly stopper = new AbortController()
  private readonly clock: Clock
  private kickController = new AbortController()
  private kickTimer: NodeJS.Timeout | undefined

  constructor(
    private readonly client: Client,
    private readonly cfg: SchedulerConfig,
    private readonly log: Log,
    deps: { clock?: Clock } = {},
  ) {
    this.clock = deps.clock ?? systemClock
  }

  stop(): void {
    this.stopper.abort()
  }

  /** Campaigns, leads until the leadership is lost, campaigns again; until stop(). */
  async run(): Promise<void> {
    const election = new Election(this.client, ELECTION_NAME, { ttlSeconds: this.cfg.ttlSeconds })
    this.log.info({ id: this.cfg.id, graceMs: this.cfg.machineGraceMs }, 'scheduler: campaigning')
    while (!this.stopper.signal.aborted) {
      let leadership: Leadership
      try {
        leadership = await election.campaign(this.cfg.id, { signal: this.stopper.signal })
      } catch (e) {
        if (this.stopper.signal.aborted) break
        this.log.warn({ err: (e as Error).message }, 'scheduler: campaign failed; trying again')
        await this.clock.sleep(1000, this.stopper.signal)
        continue
      }
      this.log.info({ id: this.cfg.id, fencingToken: leadership.fencingToken }, 'scheduler: leading')
      try {
        await this.lead(leadership)
      } finally {
        // Stopping: step down so a standby takes over at once. Lost: nothing of ours is left to delete.
        await leadership.resign({ timeoutMs: 3000 }).catch(() => undefined)
      }
      if (!this.stopper.signal.aborted) this.log.warn({ reason: (leadership.signal.reason as Error | undefined)?.message }, 'scheduler: no longer leading')
    }
    this.log.info({}, 'scheduler: stopped')
  }

  private async lead(leadership: Leadership): Promise<void> {
    const signal = AbortSignal.any([leadership.signal, this.stopper.signal])
    const absence = new AbsenceTracker()
    let onReady!: () => void
    const ready = new Promise<void>((resolve) => (onReady = resolve))
    const watching = this.watchChanges(signal, onReady)
    // Watch before the first read, so that no change after that read goes unnoticed.
    await Promise.race([ready, new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }))])
    try {
      while (!signal.aborted) {
        let nextDueMs = this.clock.now() + this.cfg.intervalMs
        try {
          const expiry = await this.pass(leadership, absence, signal)
          if (expiry !== undefined) nextDueMs = Math.min(nextDueMs, expiry + 10)
        } catch (e) {
          if (signal.aborted) break
          this.log.warn({ err: (e as Error).message }, 'scheduler: pass failed; trying again')
          nextDueMs = Math.min(nextDueMs, this.clock.now() + 500)
        }
        await this.waitForKick(nextDueMs, signal)
      }
    } finally {
      await watching
    }
  }

  /** One reconcile; returns when the next grace period runs out, if any machine is absent. */
  private async pass(leadership: Leadership, absence: AbsenceTracker, signal: AbortSignal): Promise<number | undefined> {
    const world = await readWorld(this.client, signal)
    for (const b of world.bad) this.log.warn(b, 'scheduler: ignoring an undecodable key')
    // A job whose spec cannot be read (a bad hand edit) is left exactly as it runs: neither stopped
    // nor placed, until its spec is fixed or it is removed.
    const unreadable = new Set(world.bad.map((b) => parseNameKey(JOBS_PREFIX, b.key)).filter((n) => n !== undefined))
    const nowMs = this.clock.now()
    const referenced = [...world.assignments.map((a) => a.machine), ...world.statuses.map((s) => s.machine)]
    const state: SchedulerState = {
      jobs: world.jobs,
      machines: world.machines,
      assignments: world.assignments.filter((a) => !unreadable.has(a.job)),
      statuses: world.statuses.filter((s) => !unreadable.has(s.job)).map(({ machine, job, replica }) => ({ machine, job, replica })),
      absent: new Map(absence.update(world.machines, referenced, nowMs)),
      nowMs,
      graceMs: this.cfg.machineGraceMs,
    }
    const decision = decide(state)
    const problems = planViolations(state, decision.actions)
    if (problems.length > 0) {
      // A bug in decide(): writing would break a safety rule. Say so loudly and write nothing.
      this.log.error({ problems, revision: world.revision }, 'scheduler: refusing an unsafe plan')
      return absence.nextExpiry(this.cfg.machineGraceMs)
    }
    if (decision.actions.length > 0) {
      const outcome = await writePlan(this.client, leadership.guard(), world.revision, decision.actions, world.jobs)
      if (outcome.kind === 'refused') {
        await this.checkStillLeading(leadership)
        this.kick(0)
      } else {
        for (const a of decision.actions) {
          const fields = { machine: a.machine, replica: replicaId(a), ...(a.kind === 'unassign' ? { reason: a.reason } : {}) }
          this.log.info(fields, `scheduler: ${a.kind}`)
        }
      }
    }
    if (decision.unplaced.length > 0) this.log.debug({ unplaced: decision.unplaced.map(replicaId) }, 'scheduler: replicas with nowhere to run')
    if (decision.waiting.length > 0) this.log.debug({ machines: decision.waiting }, 'scheduler: keeping the work of absent machines during their grace period')
    return absence.nextExpiry(this.cfg.machineGraceMs)
  }

  /** A refused write: either the picture changed (read again) or we were deposed (stop leading). */
  private async checkStillLeading(leadership: Leadership): Promise<void> {
    const r = await this.client.get(leadership.key)
    const kv = r.kvs[0]
    if (kv === undefined || kv.createRevision !== leadership.fencingToken) leadership.lose('our election key is gone (the write was fenced off)')
  }

  private async watchChanges(signal: AbortSignal, onReady: () => void): Promise<void> {
    while (!signal.aborted) {
      const watch = this.client.watch(WORK_PREFIX, { prefix: true, signal })
      watch.ready.then(onReady, () => undefined)
      try {
        for await (const resp of watch) if (resp.events.length > 0) this.kick(this.cfg.debounceMs)
      } catch (e) {
        if (signal.aborted) return
        // Compacted or refused: a full pass covers whatever was missed.
        this.log.debug({ err: (e as Error).message }, 'scheduler: watch ended; watching again')
        this.kick(0)
        await this.clock.sleep(200, signal)
      }
    }
  }

  /** Asks for a pass in `delayMs`, unless one is already due sooner (a burst becomes one pass). */
  private kick(delayMs: number): void {
    if (this.kickTimer !== undefined && delayMs > 0) return
    if (this.kickTimer !== undefined) clearTimeout(this.kickTimer)
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined
      this.kickController.abort()
    }, delayMs)
  }

  private async waitForKick(untilMs: number, signal: AbortSignal): Promise<void> {
    const kicked = this.kickController.signal
    if (!kicked.aborted) await this.clock.sleep(Math.max(0, untilMs - this.clock.now()), AbortSignal.any([kicked, signal]))
    if (this.kickController.signal.aborted) this.kickController = new AbortController()
  }
}
