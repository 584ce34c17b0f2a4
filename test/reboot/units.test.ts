// The reboot agent's pure parts: the window (local time, weekly or daily, with a clock chosen by the
// test), the decision step over whole attempts, the backoff, settings from flags and environment, and
// the persisted attempt.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { buildConfig, resolveFlags } from '../../agents/rebootd/config.ts'
import { backoffMs, decide } from '../../agents/rebootd/decide.ts'
import type { AgentState } from '../../agents/rebootd/decide.ts'
import { parseDuration } from '../../agents/rebootd/duration.ts'
import { clearState, readBootId, readState, writeState } from '../../agents/rebootd/state.ts'
import { inWindow, lastStart, nextStart, parseWindow, untilClose, untilOpen } from '../../agents/rebootd/window.ts'

/** A local time: 2026-01-01 is a Thursday. */
const at = (day: number, h: number, m = 0, s = 0) => new Date(2026, 0, day, h, m, s).getTime()

describe('reboot window', () => {
  it('parseWindow() reads locksmith\'s forms and refuses bad ones with one line', () => {
    expect(parseWindow('Thu 04:00', '1h')).toEqual({ weekday: 4, hours: 4, minutes: 0, seconds: 0, lengthMs: 3_600_000 })
    expect(parseWindow('04:30', '30m')).toEqual({ weekday: undefined, hours: 4, minutes: 30, seconds: 0, lengthMs: 1_800_000 })
    expect(parseWindow('sunday 23:59:30', '1m30s')?.weekday).toBe(0)
    expect(parseWindow(undefined, undefined)).toBeUndefined()
    expect(() => parseWindow('Thu 04:00', undefined)).toThrow(/needs --reboot-window-length/)
    expect(() => parseWindow(undefined, '1h')).toThrow(/needs --reboot-window-start/)
    expect(() => parseWindow('Thursday-ish 04:00', '1h')).toThrow(/expected|unknown day/)
    expect(() => parseWindow('Thx 04:00', '1h')).toThrow(/unknown day "Thx"/)
    expect(() => parseWindow('25:00', '1h')).toThrow(/no such time/)
    expect(() => parseWindow('04:00', '60')).toThrow(/missing unit/)
    expect(() => parseWindow('04:00', '0s')).toThrow(/positive/)
  })

  it('a weekly window is open from its start for its length, in local time', () => {
    const w = parseWindow('Thu 04:00', '1h')!
    expect(inWindow(w, at(1, 3, 59, 59))).toBe(false)
    expect(inWindow(w, at(1, 4))).toBe(true)
    expect(inWindow(w, at(1, 4, 59, 59))).toBe(true)
    expect(inWindow(w, at(1, 5))).toBe(false)
    expect(inWindow(w, at(2, 4, 30))).toBe(false) // Friday
    expect(inWindow(w, at(8, 4, 30))).toBe(true) // next Thursday
    expect(lastStart(w, at(3, 12))).toBe(at(1, 4))
    expect(nextStart(w, at(1, 5))).toBe(at(8, 4))
    expect(untilOpen(w, at(1, 3))).toBe(3_600_000)
    expect(untilClose(w, at(1, 4, 45))).toBe(15 * 60_000)
    expect(untilClose(w, at(1, 6))).toBe(0)
  })

  it('a daily window may cross midnight; no window is always open', () => {
    const w = parseWindow('23:30', '1h')!
    expect(inWindow(w, at(5, 23, 45))).toBe(true)
    expect(inWindow(w, at(6, 0, 15))).toBe(true)
    expect(inWindow(w, at(6, 0, 31))).toBe(false)
    expect(inWindow(undefined, at(6, 12))).toBe(true)
    expect(untilClose(undefined, at(6, 12))).toBe(Infinity)
    expect(inWindow(parseWindow('00:00', '24h'), at(6, 12))).toBe(true)
  })
})

