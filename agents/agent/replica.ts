// Supervises one assigned replica on this machine: start its program, report its status, restart it
// by its policy, restart it when its assignment changes (new spec), stop it when unassigned or told.
//
// Invariant: while the program may be running, its status key exists. The status is written (and
// acknowledged) before the program starts and deleted only after it has exited — the scheduler
// places a replica elsewhere only when it sees no status for it anywhere.

import type { Assignment } from '../../recipes/work/assignment.ts'
import type { ReplicaRef } from '../../recipes/work/layout.ts'
import { replicaId } from '../../recipes/work/layout.ts'
import type { ReplicaState, ReplicaStatus } from '../../recipes/work/status.ts'
import { encodeStatus } from '../../recipes/work/status.ts'
import { Child } from './child.ts'
import type { ExitInfo } from './policy.ts'
import { HEALTHY_RUN_MS, restartDelayMs, shouldRestart, succeeded } from './policy.ts'

export interface Log {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface ReplicaDeps {
  machine: string
  logDir: string
  stopTimeoutMs: number
  restartDelayMinMs: number
  restartDelayMaxMs: number
  /** Writes (or with null deletes) this replica's status; resolves false when it can no longer write. */
  report: (value: string | null) => Promise<boolean>
  log: Log
}

export class ReplicaRunner {
  /** The assignment to run; undefined once unassigned or stopped. */
  private desired: Assignment | undefined
  private wake: () => void = () => undefined
  /** Set (synchronously) when the loop has decided to end: a new assignment then needs a new runner. */
  private ending = false
  private restarts = 0
  /** Resolves when the program has stopped and the status is gone. */
  readonly done: Promise<void>

  constructor(
    readonly ref: ReplicaRef,
    assignment: Assignment,
    private readonly deps: ReplicaDeps,
  ) {
    this.desired = assignment
    this.done = this.loop()
  }

  get id(): string {
    return replicaId(this.ref)
  }

  /** A new value of the assignment; false when this runner is already ending (start a new one after `done`). */
  update(a: Assignment): boolean {
    if (this.ending) return false
    this.desired = a
    this.wake()
    return true
  }

  /** Unassigned (or the agent stops): stop the program and remove the status. */
  remove(): void {
    this.desired = undefined
    this.wake()
  }

  private changed(current: Assignment): boolean {
    return this.desired === undefined || this.desired.revision !== current.revision
  }

  /** Resolves when update() or remove() is called, or after ms. */
  private waitForChange(ms: number): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined
      const done = () => {
        if (timer) clearTimeout(timer)
        this.wake = () => undefined
        resolve()
      }
      if (ms !== Infinity) timer = setTimeout(done, ms)
      this.wake = done
    })
  }

  /** Waits until the assignment differs from `current`, or until `deadline` (ms since 1970) passes. */
  private async waitUntilChanged(current: Assignment, deadline = Infinity): Promise<void> {
    while (!this.changed(current) && Date.now() < deadline) await this.waitForChange(deadline - Date.now())
  }

  private status(state: ReplicaState, a: Assignment, extra: Partial<ReplicaStatus> = {}): Promise<boolean> {
    const s: ReplicaStatus = { state, pid: 0, exitCode: null, signal: null, restarts: this.restarts, since: Date.now(), revision: a.revision, ...extra }
    return this.deps.report(encodeStatus(s))
  }

  private async loop(): Promise<void> {
    let failures = 0
    try {
      while (this.desired !== undefined) {
        const current = this.desired
        const outcome = await this.runOnce(current)
        if (outcome === 'lost') return
        if (outcome === 'changed') {
          if (this.desired !== undefined) this.restarts = 0
          failures = 0
          continue
        }
        // The program ended by itself.
        const { exit, ranMs } = outcome
        failures = ranMs >= HEALTHY_RUN_MS ? 1 : failures + 1
        const final = succeeded(exit) ? 'exited' : 'failed'
        const fields = { pid: 0, exitCode: exit.code, signal: exit.signal, ...(outcome.message ? { message: outcome.message } : {}) }
        if (!shouldRestart(current.spec.restart, exit)) {
          this.deps.log.info({ replica: this.id, ...exit }, `agent: ${this.id} ${final}; not restarting (restart: ${current.spec.restart})`)
          await this.status(final, current, fields)
          await this.waitUntilChanged(current)
          this.restarts = 0
          failures = 0
          continue
        }
        const delayMs = restartDelayMs(failures, this.deps.restartDelayMinMs, this.deps.restartDelayMaxMs)
        this.deps.log.info({ replica: this.id, ...exit, delayMs }, `agent: ${this.id} ${final}; restarting`)
        await this.status(final, current, fields)
        await this.waitUntilChanged(current, Date.now() + delayMs)
        if (!this.changed(current)) this.restarts++
      }
    } finally {
      this.ending = true
      await this.deps.report(null)
    }
  }

  /** Starts the program and waits for it to end or for the assignment to change (then stops it). */
  private async runOnce(a: Assignment): Promise<'lost' | 'changed' | { exit: ExitInfo; ranMs: number; message?: string }> {
    // The status first: from here on the scheduler knows something may run here.
    if (!(await this.status('starting', a))) return 'lost'
    if (this.changed(a)) return 'changed'
    let child: Child
    try {
      child = await Child.start({ spec: a.spec, ref: this.ref, machine: this.deps.machine, logDir: this.deps.logDir, stopTimeoutMs: this.deps.stopTimeoutMs })
    } catch (e) {
      const message = `cannot start ${JSON.stringify(a.spec.command[0])}: ${(e as Error).message}`
      this.deps.log.warn({ replica: this.id, err: message }, 'agent: start failed')
      return { exit: { code: 127, signal: null }, ranMs: 0, message }
    }
    this.deps.log.info({ replica: this.id, pid: child.pid, revision: a.revision }, `agent: started ${this.id}`)
    void this.status('running', a, { pid: child.pid })
    const ended = child.exited.then(() => 'exited' as const)
    for (;;) {
      const woke = await Promise.race([ended, this.waitForChange(Infinity).then(() => 'woke' as const)])
      this.wake = () => undefined
      if (woke === 'exited') {
        // Stop whatever the program left in its group.
        const exit = await child.stop(0)
        return { exit, ranMs: Date.now() - child.startedAt }
      }
      if (!this.changed(a)) continue
      this.deps.log.info({ replica: this.id, pid: child.pid }, `agent: stopping ${this.id} (${this.desired === undefined ? 'unassigned' : 'new spec'})`)
      const exit = await child.stop(this.deps.stopTimeoutMs)
      this.deps.log.info({ replica: this.id, ...exit }, `agent: stopped ${this.id}`)
      return 'changed'
    }
  }
}
