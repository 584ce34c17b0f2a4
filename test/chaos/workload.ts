// What every workload shares: the run context, logical clients (Jepsen's processes) and op counters.

import { sleep } from '../cluster/harness.ts'
import type { Prng } from '../sim/prng.ts'
import type { ChaosCluster } from './cluster.ts'
import { call } from './http.ts'
import type { Outcome } from './http.ts'

export interface RunContext {
  cluster: ChaosCluster
  prng: Prng
  /** Milliseconds since the run's origin (performance.now based, so monotonic). */
  now(): number
  /** True once clients should stop issuing operations. */
  stopping(): boolean
  opTimeoutMs: number
  log: (line: string) => void
  /** Acknowledged writes through the leader (the ledger's first writer), for faults timed right after one. */
  acks: AckSignal
}

/**
 * Tells a waiting nemesis the moment a write through the leader is acknowledged (and by which member),
 * so that a crash can strike while an early acknowledgement is still exposed.
 */
export class AckSignal {
  private waiters: Array<(member: number) => void> = []

  notify(member: number): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w(member)
  }

  /** The member that answered the next acknowledged write, or undefined if none comes within timeoutMs. */
  next(timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const waiter = (member: number) => {
        clearTimeout(timer)
        resolve(member)
      }
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter)
        resolve(undefined)
      }, timeoutMs)
      this.waiters.push(waiter)
    })
  }
}

/** A workload client cut off from every member, as if its process were paused; `heal` reconnects it. */
export interface ClientPause {
  what: string
  heal: () => void
}

export interface OpCounts {
  ok: number
  fail: number
  indeterminate: number
}

export interface WorkloadResult {
  /** Safety verdict of this workload's checks ('unknown' when the checker ran out of budget). */
  linearizable: boolean | 'unknown'
  /** Acknowledged writes missing at the end. */
  lost: number
  /** Safety violations, one line each (with details below them). */
  problems: string[]
  /** Liveness trouble and other things worth a look that are not safety violations. */
  warnings: string[]
  /** Figures for the report. */
  notes: string[]
}

export interface Workload {
  readonly name: string
  readonly counts: OpCounts
  /** Runs the clients until ctx.stopping(). */
  run(ctx: RunContext): Promise<void>
  /** After every fault is healed: final reads and the checks. */
  finish(ctx: RunContext): Promise<WorkloadResult>
  /**
   * Workloads whose clients reach the members through proxies of their own can pause one (the
   * `pause-client` fault); `pick` in [0, 1) chooses which. Undefined: nothing to pause now.
   */
  pauseClient?(pick: number): ClientPause | undefined
  /** Releases what the workload holds (proxies, connections); called once, also after a failure. */
  close?(): Promise<void>
}

let nextClientId = 0

/**
 * A logical client: talks to one member until an operation does not come back ok, then moves to another
 * (a client library's failover). After an indeterminate operation it takes a new identity, as Jepsen
 * does, because the old operation may still be in flight.
 */
export class Client {
  id = nextClientId++
  private member: number

  constructor(
    private readonly ctx: RunContext,
    start: number,
    private readonly counts: OpCounts,
  ) {
    this.member = start % ctx.cluster.size
  }

  get memberIndex(): number {
    return this.member
  }

  async request<T>(path: string, body: unknown, timeoutMs = this.ctx.opTimeoutMs): Promise<Outcome<T> & { call: number; ret: number }> {
    const url = this.ctx.cluster.members[this.member]!.clientUrl
    const callAt = this.ctx.now()
    const r = await call<T>(url, path, body, timeoutMs)
    const ret = this.ctx.now()
    this.counts[r.type === 'ok' ? 'ok' : r.type]++
    if (r.type !== 'ok') {
      this.moveOn(r.type === 'indeterminate')
      // A refused connection fails at once: no hot loop against a dead member.
      await sleep(this.ctx.prng.int(10, 50))
    }
    return { ...r, call: callAt, ret }
  }

  /** Talks to member i from now on. */
  moveTo(i: number): void {
    this.member = i
  }

  moveOn(newIdentity: boolean): void {
    const n = this.ctx.cluster.size
    this.member = (this.member + 1 + this.ctx.prng.int(0, Math.max(0, n - 2))) % n
    if (newIdentity) this.id = nextClientId++
  }
}

/** A request retried on every member in turn until it is answered (bounded by the deadline). */
export async function answered<T>(ctx: RunContext, path: string, body: unknown, deadlineMs = 30_000): Promise<T | undefined> {
  const until = Date.now() + deadlineMs
  for (let attempt = 0; Date.now() < until; attempt++) {
    const m = ctx.cluster.members[attempt % ctx.cluster.size]!
    if (m.state === 'running') {
      const r = await call<T>(m.clientUrl, path, body, 3_000)
      if (r.type === 'ok') return r.value
    }
    await sleep(100)
  }
  return undefined
}

/**
 * The same request answered by each running member (each serves a linearizable read from its own copy
 * after a ReadIndex round, so this also shows replicas that diverged). Bounded by the deadline.
 */
export async function answeredByEach<T>(ctx: RunContext, path: string, body: unknown, deadlineMs = 15_000): Promise<Array<{ member: string; answer: T | undefined }>> {
  const until = Date.now() + deadlineMs
  return Promise.all(
    ctx.cluster.members.map(async (m) => {
      for (let attempt = 0; Date.now() < until && m.state === 'running'; attempt++) {
        const r = await call<T>(m.clientUrl, path, body, 3_000)
        if (r.type === 'ok') return { member: m.name, answer: r.value }
        await sleep(200)
      }
      return { member: m.name, answer: undefined }
    }),
  )
}

export function emptyResult(): WorkloadResult {
  return { linearizable: true, lost: 0, problems: [], warnings: [], notes: [] }
}

export function newCounts(): OpCounts {
  return { ok: 0, fail: 0, indeterminate: 0 }
}
