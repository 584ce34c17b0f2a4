// The reboot agent's I/O loop (locksmithd): gather the state (reboot needed? holding a slot?), ask
// decide(), act (take a slot, give it back, reboot), repeat. Before rebooting it persists the attempt,
// so that the agent started after the boot knows it rebooted and gives its slot back.

import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { Client } from '../../core/client/index.ts'
import { compare, op } from '../../core/client/index.ts'
import type { Clock } from '../../recipes/clock.ts'
import { systemClock } from '../../recipes/clock.ts'
import { Session } from '../../recipes/lock/index.ts'
import { NotHolderError, Semaphore, SemaphoreFullError } from '../../recipes/semaphore/index.ts'
import type { AgentAction, AgentState, Strategy } from './decide.ts'
import { backoffMs, decide } from './decide.ts'
import type { PersistedState } from './state.ts'
import { clearState, readBootId, readState, writeState } from './state.ts'
import type { RebootWindow } from './window.ts'

export interface RebootdConfig {
  id: string
  strategy: Strategy
  group: string | undefined
  window: RebootWindow | undefined
  rebootCommand: string
  /** Reboot is needed while this file exists. */
  rebootNeededFile: string | undefined
  /** Reboot is needed while this key exists in the store. */
  rebootNeededKey: string | undefined
  stateDir: string
  bootIdFile: string
  /** Holder liveness: TTL of the lease that keeps our slot while we are alive (undefined: off). */
  holderTtlSeconds: number | undefined
  checkIntervalMs: number
  backoffMinMs: number
  backoffMaxMs: number
  /** How long to wait for the machine to go down after the reboot command succeeded. */
  rebootWaitMs: number
}

export interface Log {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

/** Runs the reboot command; resolves with its exit code (non-zero when it could not start). */
export type RunCommand = (command: string, env: Record<string, string>) => Promise<number>

export const runShell: RunCommand = (command, env) =>
  new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', () => resolve(127))
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })

export interface RebootdDeps {
  clock?: Clock
  runCommand?: RunCommand
  random?: () => number
}

export class Rebootd {
  readonly semaphore: Semaphore
  private readonly clock: Clock
  private readonly runCommand: RunCommand
  private readonly random: () => number
  private readonly stopController = new AbortController()
  private poke = new AbortController()
  /** The liveness session (holder-ttl), kept across attempts. */
  private session: Session | undefined
  /** A liveness lease from before our restart, to adopt if it is still alive. */
  private adoptLeaseId: number | undefined
  private failures = 0
  private retryAtMs = 0
  /** The reboot command has been started: from here on the slot is kept through the reboot. */
  private rebooting = false
  private lastAction = ''

  constructor(
    private readonly client: Client,
    private readonly cfg: RebootdConfig,
    private readonly log: Log,
    deps: RebootdDeps = {},
  ) {
    this.clock = deps.clock ?? systemClock
    this.runCommand = deps.runCommand ?? runShell
    this.random = deps.random ?? Math.random
    this.semaphore = new Semaphore(client, {
      ...(cfg.group !== undefined ? { group: cfg.group } : {}),
      pruneDeadHolders: cfg.holderTtlSeconds !== undefined,
      clock: this.clock,
    })
  }

  get stopped(): boolean {
    return this.stopController.signal.aborted
  }

  /** The reboot command has been started (a stop now keeps the slot). */
  get isRebooting(): boolean {
    return this.rebooting
  }

  /** Runs until stop(), then shuts down (see shutdown()). */
  async run(): Promise<void> {
    this.log.info({ id: this.cfg.id, strategy: this.cfg.strategy, group: this.cfg.group ?? '', key: this.semaphore.key }, 'rebootd: started')
    await this.afterRestart()
    const watching = this.watchSemaphore()
    while (!this.stopped) {
      try {
        await this.step()
      } catch (e) {
        // An operating error (a full disk, a refused write): log it and try again later.
        this.log.error({ err: (e as Error).message }, 'rebootd: step failed')
        await this.sleepFor(this.cfg.checkIntervalMs)
      }
    }
    await watching
    await this.shutdown()
  }

