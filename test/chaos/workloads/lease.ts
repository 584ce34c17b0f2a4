// lease: each client grants a short lease, puts a key bound to it, keeps it alive a few times (at
// random intervals, some close to expiry), then revokes it or lets it expire, reading the key all along.
//
// A lease granted or kept alive by a request sent at time t lives at least until t + TTL (the server
// starts the TTL when it handles the request, which is after t; a new leader only extends it). So,
// unless a revoke was sent first, a read that began after the put was acknowledged must not find the
// key gone before that time, and a keep-alive must not find the lease gone. After an acknowledged
// revoke, a read that begins later must not find the key. At the end, once every lease could have
// expired, no leased key may be left (a liveness check, reported as a warning).

import { sleep } from '../../cluster/harness.ts'
import { b64, prefixEnd } from '../http.ts'
import type { RangeAnswer } from '../http.ts'
import { answeredByEach, Client, emptyResult, newCounts } from '../workload.ts'
import type { RunContext, Workload, WorkloadResult } from '../workload.ts'

const PREFIX = 'lease/'
/** Tag of the problems due only to the known keep-alive/expiry race (docs/chaos.md, server bugs). */
export const KNOWN_LATE_KEEPALIVE = '(keep-alive acknowledged after its lease could have expired)'
const TTL_SECONDS = 2

interface Observation {
  call: number
  ret: number
  present: boolean
  via: 'read' | 'keepalive'
  member: string
}

interface LeaseLife {
  id: string
  key: string
  ttlMs: number
  /** Acknowledged grant/keep-alive requests: when each was sent. */
  renewedAt: number[]
  /** Which member acknowledged each (for reports). */
  renewedVia: string[]
  putAckedAt: number | undefined
  revokeSentAt: number | undefined
  revokeAckedAt: number | undefined
  observations: Observation[]
}

export class LeaseWorkload implements Workload {
  readonly name = 'lease'
  readonly counts = newCounts()
  readonly leases: LeaseLife[] = []
  private next = 0

  constructor(private readonly o: { clients: number }) {}

  async run(ctx: RunContext): Promise<void> {
    await Promise.all([...Array(this.o.clients).keys()].map((i) => this.client(ctx, new Client(ctx, i, this.counts))))
  }

  private async client(ctx: RunContext, c: Client): Promise<void> {
    for (let n = 0; n < 100_000 && !ctx.stopping(); n++) {
      await this.oneLease(ctx, c)
      await sleep(ctx.prng.int(0, 50))
    }
  }

  private async read(ctx: RunContext, c: Client, life: LeaseLife): Promise<void> {
    const member = ctx.cluster.members[c.memberIndex]!.name
    const r = await c.request<RangeAnswer>('/v3/kv/range', { key: b64(life.key) })
    if (r.type === 'ok') life.observations.push({ call: r.call, ret: r.ret, present: (r.value.kvs?.length ?? 0) > 0, via: 'read', member })
  }

  /** Reads the key every 100–300 ms for `ms`. */
  private async watchFor(ctx: RunContext, c: Client, life: LeaseLife, ms: number): Promise<void> {
    const until = ctx.now() + ms
    for (let i = 0; i < 1000 && ctx.now() < until && !ctx.stopping(); i++) {
      await this.read(ctx, c, life)
      await sleep(ctx.prng.int(100, 300))
    }
  }

