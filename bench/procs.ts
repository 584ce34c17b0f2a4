// Every process and temporary directory the benchmark starts is registered here, so that one call
// stops them all: at the end of a run, on SIGINT/SIGTERM, on an uncaught error and at the deadline.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'

export interface Child {
  readonly proc: ChildProcess
  readonly pid: number
  /** Last bytes of stderr, for diagnosis. */
  stderrTail(): string
  exited(): boolean
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exit: Promise<number | string>
}

const STDERR_TAIL_BYTES_MAX = 64 * 1024
const live = new Set<ChildProcess>()
const tempDirs = new Set<string>()
const cleanups = new Set<() => void>()

export function startChild(file: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Child {
  const proc = spawn(file, args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let tail = ''
  proc.stderr?.setEncoding('utf8')
  proc.stderr?.on('data', (d: string) => {
    tail = (tail + d).slice(-STDERR_TAIL_BYTES_MAX)
  })
  let gone = false
  const exit = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      gone = true
      live.delete(proc)
      resolve(code ?? signal ?? 'unknown')
    })
    proc.once('error', (e) => {
      gone = true
      live.delete(proc)
      tail += `\nspawn error: ${e.message}`
      resolve('spawn-error')
    })
  })
  if (proc.pid === undefined) {
    // spawn failed synchronously (binary missing); the 'error' event reports why
    return { proc, pid: -1, stderrTail: () => tail, exited: () => true, exit }
  }
  live.add(proc)
  return { proc, pid: proc.pid, stderrTail: () => tail, exited: () => gone, exit }
}

/** Sends a signal and waits for the exit, escalating to SIGKILL after graceMs. */
export async function stopChild(c: Child, signal: NodeJS.Signals = 'SIGKILL', graceMs = 5000): Promise<void> {
  if (c.exited()) return
  c.proc.kill(signal)
  if (signal === 'SIGKILL') {
    await c.exit
    return
  }
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), graceMs)
  await c.exit
  clearTimeout(timer)
}

export function registerTempDir(dir: string): void {
  tempDirs.add(dir)
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

/** Something else to stop on the way out (worker threads, sockets). */
export function onCleanup(fn: () => void): () => void {
  cleanups.add(fn)
  return () => cleanups.delete(fn)
}

/** Synchronous on purpose: it must also work from process.on('exit'). */
export function killEverything(): void {
  for (const fn of [...cleanups]) {
    try {
      fn()
    } catch {
      // best effort on the way out
    }
  }
  cleanups.clear()
  for (const p of [...live]) p.kill('SIGKILL')
  live.clear()
  for (const d of [...tempDirs]) {
    try {
      rmSync(d, { recursive: true, force: true })
    } catch {
      // a child may still hold files for a moment; the OS temp dir is cleaned eventually
    }
  }
  tempDirs.clear()
}

export function liveChildren(): number {
  return live.size
}