  /** Ends the loop; run() resolves once the agent has shut down. */
  stop(): void {
    this.stopController.abort()
  }

  /**
   * A slot taken but not used is given back (even one whose lock call was cut short, so the
   * outcome is unknown); during a reboot nothing is given back: the machine is going down and keeps
   * its slot until it is up again.
   */
  private async shutdown(): Promise<void> {
    if (this.rebooting) {
      this.session?.abandon()
      this.log.info({}, 'rebootd: stopped during a reboot; the slot is kept')
      return
    }
    if (this.cfg.strategy === 'etcd-lock') {
      try {
        await this.semaphore.unlock(this.cfg.id, { timeoutMs: 3000 })
        this.log.info({ id: this.cfg.id }, 'rebootd: released the reboot slot on stop')
      } catch (e) {
        if (!(e instanceof NotHolderError)) this.log.warn({ err: (e as Error).message }, 'rebootd: could not release the slot on stop')
      }
      clearState(this.cfg.stateDir)
    }
    await this.session?.close()
    this.log.info({}, 'rebootd: stopped')
  }

  /** One round: gather, decide, act. */
  async step(): Promise<void> {
    let state: AgentState & { neededKeyRevision: number | undefined }
    try {
      state = await this.gather()
    } catch (e) {
      if (this.stopped) return
      this.log.warn({ err: (e as Error).message }, 'rebootd: cannot read the store')
      await this.sleepFor(this.cfg.checkIntervalMs)
      return
    }
    const action = decide(state, this.cfg.checkIntervalMs)
    this.note(action)
    switch (action.kind) {
      case 'wait':
        await this.sleepFor(action.untilMs - this.clock.now())
        return
      case 'lock':
        await this.tryLock()
        return
      case 'release':
        await this.release(action.why)
        return
      case 'reboot':
        await this.reboot(state.neededKeyRevision)
        return
    }
  }

  private async gather(): Promise<AgentState & { neededKeyRevision: number | undefined }> {
    let rebootNeeded = this.cfg.rebootNeededFile !== undefined && existsSync(this.cfg.rebootNeededFile)
    let neededKeyRevision: number | undefined
    if (this.cfg.rebootNeededKey !== undefined) {
      const kv = (await this.client.get(this.cfg.rebootNeededKey, { signal: this.stopController.signal })).kvs[0]
      if (kv !== undefined) {
        rebootNeeded = true
        neededKeyRevision = kv.modRevision
      }
    }
    let holding = false
    if (this.cfg.strategy !== 'reboot') {
      holding = (await this.semaphore.status({ signal: this.stopController.signal })).value.holders.includes(this.cfg.id)
      if (holding) await this.keepLiveness()
    }
    return {
      strategy: this.cfg.strategy,
      nowMs: this.clock.now(),
      window: this.cfg.window,
      rebootNeeded,
      holding,
      retryAtMs: this.retryAtMs,
      neededKeyRevision,
    }
  }

  private note(a: AgentAction): void {
    const text = a.kind === 'wait' ? `wait: ${a.why}` : a.kind === 'release' ? `release: ${a.why}` : a.kind
    if (text !== this.lastAction) this.log.info({ action: a.kind, ...(a.kind === 'wait' || a.kind === 'release' ? { why: a.why } : {}) }, `rebootd: ${text}`)
    this.lastAction = text
  }

