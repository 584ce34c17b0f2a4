// watch: writers put (and now and then delete) keys under watch/ while watchers follow the prefix over
// WebSockets on different members. A watcher moves to another member when its stream closes, is
// canceled, stalls (no answer to a progress request) or at random, resuming from its last revision + 1.
// At the end one last write marks the end; every watcher must have seen exactly the same sequence of
// events as a fresh watch from the start (no gap, duplicate or reordering), and every acknowledged put
// must be in it at its own revision.

import WebSocket from 'ws'
import { sleep } from '../../cluster/harness.ts'
import { b64, prefixEnd, revisionOf, unb64 } from '../http.ts'
import type { PutAnswer, RangeAnswer } from '../http.ts'
import { answered, Client, emptyResult, newCounts } from '../workload.ts'
import type { RunContext, Workload, WorkloadResult } from '../workload.ts'

const PREFIX = 'watch/'
const STALL_MS = 4_000
const RECONNECT_MS_MIN = 2_000
const RECONNECT_MS_MAX = 8_000

interface WatchEvent {
  revision: number
  type: 'PUT' | 'DELETE'
  key: string
  value: string
}

interface WireEvent {
  type?: string
  kv?: { key?: string; value?: string; mod_revision?: string }
}

interface WireFrame {
  result?: { created?: boolean; canceled?: boolean; cancel_reason?: string; compact_revision?: string; events?: WireEvent[] }
  error?: unknown
}

const show = (e: WatchEvent | undefined) => (e ? `rev ${e.revision} ${e.type} ${e.key}${e.type === 'PUT' ? `=${e.value}` : ''}` : 'nothing')

/** One watcher: a stream of events across reconnections, with its own order checks. */
class Follower {
  readonly events: WatchEvent[] = []
  readonly problems: string[] = []
  reconnects = 0
  private ws: WebSocket | undefined
  private member: number
  private lastFrameAt = Date.now()
  private closed = false

  constructor(
    readonly id: number,
    private readonly ctx: RunContext,
    private readonly startRevision: number,
  ) {
    this.member = id % ctx.cluster.size
  }

  get lastRevision(): number {
    return this.events.at(-1)?.revision ?? this.startRevision - 1
  }

  connect(): void {
    if (this.closed) return
    const m = this.ctx.cluster.members[this.member]!
    const ws = new WebSocket(m.clientUrl.replace('http', 'ws') + '/v3/watch', { handshakeTimeout: 2_000 })
    this.ws = ws
    this.lastFrameAt = Date.now()
    const from = this.lastRevision + 1
    ws.on('open', () => {
      ws.send(JSON.stringify({ create_request: { key: b64(PREFIX), range_end: prefixEnd(PREFIX), start_revision: String(from) } }))
    })
    ws.on('message', (data) => {
      if (this.ws !== ws) return
      this.lastFrameAt = Date.now()
      this.onFrame(JSON.parse(String(data)) as WireFrame)
    })
    ws.on('error', () => undefined)
    ws.on('close', () => {
      if (this.ws === ws) this.ws = undefined
    })
  }

  private onFrame(frame: WireFrame): void {
    const r = frame.result
    if (!r || frame.error !== undefined) {
      this.moveOn()
      return
    }
    if (r.canceled) {
      // A member that stops (removed, shutting down) cancels its watches; resuming elsewhere is the
      // client's job. Nothing is ever compacted in these runs, so a compaction cancel is a bug.
      if (r.compact_revision) this.problems.push(`watcher ${this.id}: canceled as compacted at ${r.compact_revision} (${r.cancel_reason ?? ''})`)
      this.moveOn()
      return
    }
    // Several events of one revision come in one answer; across answers revisions only grow.
    const before = this.lastRevision
    let previous = before
    ;(r.events ?? []).forEach((e, i) => {
      const ev: WatchEvent = {
        revision: Number(e.kv?.mod_revision ?? 0),
        type: e.type === 'DELETE' ? 'DELETE' : 'PUT',
        key: unb64(e.kv?.key),
        value: unb64(e.kv?.value),
      }
      if (i === 0 ? ev.revision <= before : ev.revision < previous) {
        this.problems.push(`watcher ${this.id}: ${show(ev)} after ${show(this.events.at(-1))} (duplicate or out of order)`)
      }
      previous = ev.revision
      this.events.push(ev)
    })
  }

