// Time as recipes and agents see it. Injected so that unit tests (and the simulator) can drive
// backoffs, windows and deadlines without waiting; `systemClock` is the real one.

export interface Clock {
  /** Milliseconds since 1970 (wall clock: reboot windows are wall-clock times). */
  now(): number
  /** Resolves after ms, or at once when the signal aborts (it never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const timer = setTimeout(done, Math.max(0, ms))
      function done(): void {
        clearTimeout(timer)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    })
  },
}

/**
 * A clock that moves only when told: `advance(ms)` runs the sleeps that fall due, in order. For unit
 * tests of decision loops.
 */
export class ManualClock implements Clock {
  private sleepers: Array<{ at: number; resolve: () => void }> = []

  constructor(private nowMs = 0) {}

  now(): number {
    return this.nowMs
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const entry = { at: this.nowMs + Math.max(0, ms), resolve }
      this.sleepers.push(entry)
      signal?.addEventListener(
        'abort',
        () => {
          this.sleepers = this.sleepers.filter((s) => s !== entry)
          resolve()
        },
        { once: true },
      )
    })
  }

  /** Moves time forward by ms, waking every sleeper due on the way (and letting them run). */
  async advance(ms: number): Promise<void> {
    const target = this.nowMs + ms
    for (;;) {
      this.sleepers.sort((a, b) => a.at - b.at)
      const next = this.sleepers[0]
      if (next === undefined || next.at > target) break
      this.sleepers.shift()
      this.nowMs = next.at
      next.resolve()
      // Let the woken task run up to its next await.
      for (let i = 0; i < 10; i++) await Promise.resolve()
    }
    this.nowMs = target
  }

  get pendingSleeps(): number {
    return this.sleepers.length
  }
}