  private async tryLock(): Promise<void> {
    try {
      const lease = await this.livenessLease()
      await this.semaphore.lock(this.cfg.id, { signal: this.stopController.signal, ...(lease !== undefined ? { lease } : {}) })
      this.failures = 0
      try {
        this.persist('locked', undefined)
      } catch (e) {
        this.log.warn({ err: (e as Error).message }, 'rebootd: cannot record the slot (the reboot step records it again)')
      }
      this.log.info({ id: this.cfg.id }, 'rebootd: took a reboot slot')
    } catch (e) {
      if (this.stopped) return
      this.failures++
      this.retryAtMs = this.clock.now() + backoffMs(this.failures - 1, this.cfg.backoffMinMs, this.cfg.backoffMaxMs, this.random)
      if (e instanceof SemaphoreFullError) this.log.debug({ semaphore: e.semaphore }, 'rebootd: no free slot')
      else this.log.warn({ err: (e as Error).message }, 'rebootd: lock failed')
    }
  }

  private async release(why: string): Promise<void> {
    try {
      await this.semaphore.unlock(this.cfg.id)
    } catch (e) {
      if (!(e instanceof NotHolderError)) {
        this.log.warn({ err: (e as Error).message }, 'rebootd: unlock failed')
        await this.sleepFor(this.cfg.backoffMinMs)
        return
      }
    }
    clearState(this.cfg.stateDir)
    await this.session?.close()
    this.session = undefined
    this.log.info({ id: this.cfg.id, why }, 'rebootd: released the reboot slot')
  }

  private async reboot(neededKeyRevision: number | undefined): Promise<void> {
    this.rebooting = true
    try {
      this.persist('rebooting', neededKeyRevision)
    } catch (e) {
      // Without the record, the agent after the boot would not know to give the slot back.
      this.rebooting = false
      this.log.error({ err: (e as Error).message, stateDir: this.cfg.stateDir }, 'rebootd: cannot record the attempt; not rebooting')
      this.retryAtMs = this.clock.now() + this.cfg.backoffMaxMs
      if (this.cfg.strategy === 'etcd-lock') await this.release('cannot record the attempt')
      return
    }
    this.log.info({ id: this.cfg.id, command: this.cfg.rebootCommand }, 'rebootd: rebooting')
    const code = await this.runCommand(this.cfg.rebootCommand, {
      CAIRN_REBOOTD_ID: this.cfg.id,
      CAIRN_REBOOTD_PID: String(process.pid),
      CAIRN_REBOOTD_GROUP: this.cfg.group ?? '',
    })
    if (this.stopped) return
    if (code === 0) {
      // The machine is going down: wait for it, keeping the slot.
      await this.clock.sleep(this.cfg.rebootWaitMs, this.stopController.signal)
      if (this.stopped) return
      this.log.error({ waitedMs: this.cfg.rebootWaitMs }, 'rebootd: the reboot command succeeded but the machine did not go down')
    } else {
      this.log.error({ code }, 'rebootd: the reboot command failed')
    }
    this.rebooting = false
    this.failures++
    this.retryAtMs = this.clock.now() + this.cfg.backoffMaxMs
    if (this.cfg.strategy === 'etcd-lock') await this.release('the reboot did not happen')
    else clearState(this.cfg.stateDir)
  }

  /** After a restart: a reboot recorded under another boot ID has happened, so its slot is given back. */
  private async afterRestart(): Promise<void> {
    const st = readState(this.cfg.stateDir)
    if (st === undefined) return
    const bootId = readBootId(this.cfg.bootIdFile)
    const rebooted = st.phase === 'rebooting' && (bootId === undefined || st.bootId === undefined || bootId !== st.bootId)
    if (!rebooted) {
      // Only the agent restarted: the attempt goes on (the loop re-checks window and need).
      this.adoptLeaseId = st.leaseId
      if (st.phase === 'rebooting') writeState(this.cfg.stateDir, { ...st, phase: 'locked' })
      this.log.info({ phase: st.phase }, 'rebootd: resuming an attempt from before the restart')
      return
    }
    await this.releaseAfterBoot(st)
  }

