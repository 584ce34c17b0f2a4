// Requests waiting for their entry to be applied (writes) or for a read index to be confirmed
// (linearizable reads). Each waits with a deadline; a bound on how many may wait keeps a flood of
// requests from growing memory: past it, new requests are refused at once.

import { CairnError } from '../errors.ts'

export const WAITERS_MAX = 100_000

interface Waiter<T> {
  resolve: (value: T) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

export class Waiters<T> {
  private readonly waiting = new Map<string, Waiter<T>>()

  /** Registers `id` and returns a promise settled by trigger()/fail() or rejected after timeoutMs. */
  wait(id: string, timeoutMs: number): Promise<T> {
    if (this.waiting.size >= WAITERS_MAX) return Promise.reject(new CairnError('TooManyRequests'))
    if (this.waiting.has(id)) return Promise.reject(new Error(`duplicate waiter id ${id}`))
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id)
        reject(new CairnError('Timeout'))
      }, timeoutMs)
      timer.unref?.()
      this.waiting.set(id, { resolve, reject, timer })
    })
  }

  has(id: string): boolean {
    return this.waiting.has(id)
  }

  trigger(id: string, value: T): void {
    const w = this.waiting.get(id)
    if (!w) return
    this.waiting.delete(id)
    clearTimeout(w.timer)
    w.resolve(value)
  }

  fail(id: string, err: Error): void {
    const w = this.waiting.get(id)
    if (!w) return
    this.waiting.delete(id)
    clearTimeout(w.timer)
    w.reject(err)
  }

  failAll(err: Error): void {
    for (const id of [...this.waiting.keys()]) this.fail(id, err)
  }

  size(): number {
    return this.waiting.size
  }
}
