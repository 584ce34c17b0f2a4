// What the reboot agent persists across its own restart and the machine's reboot: the phase of the
// attempt (slot taken / reboot started), the boot ID it saw, and the liveness lease. After a restart,
// a `rebooting` phase with a different boot ID means the reboot happened: release the slot. The same
// boot ID means only the agent restarted: the attempt goes on.

import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'

export interface PersistedState {
  phase: 'locked' | 'rebooting'
  id: string
  group: string | undefined
  strategy: string
  /** Boot ID when the phase was entered (undefined: the boot ID file was unreadable). */
  bootId: string | undefined
  /** The holder-liveness lease, when liveness is on. */
  leaseId: number | undefined
  /** The reboot-needed key and its mod revision when the reboot started (to clear it afterwards). */
  neededKey: string | undefined
  neededKeyRevision: number | undefined
  /** When the phase was entered (ms since 1970). */
  atMs: number
}

export const STATE_FILE = 'rebootd-state.json'

export function statePath(dir: string): string {
  return join(dir, STATE_FILE)
}

/** The saved state, or undefined when there is none (or it cannot be read: then it is ignored). */
export function readState(dir: string): PersistedState | undefined {
  let text: string
  try {
    text = readFileSync(statePath(dir), 'utf8')
  } catch {
    return undefined
  }
  try {
    const o = JSON.parse(text) as Record<string, unknown>
    if (o.phase !== 'locked' && o.phase !== 'rebooting') return undefined
    if (typeof o.id !== 'string') return undefined
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
    const num = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined)
    const lease = str(o.leaseId)
    return {
      phase: o.phase,
      id: o.id,
      group: str(o.group),
      strategy: str(o.strategy) ?? 'etcd-lock',
      bootId: str(o.bootId),
      leaseId: lease !== undefined && /^[0-9a-f]+$/i.test(lease) ? parseInt(lease, 16) : undefined,
      neededKey: str(o.neededKey),
      neededKeyRevision: num(o.neededKeyRevision),
      atMs: num(o.atMs) ?? 0,
    }
  } catch {
    return undefined
  }
}

/** Writes the state durably (temporary file, fsync, rename) before the step it announces. */
export function writeState(dir: string, s: PersistedState): void {
  ensureDir(dir)
  const tmp = statePath(dir) + '.tmp'
  const body = JSON.stringify({ ...s, leaseId: s.leaseId === undefined ? undefined : s.leaseId.toString(16) }) + '\n'
  const fd = openSync(tmp, 'w', 0o600)
  try {
    writeSync(fd, body)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  renameSync(tmp, statePath(dir))
  syncDir(dir)
}

/**
 * mkdir -p, one level at a time. (Node 20's recursive mkdirSync spins forever on a path under /proc,
 * where mkdir answers ENOENT for a parent that exists.)
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EEXIST') return
    const parent = dirname(dir)
    if (code !== 'ENOENT' || parent === dir) throw e
    ensureDir(parent)
    mkdirSync(dir)
  }
}

export function clearState(dir: string): void {
  rmSync(statePath(dir), { force: true })
  syncDir(dir)
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Not every platform can fsync a directory.
  }
}

/** The kernel's boot ID (changes at every boot), or undefined when unreadable. */
export function readBootId(file: string): string | undefined {
  try {
    const v = readFileSync(file, 'utf8').trim()
    return v === '' ? undefined : v
  } catch {
    return undefined
  }
}

/** The machine ID (systemd's /etc/machine-id), or undefined when unreadable. */
export function readMachineId(file = '/etc/machine-id'): string | undefined {
  return readBootId(file)
}