  /** Closes this stream and resumes on another member. */
  moveOn(): void {
    this.ws?.terminate()
    this.ws = undefined
    const n = this.ctx.cluster.size
    this.member = (this.member + 1 + this.ctx.prng.int(0, Math.max(0, n - 2))) % n
    this.reconnects++
    this.connect()
  }

  /** Asks for progress; a stream that has said nothing for too long is abandoned. */
  tick(): void {
    if (this.closed) return
    if (!this.ws || Date.now() - this.lastFrameAt > STALL_MS) {
      this.moveOn()
      return
    }
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ progress_request: {} }))
  }

  close(): void {
    this.closed = true
    this.ws?.terminate()
    this.ws = undefined
  }
}

interface AckedWrite {
  revision: number
  key: string
  value: string | undefined
}

export class WatchWorkload implements Workload {
  readonly name = 'watch'
  readonly counts = newCounts()
  private followers: Follower[] = []
  private readonly acked: AckedWrite[] = []
  private startRevision = 0
  private next = 0

  constructor(private readonly o: { writers: number; watchers: number }) {}

  async run(ctx: RunContext): Promise<void> {
    const head = await answered<RangeAnswer>(ctx, '/v3/kv/range', { key: b64(PREFIX), range_end: prefixEnd(PREFIX), count_only: true })
    if (!head) throw new Error('watch: could not read the start revision')
    this.startRevision = revisionOf(head.header) + 1
    this.followers = [...Array(this.o.watchers).keys()].map((i) => new Follower(i, ctx, this.startRevision))
    for (const f of this.followers) f.connect()
    const ticker = (async () => {
      const due = this.followers.map(() => Date.now() + ctx.prng.int(RECONNECT_MS_MIN, RECONNECT_MS_MAX))
      while (!ctx.stopping()) {
        await sleep(1000)
        this.followers.forEach((f, i) => {
          if (Date.now() > due[i]!) {
            f.moveOn()
            due[i] = Date.now() + ctx.prng.int(RECONNECT_MS_MIN, RECONNECT_MS_MAX)
          } else f.tick()
        })
      }
    })()
    await Promise.all([...Array(this.o.writers).keys()].map((i) => this.writer(ctx, new Client(ctx, i, this.counts))))
    await ticker
  }

  private async writer(ctx: RunContext, c: Client): Promise<void> {
    for (let n = 0; n < 1_000_000 && !ctx.stopping(); n++) {
      const key = `${PREFIX}${ctx.prng.int(0, 3)}`
      if (ctx.prng.chance(0.1)) {
        const r = await c.request<{ header: { revision?: string }; deleted?: string }>('/v3/kv/deleterange', { key: b64(key) })
        if (r.type === 'ok' && Number(r.value.deleted ?? 0) > 0) this.acked.push({ revision: revisionOf(r.value.header), key, value: undefined })
      } else {
        const value = String(this.next++)
        const r = await c.request<PutAnswer>('/v3/kv/put', { key: b64(key), value: b64(value) })
        if (r.type === 'ok') this.acked.push({ revision: revisionOf(r.value.header), key, value })
      }
      await sleep(ctx.prng.int(0, 20))
    }
  }

  async finish(ctx: RunContext): Promise<WorkloadResult> {
    const result = emptyResult()
    try {
      await this.check(ctx, result)
    } finally {
      for (const f of this.followers) f.close()
    }
    return result
  }

