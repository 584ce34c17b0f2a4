// Programs left behind by an agent that died (kill -9, OOM) while its machine lived: each program's
// process group is recorded in `<log-dir>/<job>#<replica>.pid` (pid and the process's start time, so
// a recycled pid is never mistaken for it) and removed when it exits. A starting agent stops what
// the files still name before it registers, so a restarted agent never runs a second copy next to an
// orphan of its previous run.

import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { ReplicaRef } from '../../recipes/work/layout.ts'
import { replicaId } from '../../recipes/work/layout.ts'

const PID_SUFFIX = '.pid'

function pidFileOf(logDir: string, ref: ReplicaRef): string {
  return join(logDir, `${replicaId(ref)}${PID_SUFFIX}`)
}

/** The process's start time in clock ticks since boot (Linux /proc), or '' where there is no /proc. */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command (which may contain spaces) start after the last ')'; starttime is field 22.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

export function recordPid(logDir: string, ref: ReplicaRef, pid: number): void {
  writeFileSync(pidFileOf(logDir, ref), `${pid} ${processStartTime(pid)}\n`)
}

export function forgetPid(logDir: string, ref: ReplicaRef): void {
  rmSync(pidFileOf(logDir, ref), { force: true })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Stops (SIGTERM, SIGKILL after stopTimeoutMs) every recorded program still running; returns their files' names. */
export async function stopLeftovers(logDir: string, stopTimeoutMs: number): Promise<string[]> {
  let names: string[]
  try {
    names = readdirSync(logDir).filter((n) => n.endsWith(PID_SUFFIX))
  } catch {
    return []
  }
  const stopped: string[] = []
  const running: number[] = []
  for (const name of names) {
    const [pidText, started] = readFileSync(join(logDir, name), 'utf8').trim().split(' ')
    const pid = Number(pidText)
    // Only the very process we started: same pid and same start time (a recycled pid differs).
    if (Number.isSafeInteger(pid) && pid > 1 && alive(pid) && processStartTime(pid) === (started ?? '')) {
      signalGroup(pid, 'SIGTERM')
      running.push(pid)
      stopped.push(name)
    }
    rmSync(join(logDir, name), { force: true })
  }
  const deadline = Date.now() + stopTimeoutMs
  while (running.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  for (const pid of running) signalGroup(pid, 'SIGKILL')
  return stopped
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // Gone already.
  }
}
