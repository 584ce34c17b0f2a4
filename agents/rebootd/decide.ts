// The reboot agent's pure decision step: from what it knows now, what to do next. The I/O loop
// (agent.ts) gathers the state, runs the action, and asks again. The window is checked before every
// step of an attempt — before taking the lock and again right before rebooting — so an attempt that
// waited past the window's end gives its slot back instead of rebooting late.

import type { RebootWindow } from './window.ts'
import { inWindow, untilOpen } from './window.ts'

export type Strategy = 'etcd-lock' | 'reboot' | 'off'
export const STRATEGIES: readonly Strategy[] = ['etcd-lock', 'reboot', 'off']

export interface AgentState {
  strategy: Strategy
  nowMs: number
  window: RebootWindow | undefined
  rebootNeeded: boolean
  /** Our id is among the semaphore's holders (etcd-lock). */
  holding: boolean
  /** Earliest time of the next attempt (backoff after a full semaphore or a failed reboot). */
  retryAtMs: number
}

export type AgentAction =
  /** Nothing to do before `untilMs` (or before something changes). */
  | { kind: 'wait'; untilMs: number; why: string }
  /** Try to take a slot. */
  | { kind: 'lock' }
  /** Give our slot back without rebooting. */
  | { kind: 'release'; why: string }
  /** Run the reboot command now. */
  | { kind: 'reboot' }

export function decide(s: AgentState, checkIntervalMs: number): AgentAction {
  const idle = (why: string, untilMs = s.nowMs + checkIntervalMs): AgentAction => ({ kind: 'wait', untilMs, why })
  if (s.strategy === 'off') return s.holding ? { kind: 'release', why: 'strategy is off' } : idle('strategy is off')
  if (!s.rebootNeeded) return s.holding ? { kind: 'release', why: 'no reboot needed any more' } : idle('no reboot needed')
  if (!inWindow(s.window, s.nowMs)) {
    if (s.holding) return { kind: 'release', why: 'outside the reboot window' }
    const opensInMs = untilOpen(s.window, s.nowMs)
    return idle('outside the reboot window', s.nowMs + Math.min(checkIntervalMs, Math.max(1, opensInMs)))
  }
  if (s.holding) return { kind: 'reboot' }
  if (s.nowMs < s.retryAtMs) return idle('backing off', s.retryAtMs)
  return s.strategy === 'reboot' ? { kind: 'reboot' } : { kind: 'lock' }
}

/** Exponential backoff with full jitter after `failures` consecutive full-semaphore answers. */
export function backoffMs(failures: number, minMs: number, maxMs: number, random: () => number): number {
  const cap = Math.min(maxMs, minMs * 2 ** Math.min(failures, 30))
  return Math.max(minMs / 2, Math.floor(random() * cap))
}