  private async check(ctx: RunContext, result: WorkloadResult): Promise<void> {
    const end = await answered<PutAnswer>(ctx, '/v3/kv/put', { key: b64(`${PREFIX}end`), value: b64('end') })
    if (!end) {
      result.linearizable = 'unknown'
      result.warnings.push('watch: the closing write was not acknowledged')
      return
    }
    const endRevision = revisionOf(end.header)
    // Let every watcher reach the end (bounded); stalled ones keep moving to other members.
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline && this.followers.some((f) => f.lastRevision < endRevision)) {
      await sleep(500)
      for (const f of this.followers) if (f.lastRevision < endRevision) f.tick()
    }
    const reference = await referenceWatch(ctx, this.startRevision, endRevision)
    if (!reference) {
      result.linearizable = 'unknown'
      result.warnings.push('watch: the reference watch did not reach the end revision')
      return
    }
    for (const f of this.followers) {
      result.problems.push(...f.problems)
      const seen = f.events.filter((e) => e.revision <= endRevision)
      if (f.lastRevision < endRevision) result.warnings.push(`watcher ${f.id} did not reach revision ${endRevision} (liveness)`)
      const diff = firstDifference(seen, reference, f.lastRevision < endRevision)
      if (diff) result.problems.push(`watch: watcher ${f.id} (after ${f.reconnects} reconnects) differs from a fresh watch: ${diff}`)
    }
    const byRevision = new Map(reference.map((e) => [e.revision, e]))
    const lost = this.acked.filter((w) => {
      const e = byRevision.get(w.revision)
      return !e || e.key !== w.key || (w.value === undefined ? e.type !== 'DELETE' : e.type !== 'PUT' || e.value !== w.value)
    })
    result.lost = lost.length
    if (lost.length > 0) {
      result.problems.push(
        `watch: ${lost.length} acknowledged writes are not in the event history at their revision, e.g. ${lost
          .slice(0, 5)
          .map((w) => `rev ${w.revision} ${w.key}=${w.value ?? '(delete)'}`)
          .join(', ')}`,
      )
    }
    if (result.problems.length > 0) result.linearizable = false
    result.notes.push(
      `watch: ${this.acked.length} acknowledged writes, ${reference.length} events from revision ${this.startRevision} to ${endRevision}, ` +
        `${this.followers.length} watchers, ${this.followers.reduce((a, f) => a + f.reconnects, 0)} reconnects`,
    )
  }
}

/** A fresh watch from `from` on a running member, read until it passes `to` (or gives up). */
async function referenceWatch(ctx: RunContext, from: number, to: number): Promise<WatchEvent[] | undefined> {
  for (let attempt = 0; attempt < ctx.cluster.size * 2; attempt++) {
    const m = ctx.cluster.members[attempt % ctx.cluster.size]!
    if (m.state !== 'running') continue
    const events = await new Promise<WatchEvent[] | undefined>((resolve) => {
      const out: WatchEvent[] = []
      const ws = new WebSocket(m.clientUrl.replace('http', 'ws') + '/v3/watch', { handshakeTimeout: 2_000 })
      const timer = setTimeout(() => {
        ws.terminate()
        resolve(undefined)
      }, 20_000)
      const done = (v: WatchEvent[] | undefined) => {
        clearTimeout(timer)
        ws.terminate()
        resolve(v)
      }
      ws.on('open', () => ws.send(JSON.stringify({ create_request: { key: b64(PREFIX), range_end: prefixEnd(PREFIX), start_revision: String(from) } })))
      ws.on('message', (data) => {
        const r = (JSON.parse(String(data)) as WireFrame).result
        if (!r || r.canceled) return done(undefined)
        for (const e of r.events ?? []) {
          out.push({ revision: Number(e.kv?.mod_revision ?? 0), type: e.type === 'DELETE' ? 'DELETE' : 'PUT', key: unb64(e.kv?.key), value: unb64(e.kv?.value) })
        }
        if ((out.at(-1)?.revision ?? 0) >= to) done(out.filter((e) => e.revision <= to))
      })
      ws.on('error', () => done(undefined))
    })
    if (events) return events
  }
  return undefined
}

function firstDifference(seen: WatchEvent[], reference: WatchEvent[], mayBeShort: boolean): string | undefined {
  const same = (a: WatchEvent, b: WatchEvent) => a.revision === b.revision && a.type === b.type && a.key === b.key && a.value === b.value
  for (let i = 0; i < Math.max(seen.length, reference.length); i++) {
    const a = seen[i]
    const b = reference[i]
    if (a && b && same(a, b)) continue
    if (!a && mayBeShort) return undefined
    if (!a) return `ends early: lacks ${show(b)}`
    if (!b) return `has extra ${show(a)}`
    if (a.revision > b.revision) return `gap: lacks ${show(b)}, has ${show(a)} next (event ${i})`
    if (a.revision < b.revision) return `duplicate or reordered: ${show(a)} where ${show(b)} belongs (event ${i})`
    return `different event at revision ${a.revision}: ${show(a)} instead of ${show(b)} (event ${i})`
  }
  return undefined
}