  private async releaseAfterBoot(st: PersistedState): Promise<void> {
    const sem = st.group === this.cfg.group ? this.semaphore : new Semaphore(this.client, st.group !== undefined ? { group: st.group } : {})
    while (!this.stopped && st.strategy === 'etcd-lock') {
      try {
        await sem.unlock(st.id)
        break
      } catch (e) {
        if (e instanceof NotHolderError) break
        this.log.warn({ err: (e as Error).message }, 'rebootd: cannot release the slot after boot yet')
        await this.sleepFor(this.cfg.backoffMinMs)
      }
    }
    if (this.stopped) return
    if (st.leaseId !== undefined) await this.client.lease.revoke(st.leaseId, { timeoutMs: 3000 }).catch(() => undefined)
    if (st.neededKey !== undefined && st.neededKeyRevision !== undefined) {
      // Clear the request we acted on, unless it was renewed meanwhile.
      await this.client
        .txn()
        .if(compare.modRevision(st.neededKey, '=', st.neededKeyRevision))
        .then(op.delete(st.neededKey))
        .commit()
        .catch((e: Error) => this.log.warn({ err: e.message }, 'rebootd: cannot clear the reboot-needed key'))
    }
    clearState(this.cfg.stateDir)
    this.log.info({ id: st.id, rebootedAtMs: st.atMs }, 'rebootd: rebooted; released the reboot slot')
  }

  /** With liveness on: the lease our slot is bound to, created (or adopted) when missing or lost. */
  private async livenessLease(): Promise<number | undefined> {
    const ttl = this.cfg.holderTtlSeconds
    if (ttl === undefined) return undefined
    if (this.session && !this.session.isLost) return this.session.leaseId
    this.session = undefined
    if (this.adoptLeaseId !== undefined) {
      const leaseId = this.adoptLeaseId
      this.adoptLeaseId = undefined
      try {
        this.session = await Session.create(this.client, { leaseId })
        return leaseId
      } catch {
        // Gone: grant a new one.
      }
    }
    this.session = await Session.create(this.client, { ttlSeconds: ttl })
    return this.session.leaseId
  }

  /** While holding with liveness on: keep our liveness key bound to a live lease. */
  private async keepLiveness(): Promise<void> {
    if (this.cfg.holderTtlSeconds === undefined) return
    if (this.session && !this.session.isLost) return
    const lease = await this.livenessLease()
    if (lease !== undefined) await this.semaphore.refreshLiveness(this.cfg.id, lease)
  }

  private persist(phase: PersistedState['phase'], neededKeyRevision: number | undefined): void {
    writeState(this.cfg.stateDir, {
      phase,
      id: this.cfg.id,
      group: this.cfg.group,
      strategy: this.cfg.strategy,
      bootId: readBootId(this.cfg.bootIdFile),
      leaseId: this.session?.leaseId,
      neededKey: this.cfg.rebootNeededKey,
      neededKeyRevision,
      atMs: this.clock.now(),
    })
  }

  /** Wakes the loop early when the semaphore changes (a slot may have been freed). */
  private async watchSemaphore(): Promise<void> {
    const signal = this.stopController.signal
    while (!signal.aborted) {
      try {
        for await (const resp of this.client.watch(this.semaphore.key, { signal })) {
          if (resp.events.length === 0) continue
          this.retryAtMs = Math.min(this.retryAtMs, this.clock.now() + Math.floor(this.random() * this.cfg.backoffMinMs))
          this.wake()
        }
      } catch (e) {
        this.log.debug({ err: (e as Error).message }, 'rebootd: semaphore watch ended; watching again')
      }
      await this.clock.sleep(1000, signal)
    }
  }

  private wake(): void {
    const p = this.poke
    this.poke = new AbortController()
    p.abort()
  }

  private sleepFor(ms: number): Promise<void> {
    return this.clock.sleep(Math.max(0, ms), AbortSignal.any([this.stopController.signal, this.poke.signal]))
  }
}