  private async oneLease(ctx: RunContext, c: Client): Promise<void> {
    const sentAt = ctx.now()
    const grant = await c.request<{ ID?: string; TTL?: string }>('/v3/lease/grant', { TTL: String(TTL_SECONDS) })
    if (grant.type !== 'ok' || !grant.value.ID) return
    const life: LeaseLife = {
      id: grant.value.ID,
      key: `${PREFIX}${this.next++}`,
      ttlMs: Number(grant.value.TTL ?? TTL_SECONDS) * 1000,
      renewedAt: [sentAt],
      renewedVia: [ctx.cluster.members[c.memberIndex]!.name],
      putAckedAt: undefined,
      revokeSentAt: undefined,
      revokeAckedAt: undefined,
      observations: [],
    }
    this.leases.push(life)
    const put = await c.request('/v3/kv/put', { key: b64(life.key), value: b64(life.id), lease: life.id })
    if (put.type === 'ok') life.putAckedAt = put.ret
    const keepalives = ctx.prng.int(0, 4)
    for (let k = 0; k < keepalives && !ctx.stopping(); k++) {
      await this.watchFor(ctx, c, life, ctx.prng.int(Math.round(life.ttlMs * 0.25), Math.round(life.ttlMs * 0.95)))
      const at = ctx.now()
      const member = ctx.cluster.members[c.memberIndex]!.name
      const r = await c.request<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: life.id })
      // As in etcd, a keep-alive of a lease that is gone (or past its deadline) answers TTL 0 (left out):
      // only a positive TTL is a renewal.
      const renewed = r.type === 'ok' && Number(r.value.result?.TTL ?? 0) > 0
      if (renewed) {
        life.renewedAt.push(at)
        life.renewedVia.push(member)
      } else if (r.type === 'ok') {
        life.observations.push({ call: r.call, ret: r.ret, present: false, via: 'keepalive', member })
        break
      } else if (/lease not found/.test(r.error)) {
        life.observations.push({ call: r.call, ret: r.ret, present: false, via: 'keepalive', member })
        break
      }
    }
    if (ctx.prng.chance(0.5)) {
      life.revokeSentAt = ctx.now()
      const r = await c.request('/v3/lease/revoke', { ID: life.id })
      if (r.type === 'ok') life.revokeAckedAt = r.ret
    }
    await this.watchFor(ctx, c, life, life.ttlMs + 500)
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    let early = 0
    let late = 0
    let outlived = 0
    const examples: string[] = []
    const suspects = new Set<LeaseLife>()
    for (const life of this.leases) {
      if (life.putAckedAt === undefined) continue
      const protectedUntil = Math.max(...life.renewedAt) + life.ttlMs
      // Renewals sent before the lease could have expired; a later one ("late") may race its expiry.
      let timely = life.renewedAt[0]! + life.ttlMs
      for (const t of life.renewedAt.slice(1)) if (t < timely) timely = Math.max(timely, t + life.ttlMs)
      for (const ob of life.observations) {
        if (ob.call < life.putAckedAt) continue
        const revoked = life.revokeSentAt !== undefined && life.revokeSentAt <= ob.ret
        if (!ob.present && !revoked && ob.ret < protectedUntil) {
          suspects.add(life)
          if (ob.ret < timely) early++
          else late++
          if (examples.length < 5) examples.push(describe(life, ob, `gone ${(protectedUntil - ob.ret).toFixed(0)} ms before it could expire`))
        }
        if (ob.present && life.revokeAckedAt !== undefined && ob.call > life.revokeAckedAt) {
          outlived++
          if (examples.length < 5) examples.push(describe(life, ob, 'still there after the revoke was acknowledged'))
        }
      }
    }
    if (early + late + outlived > 0) {
      result.linearizable = false
      // What each member says now about the first leases involved: is the lease there, with its key?
      const states: string[] = []
      for (const life of [...suspects].slice(0, 3)) {
        const answers = await answeredByEach<{ TTL?: string; keys?: string[] }>(ctx, '/v3/lease/timetolive', { ID: life.id, keys: true }, 5_000)
        const says = answers.map(({ member, answer }) => `${member}: ${answer ? `TTL ${answer.TTL}, ${answer.keys?.length ?? 0} keys` : 'no answer'}`)
        states.push(`  now, lease ${life.id} (${life.key}): ${says.join('; ')}`)
      }
      // A keep-alive sent after the lease may already have expired, acknowledged, and the key gone at
      // once: the server bug described in docs/chaos.md ("keep-alive acknowledged while a revoke is
      // pending"). Reported under its own name so that other violations stand out.
      const name = early + outlived === 0 ? `lease ${KNOWN_LATE_KEEPALIVE}` : 'lease'
      result.problems.push(
        `${name}: ${early} observations of a key gone before its lease could expire, ${late} after an acknowledged late keep-alive, ` +
          `${outlived} of a key outliving its acknowledged revoke:\n` +
          [...examples, ...states].join('\n'),
      )
    }
    // Liveness: once every lease is past its TTL, no leased key is left.
    const lastRenewal = Math.max(0, ...this.leases.flatMap((l) => l.renewedAt.map((t) => t + l.ttlMs)))
    const waitMs = Math.min(15_000, Math.max(0, lastRenewal - ctx.now()) + 3 * TTL_SECONDS * 1000)
    await sleep(waitMs)
    const answers = await answeredByEach<RangeAnswer>(ctx, '/v3/kv/range', { key: b64(PREFIX), range_end: prefixEnd(PREFIX), keys_only: true })
    for (const { member, answer } of answers) {
      const left = answer?.kvs?.length ?? 0
      if (left > 0) result.warnings.push(`lease: ${left} leased keys still on ${member} ${(waitMs / 1000).toFixed(0)} s after every lease could have expired (liveness)`)
    }
    const kept = this.leases.filter((l) => l.renewedAt.length > 1).length
    const revoked = this.leases.filter((l) => l.revokeAckedAt !== undefined).length
    result.notes.push(
      `lease: ${this.leases.length} leases granted, ${kept} kept alive, ${revoked} revoked, ${this.leases.reduce((a, l) => a + l.observations.length, 0)} observations`,
    )
    return result
  }
}

function describe(life: LeaseLife, ob: Observation, what: string): string {
  const renewals = life.renewedAt.map((t, i) => `${t.toFixed(0)} (${life.renewedVia[i]})`).join(', ')
  return (
    `  ${life.key} (lease ${life.id}, TTL ${life.ttlMs} ms, granted/renewed by requests sent at ${renewals} ms, put acknowledged at ` +
    `${life.putAckedAt?.toFixed(0)} ms${life.revokeSentAt !== undefined ? `, revoke sent at ${life.revokeSentAt.toFixed(0)} ms` : ''}): ` +
    `${ob.via} via ${ob.member} at [${ob.call.toFixed(0)}, ${ob.ret.toFixed(0)}] ms: ${what}`
  )
}
