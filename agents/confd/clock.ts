// Time as the daemon sees it: injected so tests and the simulator can drive the quiescence windows
// and the interval loop without waiting.

export interface Timer {
  cancel(): void
}

export interface Clock {
  /** Milliseconds since 1970. */
  now(): number
  /** Runs fn after ms (unless cancelled first). */
  setTimer(ms: number, fn: () => void): Timer
  /** Resolves after ms, or at once when the signal aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, Math.max(0, ms))
    return { cancel: () => clearTimeout(t) }
  },
  sleep(ms, signal) {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve()
      const t = setTimeout(done, Math.max(0, ms))
      function done(): void {
        clearTimeout(t)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      signal?.addEventListener('abort', done, { once: true })
    })
  },
}
