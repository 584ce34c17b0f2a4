// The confd daemon's I/O loop. Three modes, as confd has them:
//   onetime   process every resource once; the caller exits non-zero if any failed
//   interval  process every resource, sleep N seconds, again (resources re-read each round)
//   watch     process every resource once, then watch its keys from the revision read and re-render
//             once per quiet burst of changes (quiescence.ts decides when)
// Processing one resource = read its keys at one revision → render → stage/compare/check/rename/reload
// (sync.ts), logging what changed. SIGHUP or a change under confdir reloads the resources.

import { watch as watchFs } from 'node:fs'
import type { FSWatcher } from 'node:fs'
import { join } from 'node:path'
import type { Client, Watch } from '../../core/client/index.ts'
import { CompactedError, toText } from '../../core/client/index.ts'
import type { Clock, Timer } from './clock.ts'
import { decide, EMPTY_BURST, noteChange } from './quiescence.ts'
import type { Burst, WaitWindow } from './quiescence.ts'
import { renderResource } from './render.ts'
import type { RenderDeps } from './render.ts'
import { keyUnder, loadResources, prefixedKeys } from './resource.ts'
import type { Resource } from './resource.ts'
import { diffKeys, readKeys } from './source.ts'
import type { KeyChanges } from './source.ts'
import { syncFile } from './sync.ts'
import type { SyncOutcome } from './sync.ts'

