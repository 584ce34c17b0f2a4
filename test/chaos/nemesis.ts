// The nemesis: faults on a schedule drawn from the seed. The schedule fixes, per step, when it starts,
// how long it holds, which kinds of fault it injects and their parameters (durations, delays, link
// modes, whether to aim at the leader or at a member chosen by a drawn number). Which member is the
// leader is only known when the step runs, so a replay repeats the schedule, not the exact interleaving.
//
// Each step: wait a quiet gap, inject 1–2 faults, hold, heal them all (restart killed members, resume
// paused ones, heal links, re-add a removed member), and go on. Every fault is healed when the run
// ends, and every loop here is bounded by a deadline.

import { sleep } from '../cluster/harness.ts'
import { Prng } from '../sim/prng.ts'
import type { ChaosCluster } from './cluster.ts'
import { call } from './http.ts'
import type { LinkMode } from './proxy.ts'

export const FAULT_KINDS = [
  'kill',
  'pause',
  'crash-all',
  'partition-halves',
  'partition-leader-minority',
  'partition-isolate',
  'partition-bridge',
  'partition-ring',
  'one-way',
  'delay',
  'slow-leader',
  'member',
  'pause-client',
  'crash-after-ack',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** Kinds that restart the whole cluster: only when named (or with `all`). */
const WHOLE_CLUSTER_FAULTS: FaultKind[] = ['crash-all', 'crash-after-ack']

/**
 * The kinds used when none are named: everything but the whole-cluster crashes. `pause-client` acts only
 * on workloads whose clients have proxies of their own (lock); runChaos drops it for the others, so their
 * schedules are the same as before it existed.
 */
export const DEFAULT_FAULTS: FaultKind[] = FAULT_KINDS.filter((k) => !WHOLE_CLUSTER_FAULTS.includes(k))

export interface FaultSpec {
  kind: FaultKind
  /** When it starts, after the step's start (the first fault at once, a second one a little later). */
  offsetMs: number
  /** Aim at the leader (when known) rather than at a member picked by `pick`. */
  atLeader: boolean
  /** A number in [0, 1) that picks members at run time. */
  pick: number
  /** For partitions: refuse connections, or black-hole them (frozen until healed). */
  linkMode: 'reject' | 'blackhole'
  /** For one-way: the chosen member cannot send (true) or cannot receive (false). */
  outbound: boolean
  /** For delay: ms added to each chunk, and its jitter; whether only the chosen member's outbound links. */
  delayMs: number
  jitterMs: number
  fromOneOnly: boolean
}

export interface Step {
  startMs: number
  holdMs: number
  faults: FaultSpec[]
}

export interface ScheduleOptions {
  seed: number
  durationMs: number
  faults: FaultKind[]
  electionMs: number
  size: number
  /** Quiet time between steps, and how long a fault holds. */
  quietMsMin: number
  quietMsMax: number
  holdMsMin: number
  holdMsMax: number
  /** Probability that a step adds a second fault of the other family (process vs network). */
  combine: number
  /** How long a `pause-client` lasts: longer than the paused client's lease TTL, so the lease runs out. */
  clientPauseMsMin: number
  clientPauseMsMax: number
}

const PROCESS_FAULTS: FaultKind[] = ['kill', 'pause', 'crash-all', 'member', 'pause-client', 'crash-after-ack']

export function schedule(o: ScheduleOptions): Step[] {
  const prng = new Prng(o.seed)
  const kinds = o.faults.filter((k) => k !== 'partition-ring' || o.size >= 5)
  const steps: Step[] = []
  if (kinds.length === 0) return steps
  let t = 0
  for (let i = 0; i < 10_000; i++) {
    t += prng.int(o.quietMsMin, o.quietMsMax)
    const first = prng.pick(kinds)
    let hold = prng.int(o.holdMsMin, o.holdMsMax)
    const faults = [spec(prng, first, 0)]
    // A second fault during the first: a process fault while a network fault holds (membership changes
    // during faults most of all). The network fault goes first; the process fault comes 20–60% into
    // the hold, so it strikes a cluster already running under the network fault.
    const others = kinds.filter((k) => PROCESS_FAULTS.includes(k) !== PROCESS_FAULTS.includes(first))
    if (others.length > 0 && prng.chance(first === 'member' ? Math.max(o.combine, 0.7) : o.combine)) {
      const second = spec(prng, prng.pick(others), prng.int(Math.floor(hold * 0.2), Math.floor(hold * 0.6)))
      if (PROCESS_FAULTS.includes(first)) {
        faults[0]!.offsetMs = second.offsetMs
        second.offsetMs = 0
        faults.unshift(second)
      } else faults.push(second)
    }
    // A pause must outlast the election timeout (randomized in [T, 2T)) for the others to move on.
    const pause = faults.find((f) => f.kind === 'pause')
    if (pause) hold = Math.max(hold, pause.offsetMs + prng.int(Math.ceil(2.2 * o.electionMs), 5 * o.electionMs))
    // A paused client must stay away until its lease has run out on the server.
    const clientPause = faults.find((f) => f.kind === 'pause-client')
    if (clientPause) hold = Math.max(hold, clientPause.offsetMs + prng.int(o.clientPauseMsMin, o.clientPauseMsMax))
    if (t + hold > o.durationMs) break
    steps.push({ startMs: t, holdMs: hold, faults })
    t += hold
  }
  return steps
}

function spec(prng: Prng, kind: FaultKind, offsetMs: number): FaultSpec {
  return {
    kind,
    offsetMs,
    atLeader: prng.chance(0.5),
    pick: prng.float(),
    linkMode: prng.chance(0.5) ? 'reject' : 'blackhole',
    outbound: prng.chance(0.5),
    delayMs: prng.int(20, 90),
    jitterMs: prng.int(0, 15),
    fromOneOnly: prng.chance(0.5),
  }
}

export interface NemesisLog {
  (line: string): void
}

/** What the nemesis needs from the run for the faults aimed at the workload's own clients and writes. */
export interface NemesisHooks {
  /** The member that answered the next write through the leader (undefined: none within timeoutMs). */
  nextAck?: (timeoutMs: number) => Promise<number | undefined>
  /** Cuts one workload client off from every member (see Workload.pauseClient). */
  pauseClient?: (pick: number) => { what: string; heal: () => void } | undefined
}

/** How long crash-after-ack waits for an acknowledged write, and for the others to elect a leader. */
const ACK_WAIT_MS = 3_000
const ELECTION_WAIT_MS = 15_000

/** Runs a schedule against a cluster and counts the faults it injected, by kind. */
export class Nemesis {
  readonly injected = new Map<string, number>()
  readonly failedAttempts = new Map<string, number>()
  private stopped = false
  /** IDs of the members the nemesis removed (IDs are never reused). */
  private readonly removedIds = new Set<string>()

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly steps: Step[],
    private readonly log: NemesisLog,
    private readonly origin: number,
    private readonly hooks: NemesisHooks = {},
  ) {}

  stop(): void {
    this.stopped = true
  }

  private count(map: Map<string, number>, kind: string): void {
    map.set(kind, (map.get(kind) ?? 0) + 1)
  }

  async run(): Promise<void> {
    for (const step of this.steps) {
      if (this.stopped) break
      await this.sleepUntil(this.origin + step.startMs)
      if (this.stopped) break
      // A member removed without the nemesis knowing (it exited on learning so) comes back as a new one.
      await this.readdAllRemoved(Date.now() + 10_000)
      const heals: Array<() => Promise<void>> = []
      for (const f of step.faults) {
        await this.sleepUntil(this.origin + step.startMs + f.offsetMs)
        if (this.stopped) break
        try {
          const heal = await this.inject(f)
          if (heal) heals.push(heal)
        } catch (e) {
          this.count(this.failedAttempts, f.kind)
          this.log(`nemesis: ${f.kind} failed: ${(e as Error).message}`)
        }
      }
      await this.sleepUntil(this.origin + step.startMs + step.holdMs)
      for (const heal of heals.reverse()) {
        try {
          await heal()
        } catch (e) {
          this.log(`nemesis: heal failed: ${(e as Error).message}`)
        }
      }
    }
  }

  private async sleepUntil(at: number): Promise<void> {
    while (!this.stopped && Date.now() < at) await sleep(Math.min(100, at - Date.now()))
  }

  /** Running members (not removed), in index order. */
  private candidates(): number[] {
    return this.cluster.members.filter((m) => m.state === 'running' && this.cluster.isAlive(m.index)).map((m) => m.index)
  }

  private async target(f: FaultSpec): Promise<number | undefined> {
    const cands = this.candidates()
    if (cands.length === 0) return undefined
    if (f.atLeader) {
      const l = await this.cluster.leader(1000)
      if (l !== undefined && cands.includes(l)) return l
    }
    return cands[Math.floor(f.pick * cands.length)]
  }

  private async inject(f: FaultSpec): Promise<(() => Promise<void>) | undefined> {
    const c = this.cluster
    const n = c.size
    const all = [...Array(n).keys()]
    switch (f.kind) {
      case 'kill': {
        const t = await this.target(f)
        if (t === undefined) return undefined
        await c.kill(t)
        this.done(f.kind, `kill -9 ${c.members[t]!.name}`)
        return async () => this.restart(t)
      }
      case 'crash-after-ack':
        return this.crashAfterAck()
      case 'pause-client': {
        const pause = this.hooks.pauseClient?.(f.pick)
        if (!pause) return undefined
        this.done(f.kind, pause.what)
        return async () => pause.heal()
      }
      case 'crash-all': {
        const victims = this.candidates()
        await Promise.all(victims.map((i) => c.kill(i)))
        this.done(f.kind, `kill -9 ${victims.map((i) => c.members[i]!.name).join(',')}`)
        return async () => {
          for (const i of victims) this.restart(i)
        }
      }
      case 'pause': {
        const t = await this.target(f)
        if (t === undefined || !c.pause(t)) return undefined
        this.done(f.kind, `SIGSTOP ${c.members[t]!.name}`)
        return async () => c.resume(t)
      }
      case 'partition-halves': {
        const order = rotate(all, Math.floor(f.pick * n))
        return this.partition(f, [order.slice(0, Math.floor(n / 2)), order.slice(Math.floor(n / 2))])
      }
      case 'partition-leader-minority': {
        const leader = (await c.leader(1000)) ?? Math.floor(f.pick * n)
        const rest = rotate(
          all.filter((i) => i !== leader),
          Math.floor(f.pick * (n - 1)),
        )
        const minority = [leader, ...rest.slice(0, Math.floor(n / 2) - 1)]
        return this.partition(f, [minority, all.filter((i) => !minority.includes(i))])
      }
      case 'partition-isolate': {
        const t = (await this.target(f)) ?? Math.floor(f.pick * n)
        return this.partition(f, [[t], all.filter((i) => i !== t)])
      }
      case 'partition-bridge': {
        // Two sides that cannot talk, and one member that talks to both.
        const order = rotate(all, Math.floor(f.pick * n))
        const bridge = order[0]!
        const half = Math.floor((n - 1) / 2)
        const left = order.slice(1, 1 + half)
        const right = order.slice(1 + half)
        const blocked: Array<[number, number]> = []
        for (const a of left) for (const b of right) blocked.push([a, b], [b, a])
        this.block(f, blocked)
        this.done(f.kind, `bridge ${c.members[bridge]!.name} between ${names(c, left)} | ${names(c, right)} (${f.linkMode})`)
        return async () => c.healNetwork()
      }
      case 'partition-ring': {
        // Each member sees itself and its ring neighbours (a majority of 5), no two the same majority.
        const blocked: Array<[number, number]> = []
        for (const a of all) for (const b of all) if (a !== b && ringDistance(a, b, n) > 1) blocked.push([a, b])
        this.block(f, blocked)
        this.done(f.kind, `majorities ring (${f.linkMode})`)
        return async () => c.healNetwork()
      }
      case 'one-way': {
        const t = (await this.target(f)) ?? Math.floor(f.pick * n)
        const others = all.filter((i) => i !== t)
        const blocked: Array<[number, number]> = others.map((o) => (f.outbound ? [t, o] : [o, t]))
        this.block(f, blocked)
        this.done(f.kind, `${c.members[t]!.name} can ${f.outbound ? 'receive but not send' : 'send but not receive'} (${f.linkMode})`)
        return async () => c.healNetwork()
      }
      case 'delay': {
        const t = (await this.target(f)) ?? Math.floor(f.pick * n)
        const mode: LinkMode = { kind: 'delay', delayMs: f.delayMs, jitterMs: f.jitterMs }
        for (const a of all) for (const b of all) if (a !== b && (!f.fromOneOnly || a === t)) c.setLink(a, b, mode)
        this.done(f.kind, `${f.fromOneOnly ? `links from ${c.members[t]!.name}` : 'all links'} +${f.delayMs}±${f.jitterMs} ms`)
        return async () => c.healNetwork()
      }
      case 'slow-leader': {
        // A leader with a slow outbound network: its appends arrive late, the answers come back at once.
        const t = (await c.leader(1000)) ?? Math.floor(f.pick * n)
        const mode: LinkMode = { kind: 'delay', delayMs: 100 + Math.round(f.delayMs / 2), jitterMs: f.jitterMs }
        for (const b of all) if (b !== t) c.setLink(t, b, mode)
        this.done(f.kind, `links from ${c.members[t]!.name} (leader) +${mode.delayMs}±${f.jitterMs} ms`)
        return async () => c.healNetwork()
      }
      case 'member':
        return this.memberChange(f)
    }
  }

  private done(kind: string, what: string): void {
    this.count(this.injected, kind)
    this.log(`nemesis: ${what}`)
  }

  private partition(f: FaultSpec, sides: number[][]): () => Promise<void> {
    const blocked: Array<[number, number]> = []
    for (const a of sides[0]!) for (const b of sides[1]!) blocked.push([a, b], [b, a])
    this.block(f, blocked)
    this.done(f.kind, `partition ${names(this.cluster, sides[0]!)} | ${names(this.cluster, sides[1]!)} (${f.linkMode})`)
    return async () => this.cluster.healNetwork()
  }

  private block(f: FaultSpec, links: Array<[number, number]>): void {
    for (const [a, b] of links) this.cluster.setLink(a, b, { kind: f.linkMode })
  }

  /**
   * kill -9 of every member the moment a write through the leader is acknowledged, while the followers'
   * copies may still be only in memory (if they acknowledged early); at the heal the others restart
   * first and the old leader only once they have elected a leader among themselves, so an entry only
   * the old leader had on disk is lost (a correct build has it on a quorum, hence on the winner).
   */
  private async crashAfterAck(): Promise<(() => Promise<void>) | undefined> {
    const c = this.cluster
    if (!this.hooks.nextAck) return undefined
    const leader = await c.leader(1000)
    if (leader === undefined) throw new Error('no leader to crash after')
    const member = await this.hooks.nextAck(ACK_WAIT_MS)
    if (member === undefined) throw new Error(`no write acknowledged within ${ACK_WAIT_MS} ms`)
    // No await before the kills: each signal is sent at once, in this same tick.
    const victims = this.candidates()
    await Promise.all(victims.map((i) => c.kill(i)))
    this.done('crash-after-ack', `kill -9 ${names(c, victims)} right after a write acknowledged by ${c.members[member]!.name} (${c.members[leader]!.name} leads; it restarts last)`)
    return async () => {
      for (const i of victims) if (i !== leader) this.restart(i)
      const deadline = Date.now() + ELECTION_WAIT_MS
      let elected = false
      while (!elected && Date.now() < deadline && !this.stopped) {
        const l = await c.leader(1000)
        elected = l !== undefined && l !== leader && (await c.waitHealthy(2_000))
      }
      this.log(`nemesis: ${elected ? 'the others elected a leader' : 'no leader among the others in time'}; restarting ${c.members[leader]!.name}`)
      if (victims.includes(leader)) this.restart(leader)
    }
  }

  private restart(i: number): void {
    const m = this.cluster.members[i]!
    if (m.state === 'removed' || this.cluster.isAlive(i)) return
    this.cluster.start(i)
  }

  /** Removes a member now; the heal adds it back as a new member (fresh data dir, same slot). */
  private async memberChange(f: FaultSpec): Promise<(() => Promise<void>) | undefined> {
    const c = this.cluster
    if (c.members.some((m) => m.state === 'removed')) return undefined
    const t = await this.target(f)
    if (t === undefined) return undefined
    const victim = c.members[t]!
    const via = this.candidates().filter((i) => i !== t)
    const list = await this.memberList(via)
    const entry = list?.find((m) => m.peerURLs?.includes(victim.peerUrl))
    if (!entry) throw new Error(`cannot find ${victim.name} in the member list`)
    let removed = false
    let refusal = 'no answer'
    for (const i of via) {
      const r = await call<unknown>(c.members[i]!.clientUrl, '/v3/cluster/member/remove', { ID: entry.ID }, 8_000)
      if (r.type === 'ok') {
        removed = true
        break
      }
      if (r.type === 'fail' || /not enough started|member not found|unhealthy|not leader/i.test(r.error)) {
        refusal = r.error
        break
      }
    }
    // A refusal can follow an earlier attempt that took effect after all (`member not found`), and
    // a member that was removed without the nemesis knowing would later be restarted with its old data
    // dir and refused for good: the member list decides.
    if (!removed) {
      const after = await this.memberList(via)
      if (!after || after.some((m) => m.ID === entry.ID)) throw new Error(`remove ${victim.name}: ${refusal}`)
    }
    victim.state = 'removed'
    this.removedIds.add(entry.ID)
    this.done('member', `removed ${victim.name} (${entry.ID})`)
    // A removed member exits by itself once it learns it; one cut off by a fault never does.
    const exited = Date.now() + 3_000
    while (c.isAlive(t) && Date.now() < exited) await sleep(100)
    if (c.isAlive(t)) {
      if (victim.proc) victim.proc.kill('SIGCONT')
      await c.kill(t)
    }
    return async () => this.readd(t)
  }

  async readdAllRemoved(deadlineMs: number): Promise<void> {
    for (const m of this.cluster.members) {
      while (m.state === 'removed' && Date.now() < deadlineMs) {
        try {
          await this.readd(m.index)
        } catch (e) {
          this.log(`nemesis: re-add ${m.name} failed: ${(e as Error).message}`)
          await sleep(1000)
        }
      }
    }
  }

  private async readd(t: number): Promise<void> {
    const c = this.cluster
    const victim = c.members[t]!
    if (victim.state !== 'removed') return
    const via = this.candidates()
    let added = false
    let lastError = ''
    const deadline = Date.now() + 10_000
    for (let attempt = 0; attempt < 20 && !added && Date.now() < deadline; attempt++) {
      // A lagging member's list may still show the removed incarnation under the same URL.
      const list = await this.memberList(via)
      if (list?.some((m) => m.peerURLs?.includes(victim.peerUrl) && !this.removedIds.has(m.ID))) {
        added = true
        break
      }
      const i = via[attempt % Math.max(1, via.length)]
      if (i === undefined) break
      const r = await call<unknown>(c.members[i]!.clientUrl, '/v3/cluster/member/add', { peerURLs: [victim.peerUrl] }, 8_000)
      if (r.type === 'ok') added = true
      else {
        lastError = r.error
        await sleep(500)
      }
    }
    if (!added) throw new Error(`add ${victim.name}: ${lastError}`)
    const list = (await this.memberList(via)) ?? []
    const names = new Map<string, string>()
    for (const m of list) {
      const url = m.peerURLs?.[0]
      if (url && url !== victim.peerUrl) names.set(m.name || `unnamed-${m.ID}`, url)
    }
    c.freshDataDir(t)
    victim.state = 'dead'
    c.start(t, c.joinFlag(t, names))
    this.done('member', `re-added ${victim.name} as a new member (generation ${victim.generation})`)
  }

  private async memberList(via: number[]): Promise<Array<{ ID: string; name?: string; peerURLs?: string[] }> | undefined> {
    for (const i of via) {
      const r = await call<{ members?: Array<{ ID: string; name?: string; peerURLs?: string[] }> }>(
        this.cluster.members[i]!.clientUrl,
        '/v3/cluster/member/list',
        {},
        2_000,
      )
      if (r.type === 'ok') return r.value.members ?? []
    }
    return undefined
  }

  /** Heals everything: links, paused and dead members (restarted), removed members (re-added). */
  async healAll(deadlineMs: number): Promise<void> {
    const c = this.cluster
    c.healNetwork()
    for (let i = 0; i < c.size; i++) c.resume(i)
    for (let i = 0; i < c.size; i++) this.restart(i)
    await this.readdAllRemoved(deadlineMs)
  }
}

function rotate<T>(items: T[], by: number): T[] {
  return [...items.slice(by), ...items.slice(0, by)]
}

function ringDistance(a: number, b: number, n: number): number {
  const d = Math.abs(a - b)
  return Math.min(d, n - d)
}

function names(c: ChaosCluster, idx: number[]): string {
  return idx.map((i) => c.members[i]!.name).join(',')
}
