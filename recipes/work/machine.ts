// A machine as its agent announces it under machines/<id>, bound to the agent's lease: its labels
// (matched by job constraints), its capacity (absent resources are unlimited), and how long it may
// take to stop a process — the scheduler waits at least that long before moving work off a machine
// that vanished, so the old process is gone before the new one starts.

import { checkName } from './layout.ts'
import { checkLabel, parseLabelMap, parseResources } from './spec.ts'
import type { Resources } from './spec.ts'

export interface MachineInfo {
  id: string
  labels: Record<string, string>
  capacity: Partial<Resources>
  stopTimeoutMs: number
  /** When this agent registered (ms since 1970): tells a restarted agent from the one before. */
  startedAt: number
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export function encodeMachineInfo(m: MachineInfo): string {
  return JSON.stringify({ id: m.id, labels: m.labels, capacity: m.capacity, stopTimeoutMs: m.stopTimeoutMs, startedAt: m.startedAt })
}

/** Decodes a machine record; throws TypeError/RangeError for a malformed one. */
export function parseMachineInfo(id: string, text: string): MachineInfo {
  const v: unknown = JSON.parse(text)
  if (!isObject(v)) throw new TypeError(`machine ${id}: expected a JSON object`)
  const stopTimeoutMs = v.stopTimeoutMs ?? 0
  const startedAt = v.startedAt ?? 0
  if (typeof stopTimeoutMs !== 'number' || !Number.isFinite(stopTimeoutMs) || stopTimeoutMs < 0) throw new RangeError(`machine ${id}: bad stopTimeoutMs`)
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) throw new RangeError(`machine ${id}: bad startedAt`)
  return {
    id: checkName('machine', id),
    labels: parseLabelMap(`machine ${id} labels`, v.labels),
    capacity: parseResources(`machine ${id} capacity`, v.capacity),
    stopTimeoutMs,
    startedAt,
  }
}

/** `--labels k=v,k2=v2` (empty: no labels). */
export function parseLabelsFlag(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue
    const eq = part.indexOf('=')
    if (eq <= 0) throw new TypeError(`--labels: expected key=value pairs separated by commas, got ${JSON.stringify(part)}`)
    const key = checkLabel('--labels key', part.slice(0, eq))
    if (key in out) throw new TypeError(`--labels: ${key} given twice`)
    out[key] = checkLabel(`--labels ${key}`, part.slice(eq + 1))
  }
  return out
}

/** `--capacity cpu=4,memory=8192` (empty: unlimited). */
export function parseCapacityFlag(text: string): Partial<Resources> {
  const o: Record<string, number> = {}
  for (const part of text.split(',').map((p) => p.trim())) {
    if (part === '') continue
    const [k, val, extra] = part.split('=')
    if (k === undefined || val === undefined || extra !== undefined || !/^\d+(\.\d+)?$/.test(val)) {
      throw new TypeError(`--capacity: expected name=number pairs such as cpu=4,memory=8192, got ${JSON.stringify(part)}`)
    }
    o[k] = Number(val)
  }
  try {
    return parseResources('--capacity', o)
  } catch (e) {
    throw new TypeError((e as Error).message)
  }
}