export interface Logger {
  debug(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface ConfdConfig {
  confdir: string
  prefix: string | undefined
  noop: boolean
  syncOnly: boolean
  keepStageFile: boolean
  wait: WaitWindow
  /** Deadline of one read of a resource's keys. */
  callTimeoutMs: number
  commandTimeoutMs?: number
}

/** First and longest pause before re-reading after a failed read (watch mode). */
export const RETRY_MS_MIN = 500
export const RETRY_MS_MAX = 30_000
/** Changes under confdir are gathered this long before the resources are reloaded. */
export const CONFDIR_SETTLE_MS = 250
/** Diff lines written to the log for one render (the counts are always there). */
export const LOG_DIFF_LINES_MAX = 40

export type ProcessResult =
  | { ok: true; revision: number; outcome: SyncOutcome }
  | { ok: false; phase: 'read'; error: Error }
  | { ok: false; phase: 'render' | 'sync'; revision: number; error: Error }

export class Confd {
  /** The keys each resource was last rendered from (to log which keys a render picked up). */
  private readonly lastKvs = new Map<string, Array<[string, string]>>()

  constructor(
    readonly config: ConfdConfig,
    readonly client: Client,
    readonly log: Logger,
    readonly deps: RenderDeps,
    /** Where --noop shows the diffs for a person (stdout from the CLI). */
    private readonly show: (text: string) => void = () => undefined,
  ) {}

  get clock(): Clock {
    return this.deps.clock
  }

  loadResources(): { resources: Resource[]; failures: number } {
    const { resources, errors } = loadResources(this.config.confdir, this.config.prefix)
    for (const e of errors) this.log.error({ err: e.message }, 'cannot load template resource')
    if (resources.length === 0 && errors.length === 0) this.log.warn({ confdir: this.config.confdir }, 'found no template resources')
    return { resources, failures: errors.length }
  }

  /** Reads, renders and syncs one resource, logging the result. */
  async processResource(r: Resource): Promise<ProcessResult> {
    const base = { resource: r.name, dest: r.dest }
    let snap
    try {
      snap = await readKeys(this.client, prefixedKeys(r), this.config.callTimeoutMs)
    } catch (e) {
      this.log.error({ ...base, err: (e as Error).message }, 'cannot read keys')
      return { ok: false, phase: 'read', error: e as Error }
    }
    let content: string
    try {
      content = await renderResource(r, snap, this.deps)
    } catch (e) {
      this.log.error({ ...base, revision: snap.revision, err: (e as Error).message }, 'cannot render template')
      return { ok: false, phase: 'render', revision: snap.revision, error: e as Error }
    }
    let outcome: SyncOutcome
    try {
      outcome = await syncFile(r, content, {
        noop: this.config.noop,
        syncOnly: this.config.syncOnly,
        keepStageFile: this.config.keepStageFile,
        ...(this.config.commandTimeoutMs !== undefined ? { commandTimeoutMs: this.config.commandTimeoutMs } : {}),
      })
    } catch (e) {
      this.log.error({ ...base, revision: snap.revision, err: (e as Error).message }, 'cannot update target config')
      return { ok: false, phase: 'sync', revision: snap.revision, error: e as Error }
    }
    const before = this.lastKvs.get(r.tomlPath)
    this.lastKvs.set(r.tomlPath, snap.kvs)
    this.logOutcome(r, snap.revision, outcome, before === undefined ? undefined : diffKeys(before, snap.kvs))
    return { ok: true, revision: snap.revision, outcome }
  }

  private logOutcome(r: Resource, revision: number, o: SyncOutcome, keys: KeyChanges | undefined): void {
    const fields: Record<string, unknown> = { resource: r.name, dest: r.dest, revision }
    if (keys !== undefined) fields.keys = keys
    if (o.changed) {
      fields.reasons = o.reasons
      fields.lines = { added: o.diff.added, removed: o.diff.removed }
      if (o.diff.lines.length > 0) fields.diff = o.diff.lines.slice(0, LOG_DIFF_LINES_MAX)
    }
    if (this.config.noop) {
      if (o.changed) {
        this.log.warn(fields, `noop: ${r.dest} would change; left as is`)
        this.show(`--- ${r.dest}\n+++ ${r.dest} (rendered from ${r.name}: ${o.reasons.join(', ')})\n${o.diff.lines.map((l) => l + '\n').join('')}`)
      }
      else this.log.info(fields, `noop: ${r.dest} in sync`)
      if (this.config.keepStageFile) this.log.info({ resource: r.name, stage: o.stagePath }, 'keeping staged file')
      return
    }
    if (o.written) {
      fields.reloaded = o.reloaded
      this.log.info(fields, `target config ${r.dest} has been updated`)
      return
    }
    const keysChanged = keys !== undefined && keys.added.length + keys.removed.length + keys.modified.length > 0
    if (keysChanged) this.log.info(fields, `target config ${r.dest} in sync`)
    else this.log.debug(fields, `target config ${r.dest} in sync`)
    if (this.config.keepStageFile) this.log.info({ resource: r.name, stage: o.stagePath }, 'keeping staged file')
  }

  /** --onetime: every resource once. Answers the number of failures (load errors included). */
  async runOnce(): Promise<number> {
    const { resources, failures } = this.loadResources()
    let failed = failures
    for (const r of resources) if (!(await this.processResource(r)).ok) failed++
    return failed
  }

  /** --interval: every resource, then a pause, until the signal aborts. `wake` cuts a pause short (SIGHUP). */
  async runInterval(intervalMs: number, signal: AbortSignal, wake: { signal: AbortSignal } = { signal }): Promise<void> {
    while (!signal.aborted) {
      const { resources } = this.loadResources()
      for (const r of resources) {
        if (signal.aborted) return
        await this.processResource(r)
      }
      await this.clock.sleep(intervalMs, AbortSignal.any([signal, wake.signal]))
    }
  }

  /** --watch: runs until the signal aborts; reloads resources on `reload()` and changes under confdir. */
  async runWatch(signal: AbortSignal): Promise<void> {
    const w = new WatchMode(this, signal)
    await w.run()
  }
}

/** Watch mode: one runner per resource; reloads replace them all. */
class WatchMode {
  private runners: ResourceRunner[] = []
  private fsWatchers: FSWatcher[] = []
  private settle: Timer | undefined
  private reloading: Promise<void> = Promise.resolve()

  constructor(
    private readonly confd: Confd,
    private readonly signal: AbortSignal,
  ) {}

  async run(): Promise<void> {
    this.startRunners()
    this.watchConfdir()
    const onHup = (): void => this.requestReload('SIGHUP')
    process.on('SIGHUP', onHup)
    try {
      await new Promise<void>((resolve) => {
        if (this.signal.aborted) return resolve()
        this.signal.addEventListener('abort', () => resolve(), { once: true })
      })
    } finally {
      process.off('SIGHUP', onHup)
      this.settle?.cancel()
      for (const f of this.fsWatchers) f.close()
      await this.reloading
      await Promise.all(this.runners.map((r) => r.stop()))
    }
  }

  private startRunners(): void {
    const { resources } = this.confd.loadResources()
    this.runners = resources.map((r) => new ResourceRunner(this.confd, r))
    for (const r of this.runners) r.start()
  }

  private watchConfdir(): void {
    for (const dir of ['conf.d', 'templates']) {
      try {
        const w = watchFs(join(this.confd.config.confdir, dir), { recursive: true }, () => this.requestReload(`change under ${dir}`))
        w.on('error', () => undefined)
        this.fsWatchers.push(w)
      } catch {
        // a missing directory is reported when resources load
      }
    }
  }

  requestReload(why: string): void {
    if (this.signal.aborted) return
    this.settle?.cancel()
    this.settle = this.confd.clock.setTimer(CONFDIR_SETTLE_MS, () => {
      this.reloading = this.reloading.then(async () => {
        if (this.signal.aborted) return
        this.confd.log.info({ why }, 'reloading template resources')
        await Promise.all(this.runners.map((r) => r.stop()))
        if (!this.signal.aborted) this.startRunners()
      })
    })
  }
}

/** Keeps one resource rendered: an initial render, then one render per quiet burst of watched changes. */
export class ResourceRunner {
  private burst: Burst = EMPTY_BURST
  private busy: Promise<void> | undefined
  private timer: Timer | undefined
  private watches: Watch[] = []
  private watchedFrom = 0
  private needsWatch = true
  private notBefore = 0
  private retryMs = RETRY_MS_MIN
  private stopped = false
  private readonly keys: string[]
  /** Renders done (for tests and the log). */
  renders = 0

  constructor(
    private readonly confd: Confd,
    readonly resource: Resource,
  ) {
    this.keys = prefixedKeys(resource)
  }

  start(): void {
    this.burst = noteChange(EMPTY_BURST, this.confd.clock.now(), 0)
    this.renderNow()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.timer?.cancel()
    for (const w of this.watches) void w.cancel()
    this.watches = []
    await this.busy
  }

  /** Feeds watched changes into the burst. */
  private onChanges(count: number): void {
    if (this.stopped || count === 0) return
    this.burst = noteChange(this.burst, this.confd.clock.now(), count)
    this.step()
  }

  /** The decision step: render now, arm a timer, or nothing. */
  private step(): void {
    if (this.stopped || this.busy !== undefined) return
    const now = this.confd.clock.now()
    if (now < this.notBefore && this.burst.firstAt !== undefined) return this.arm(this.notBefore - now)
    const d = decide(this.burst, now, this.confd.config.wait)
    if (d.kind === 'render') this.renderNow()
    else if (d.kind === 'wait') this.arm(d.wakeAt - now)
  }

  private arm(ms: number): void {
    this.timer?.cancel()
    this.timer = this.confd.clock.setTimer(ms, () => {
      this.timer = undefined
      this.step()
    })
  }

  private renderNow(): void {
    this.timer?.cancel()
    const taken = this.burst
    this.burst = EMPTY_BURST
    this.busy = this.process(taken).finally(() => {
      this.busy = undefined
      this.step()
    })
  }

  private async process(taken: Burst): Promise<void> {
    if (taken.changes > 0) this.confd.log.debug({ resource: this.resource.name, changes: taken.changes }, 'rendering after changes')
    const res = await this.confd.processResource(this.resource)
    this.renders++
    if (this.stopped) return
    if (!res.ok && res.phase === 'read') {
      // Keep the burst: the changes are not rendered yet. Try again after a pause.
      this.burst = { firstAt: taken.firstAt ?? this.confd.clock.now(), lastAt: taken.lastAt ?? this.confd.clock.now(), changes: taken.changes + this.burst.changes }
      this.notBefore = this.confd.clock.now() + this.retryMs
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MS_MAX)
      return
    }
    this.retryMs = RETRY_MS_MIN
    this.notBefore = 0
    if (this.needsWatch) this.openWatches(res.revision + 1)
  }

  /** Watches every key of the resource from `startRevision` (the revision after the one rendered). */
  private openWatches(startRevision: number): void {
    for (const w of this.watches) void w.cancel()
    this.needsWatch = false
    this.watchedFrom = startRevision
    this.watches = this.keys.map((k) => {
      const w = this.confd.client.watch(k, { prefix: true, startRevision })
      void this.consume(w, k)
      return w
    })
    this.confd.log.debug({ resource: this.resource.name, keys: this.keys, startRevision }, 'watching')
  }

  private async consume(w: Watch, key: string): Promise<void> {
    try {
      for await (const resp of w) {
        const n = resp.events.filter((e) => keyUnder(toText(e.kv.key), key)).length
        this.onChanges(n)
      }
    } catch (e) {
      if (this.stopped || !this.watches.includes(w)) return
      const compacted = e instanceof CompactedError
      this.confd.log.warn({ resource: this.resource.name, key, from: this.watchedFrom, err: (e as Error).message }, compacted ? 'watch compacted: re-reading' : 'watch ended: re-reading')
      // Re-read everything and watch again from the revision read: nothing between is missed.
      this.needsWatch = true
      this.onChanges(1)
    }
  }
}