describe('decide()', () => {
  const window = parseWindow('Thu 04:00', '1h')!
  const base: AgentState = {
    strategy: 'etcd-lock',
    nowMs: at(1, 4, 10),
    window,
    rebootNeeded: true,
    holding: false,
    retryAtMs: 0,
  }
  const interval = 1000

  it('takes a slot, then reboots, inside the window', () => {
    expect(decide(base, interval)).toEqual({ kind: 'lock' })
    expect(decide({ ...base, holding: true }, interval)).toEqual({ kind: 'reboot' })
  })

  it('waits outside the window, and gives back a slot it got too late (the whole attempt is in the window)', () => {
    const late = { ...base, nowMs: at(1, 5, 1) }
    expect(decide(late, interval).kind).toBe('wait')
    expect(decide({ ...late, holding: true }, interval)).toEqual({ kind: 'release', why: 'outside the reboot window' })
    // Waiting before the window: wakes at the opening or after the interval, whichever is first.
    const early = { ...base, nowMs: at(1, 3, 59, 59) + 500 }
    expect(decide(early, 60_000)).toEqual({ kind: 'wait', untilMs: at(1, 4), why: 'outside the reboot window' })
  })

  it('backs off after a full semaphore; releases when no reboot is needed; off does nothing', () => {
    expect(decide({ ...base, retryAtMs: base.nowMs + 700 }, interval)).toEqual({ kind: 'wait', untilMs: base.nowMs + 700, why: 'backing off' })
    expect(decide({ ...base, rebootNeeded: false }, interval).kind).toBe('wait')
    expect(decide({ ...base, rebootNeeded: false, holding: true }, interval).kind).toBe('release')
    expect(decide({ ...base, strategy: 'off' }, interval).kind).toBe('wait')
    expect(decide({ ...base, strategy: 'off', holding: true }, interval).kind).toBe('release')
  })

  it('strategy reboot reboots without a slot, in the window only', () => {
    expect(decide({ ...base, strategy: 'reboot' }, interval)).toEqual({ kind: 'reboot' })
    expect(decide({ ...base, strategy: 'reboot', nowMs: at(1, 6) }, interval).kind).toBe('wait')
  })

  it('backoffMs() grows to its maximum with jitter, never below half the minimum', () => {
    expect(backoffMs(0, 1000, 60_000, () => 0)).toBe(500)
    expect(backoffMs(3, 1000, 60_000, () => 0.999)).toBe(7992)
    expect(backoffMs(40, 1000, 60_000, () => 0.999)).toBe(59_940)
  })
})

describe('settings', () => {
  it('flags win over CAIRN_REBOOTD_* variables, which win over locksmithd\'s', () => {
    const env = {
      CAIRN_REBOOTD_STRATEGY: 'reboot',
      REBOOT_STRATEGY: 'off',
      LOCKSMITHD_REBOOT_WINDOW_START: 'Sun 02:00',
      LOCKSMITHD_REBOOT_WINDOW_LENGTH: '2h',
      CAIRN_REBOOTD_HOLDER_TTL: '5m',
      LOCKSMITHD_GROUP: 'web',
    }
    const given = resolveFlags({ strategy: 'off' }, env)
    expect(given.strategy).toBe('off')
    const cfg = buildConfig(resolveFlags({}, env), () => 'machine-1\n')
    expect(cfg).toMatchObject({ id: 'machine-1', strategy: 'reboot', group: 'web', holderTtlSeconds: 300, rebootCommand: 'systemctl reboot' })
    expect(cfg.window).toEqual({ weekday: 0, hours: 2, minutes: 0, seconds: 0, lengthMs: 7_200_000 })
    expect(cfg.rebootNeededFile).toBe('/var/run/reboot-required')
  })

  it('a bad setting is one clear line', () => {
    expect(() => buildConfig({ strategy: 'sometimes' }, () => 'm')).toThrow('--strategy: expected one of etcd-lock, reboot, off, got "sometimes"')
    expect(() => buildConfig({}, () => undefined)).toThrow(/no --id given/)
    expect(() => buildConfig({ holderTtl: '500ms' }, () => 'm')).toThrow(/--holder-ttl/)
    expect(() => buildConfig({ checkInterval: '5' }, () => 'm')).toThrow(/--check-interval: missing unit/)
    expect(buildConfig({ strategy: 'best-effort' }, () => 'm').strategy).toBe('etcd-lock')
    expect(buildConfig({ rebootNeededFile: '' }, () => 'm').rebootNeededFile).toBeUndefined()
  })

  it('parseDuration() reads Go durations', () => {
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('250ms')).toBe(250)
    expect(() => parseDuration('1d')).toThrow(RangeError)
  })
})

describe('persisted attempt', () => {
  it('writeState()/readState() round-trip; a damaged file is ignored', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rebootd-state-'))
    try {
      expect(readState(dir)).toBeUndefined()
      const s = {
        phase: 'rebooting' as const,
        id: 'm1',
        group: 'web',
        strategy: 'etcd-lock',
        bootId: 'b1',
        leaseId: 0x1234abcd,
        neededKey: 'reboot/m1',
        neededKeyRevision: 42,
        atMs: 1000,
      }
      writeState(dir, s)
      expect(readState(dir)).toEqual(s)
      clearState(dir)
      expect(readState(dir)).toBeUndefined()
      writeFileSync(join(dir, 'rebootd-state.json'), '{not json')
      expect(readState(dir)).toBeUndefined()
      writeFileSync(join(dir, 'boot_id'), 'abc\n')
      expect(readBootId(join(dir, 'boot_id'))).toBe('abc')
      expect(readBootId(join(dir, 'missing'))).toBeUndefined()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
