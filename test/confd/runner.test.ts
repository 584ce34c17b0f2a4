// The watch-mode runner driven by a fake clock and a fake client: renders once per quiet burst,
// at the latest after the max wait, never two renders at once, retries a failed read with its changes
// still pending, and re-reads and watches again after a compacted watch.

import { describe, expect, it } from 'vitest'
import type { Clock, Timer } from '../../agents/confd/clock.ts'
import { Confd, ResourceRunner } from '../../agents/confd/daemon.ts'
import type { ConfdConfig, Logger, ProcessResult } from '../../agents/confd/daemon.ts'
import type { Resource } from '../../agents/confd/resource.ts'
import type { Client, WatchResponse } from '../../core/client/index.ts'
import { CompactedError } from '../../core/client/index.ts'

class FakeClock implements Clock {
  t = 0
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = []
  now(): number {
    return this.t
  }
  setTimer(ms: number, fn: () => void): Timer {
    const timer = { at: this.t + ms, fn, live: true }
    this.timers.push(timer)
    return { cancel: () => void (timer.live = false) }
  }
  async sleep(): Promise<void> {}
  /** Moves time forward, firing due timers in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms
    for (;;) {
      await flush()
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0]
      if (due === undefined) break
      this.t = Math.max(this.t, due.at)
      due.live = false
      due.fn()
    }
    this.t = end
    await flush()
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r))
}

/** A watch the test feeds by hand. */
class FakeWatch {
  private queue: Array<WatchResponse | Error> = []
  private wake: (() => void) | undefined
  cancelled = false
  constructor(readonly key: string, readonly startRevision: number) {}
  push(x: WatchResponse | Error): void {
    this.queue.push(x)
    this.wake?.()
  }
  async cancel(): Promise<void> {
    this.cancelled = true
    this.wake?.()
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<WatchResponse> {
    for (;;) {
      const x = this.queue.shift()
      if (x instanceof Error) throw x
      if (x !== undefined) {
        yield x
        continue
      }
      if (this.cancelled) return
      await new Promise<void>((r) => (this.wake = r))
    }
  }
}

const enc = new TextEncoder()
function put(key: string, rev: number): WatchResponse {
  const kv = { key: enc.encode(key), value: enc.encode('v'), createRevision: rev, modRevision: rev, version: 1, lease: 0 }
  return { header: { clusterId: 1, memberId: 1, revision: rev, raftTerm: 1 }, events: [{ type: 'PUT', kv }], progress: false }
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

class FakeConfd extends Confd {
  renders: number[] = []
  inFlight = 0
  maxInFlight = 0
  revision = 10
  failReads = 0
  renderMs = 0
  override async processResource(): Promise<ProcessResult> {
    this.inFlight++
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight)
    try {
      if (this.renderMs > 0) await new Promise<void>((r) => this.clock.setTimer(this.renderMs, r))
      this.renders.push(this.clock.now())
      if (this.failReads > 0) {
        this.failReads--
        return { ok: false, phase: 'read', error: new Error('unavailable') }
      }
      return { ok: true, revision: this.revision, outcome: { changed: false, reasons: [], written: false, reloaded: false, diff: { added: 0, removed: 0, lines: [] }, stagePath: '' } }
    } finally {
      this.inFlight--
    }
  }
}

function setup(wait = { minMs: 100, maxMs: 1000 }) {
  const clock = new FakeClock()
  const watches: FakeWatch[] = []
  const client = { watch: (key: string, o: { startRevision: number }) => {
    const w = new FakeWatch(key, o.startRevision)
    watches.push(w)
    return w
  } } as unknown as Client
  const config: ConfdConfig = { confdir: '/x', prefix: undefined, noop: false, syncOnly: false, keepStageFile: false, wait, callTimeoutMs: 1000 }
  const confd = new FakeConfd(config, client, silent, { clock, resolver: { lookupIP: async () => [], lookupSRV: async () => [] }, getenv: () => undefined, fileExists: () => false })
  const resource: Resource = {
    name: 'r.toml', tomlPath: '/x/conf.d/r.toml', src: '/x/templates/r.tmpl', dest: '/tmp/r', keys: ['/app'], prefix: '/p',
    mode: undefined, uid: undefined, gid: undefined, checkCmd: '', reloadCmd: '', missingKey: 'error',
  }
  const runner = new ResourceRunner(confd, resource)
  return { clock, watches, confd, runner }
}

describe('ResourceRunner (watch mode) with a fake clock', () => {
  it('renders at start, then watches from the revision after the one rendered', async () => {
    const { clock, watches, confd, runner } = setup()
    runner.start()
    await clock.advance(0)
    expect(confd.renders).toEqual([0])
    expect(watches.map((w) => [w.key, w.startRevision])).toEqual([['/p/app', 11]])
    await runner.stop()
  })

  it('one render per quiet burst', async () => {
    const { clock, watches, confd, runner } = setup()
    runner.start()
    await clock.advance(0)
    const w = watches[0]!
    for (const [at, rev] of [[10, 11], [50, 12], [90, 13]] as const) {
      await clock.advance(at - clock.now())
      w.push(put('/p/app/x', rev))
    }
    await clock.advance(150) // t = 240: quiet since t = 90 + 100
    expect(confd.renders).toEqual([0, 190])
    await clock.advance(1000)
    expect(confd.renders).toEqual([0, 190])
    await runner.stop()
  })

  it('a key outside the resource (a string prefix only) is ignored', async () => {
    const { clock, watches, confd, runner } = setup()
    runner.start()
    await clock.advance(0)
    watches[0]!.push(put('/p/apple', 11))
    await clock.advance(500)
    expect(confd.renders).toEqual([0])
    await runner.stop()
  })

  it('a burst that never goes quiet renders at the max wait', async () => {
    const { clock, watches, confd, runner } = setup()
    runner.start()
    await clock.advance(0)
    for (let t = 0; t < 2500; t += 50) {
      watches[0]!.push(put('/p/app/x', 11 + t))
      await clock.advance(50)
    }
    expect(confd.renders).toEqual([0, 1000, 2000])
    await runner.stop()
  })

  it('changes during a render start the next burst; renders never overlap', async () => {
    const { clock, watches, confd, runner } = setup({ minMs: 0, maxMs: 0 })
    confd.renderMs = 300
    runner.start()
    await clock.advance(300)
    watches[0]!.push(put('/p/app/x', 11))
    await clock.advance(100) // render 2 runs from t = 300 to 600
    watches[0]!.push(put('/p/app/y', 12))
    watches[0]!.push(put('/p/app/z', 13))
    await clock.advance(1000)
    expect(confd.renders).toEqual([300, 600, 900])
    expect(confd.maxInFlight).toBe(1)
    await runner.stop()
  })

  it('a failed read keeps the changes pending and retries with backoff', async () => {
    const { clock, watches, confd, runner } = setup({ minMs: 0, maxMs: 0 })
    runner.start()
    await clock.advance(0)
    confd.failReads = 2
    watches[0]!.push(put('/p/app/x', 11))
    await clock.advance(5000)
    expect(confd.renders).toEqual([0, 0, 500, 1500])
    await runner.stop()
  })

  it('a compacted watch re-reads and watches again from the new revision', async () => {
    const { clock, watches, confd, runner } = setup({ minMs: 0, maxMs: 0 })
    runner.start()
    await clock.advance(0)
    confd.revision = 50
    watches[0]!.push(new CompactedError(40))
    await clock.advance(10)
    expect(confd.renders).toEqual([0, 0])
    expect(watches.map((w) => w.startRevision)).toEqual([11, 51])
    expect(watches[0]!.cancelled).toBe(true)
    await runner.stop()
    expect(watches[1]!.cancelled).toBe(true)
  })
})
