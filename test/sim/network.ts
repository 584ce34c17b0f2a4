// The simulated network: per-message delay (and so reordering), loss, duplication, long stalls,
// symmetric and asymmetric partitions, and clogged links. It decides the fate of each message;
// the simulation's event queue carries the message until its delivery time.

import type { NodeId } from '../../core/raft/types.ts'
import type { Prng } from './prng.ts'
import type { NetworkOptions } from './swarm.ts'

/** Node IDs stay below this, so a link (from, to) packs into one number. */
export const NODE_ID_LIMIT = 1024
/** Copies of one message in flight: the original and at most one duplicate. */
const COPIES_MAX = 2

function linkKey(from: NodeId, to: NodeId): number {
  return from * NODE_ID_LIMIT + to
}

interface Clog {
  untilTime: number
  extraUnits: number
}

export type PartitionKind = 'symmetric' | 'asymmetric' | 'clog'

export class Network {
  private blockedUntil = new Map<number, number>()
  private clogs = new Map<number, Clog>()
  private healed = false

  constructor(
    private readonly prng: Prng,
    private readonly options: NetworkOptions,
  ) {
    if (options.delayUnitsMin < 1) throw new Error('network: delays must be at least one unit')
    if (options.delayUnitsMax < options.delayUnitsMin) throw new Error('network: delayUnitsMax < delayUnitsMin')
  }

  /** Delays of the copies to deliver; empty when the message is lost or the link is cut. */
  route(from: NodeId, to: NodeId, now: number): number[] {
    if (this.isBlocked(from, to, now)) return []
    const options = this.options
    if (!this.healed && this.prng.chance(options.lossProbability)) return []
    const copies = !this.healed && this.prng.chance(options.duplicateProbability) ? COPIES_MAX : 1
    const delays: number[] = []
    for (let i = 0; i < copies; i++) delays.push(this.delay(from, to, now))
    return delays
  }

  private delay(from: NodeId, to: NodeId, now: number): number {
    const options = this.options
    let delay = this.prng.int(options.delayUnitsMin, options.delayUnitsMax)
    const clog = this.clogs.get(linkKey(from, to))
    if (clog !== undefined && clog.untilTime > now) delay += clog.extraUnits
    if (!this.healed && this.prng.chance(options.stallProbability)) delay += this.prng.int(1, options.faultUnitsMax)
    return delay
  }

  /** Checked when a message is sent and again when it arrives: a cut also loses what is in flight. */
  isBlocked(from: NodeId, to: NodeId, now: number): boolean {
    if (this.healed) return false
    const until = this.blockedUntil.get(linkKey(from, to))
    return until !== undefined && until > now
  }

  /**
   * Maybe cuts new partitions or clogs links among `ids`; returns what was done (for traces).
   * `target` (the leader, usually) is the node cut off in a seed-chosen share of partitions: faults
   * around the leader are the ones that exercise elections, log repair and commit rules.
   */
  maybeInjectFaults(ids: readonly NodeId[], now: number, target: NodeId | undefined): string[] {
    const done: string[] = []
    if (this.healed || ids.length < 2) return done
    const options = this.options
    const targeted = target !== undefined && ids.includes(target) && this.prng.chance(options.leaderTargetShare) ? target : undefined
    if (this.prng.chance(options.partitionSymmetricProbability)) done.push(this.partitionSymmetric(ids, now, targeted))
    if (this.prng.chance(options.partitionAsymmetricProbability)) done.push(this.partitionAsymmetric(ids, now, targeted))
    if (this.prng.chance(options.clogProbability)) done.push(this.clog(ids, now))
    return done
  }

  private duration(): number {
    return this.prng.int(this.options.faultUnitsMin, Math.max(this.options.faultUnitsMin, this.options.faultUnitsMax))
  }

  private partitionSymmetric(ids: readonly NodeId[], now: number, target: NodeId | undefined): string {
    const shuffled = this.prng.shuffle(ids.filter((id) => id !== target))
    if (target !== undefined) shuffled.unshift(target)
    // With a target, its side is a minority (often just itself).
    const sideSize = target === undefined ? this.prng.int(1, shuffled.length - 1) : this.prng.int(1, Math.max(1, Math.floor((shuffled.length - 1) / 2)))
    const side = new Set(shuffled.slice(0, sideSize))
    const until = now + this.duration()
    for (const a of ids) {
      for (const b of ids) {
        if (side.has(a) !== side.has(b)) this.block(a, b, until)
      }
    }
    return `partition {${[...side].sort((x, y) => x - y).join(',')}} until ${until}`
  }

  private partitionAsymmetric(ids: readonly NodeId[], now: number, target: NodeId | undefined): string {
    const node = target ?? this.prng.pick(ids)
    const outbound = this.prng.chance(0.5)
    const until = now + this.duration()
    for (const other of ids) {
      if (other === node) continue
      if (outbound) this.block(node, other, until)
      else this.block(other, node, until)
    }
    return `${node} ${outbound ? 'cannot send' : 'cannot receive'} until ${until}`
  }

  private clog(ids: readonly NodeId[], now: number): string {
    const from = this.prng.pick(ids)
    const to = this.prng.pick(ids.filter((id) => id !== from))
    const untilTime = now + this.duration()
    const extraUnits = this.prng.int(this.options.delayUnitsMax, this.options.delayUnitsMax * 10)
    this.clogs.set(linkKey(from, to), { untilTime, extraUnits })
    return `clog ${from}->${to} +${extraUnits} until ${untilTime}`
  }

  private block(from: NodeId, to: NodeId, until: number): void {
    const key = linkKey(from, to)
    this.blockedUntil.set(key, Math.max(until, this.blockedUntil.get(key) ?? 0))
  }

  /** The liveness phase: no more loss, duplication, stalls, partitions or clogs. */
  heal(): void {
    this.healed = true
    this.blockedUntil.clear()
    this.clogs.clear()
  }

  get isHealed(): boolean {
    return this.healed
  }

  shouldReportUnreachable(): boolean {
    return this.prng.chance(this.options.reportUnreachableProbability)
  }
}
