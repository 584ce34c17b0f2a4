// One run of a replica's program: a child process in its own process group (so stopping it reaches
// whatever it forked), output appended to a log file, environment = PATH/HOME/LANG of the agent plus
// the job's env plus CAIRN_JOB, CAIRN_REPLICA and CAIRN_MACHINE. stop() sends SIGTERM to the group
// and SIGKILL after the stop timeout.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { ReplicaRef } from '../../recipes/work/layout.ts'
import { replicaId } from '../../recipes/work/layout.ts'
import type { JobSpec } from '../../recipes/work/spec.ts'
import { forgetPid, recordPid } from './leftovers.ts'
import type { ExitInfo } from './policy.ts'

const INHERITED_ENV = ['PATH', 'HOME', 'LANG', 'TZ', 'TMPDIR']

export interface ChildOptions {
  spec: JobSpec
  ref: ReplicaRef
  machine: string
  logDir: string
  stopTimeoutMs: number
}

export function logFileOf(logDir: string, ref: ReplicaRef): string {
  return join(logDir, `${replicaId(ref)}.log`)
}

export class Child {
  readonly pid: number
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>
  readonly startedAt = Date.now()
  private exitInfo: ExitInfo | undefined

  private constructor(proc: ChildProcess, exited: Promise<ExitInfo>) {
    this.pid = proc.pid!
    this.exited = exited.then((e) => (this.exitInfo = e))
  }

  /** Starts the program; throws (with the reason) when it cannot be started at all. */
  static async start(o: ChildOptions): Promise<Child> {
    mkdirSync(o.logDir, { recursive: true })
    const fd = openSync(logFileOf(o.logDir, o.ref), 'a')
    try {
      writeSync(fd, `--- ${new Date().toISOString()} cairn agent: starting ${replicaId(o.ref)} on ${o.machine}: ${JSON.stringify(o.spec.command)}\n`)
      const env: Record<string, string> = {}
      for (const name of INHERITED_ENV) if (process.env[name] !== undefined) env[name] = process.env[name]!
      Object.assign(env, o.spec.env, { CAIRN_JOB: o.ref.job, CAIRN_REPLICA: o.ref.replica, CAIRN_MACHINE: o.machine })
      const proc = spawn(o.spec.command[0]!, o.spec.command.slice(1), {
        cwd: o.spec.workingDir,
        env,
        detached: true,
        stdio: ['ignore', fd, fd],
      })
      const exited = new Promise<ExitInfo>((resolve) =>
        proc.once('exit', (code, signal) => {
          forgetPid(o.logDir, o.ref)
          resolve({ code, signal })
        }),
      )
      await new Promise<void>((resolve, reject) => {
        proc.once('spawn', resolve)
        proc.once('error', reject)
      })
      // Recorded so that an agent restarted after a crash can stop it (leftovers.ts).
      recordPid(o.logDir, o.ref, proc.pid!)
      return new Child(proc, exited)
    } finally {
      closeSync(fd)
    }
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined
  }

  /** SIGTERM to the group, SIGKILL after `timeoutMs`; resolves once the process has exited. */
  async stop(timeoutMs: number): Promise<ExitInfo> {
    if (!this.hasExited) {
      this.signalGroup('SIGTERM')
      const timer = setTimeout(() => this.signalGroup('SIGKILL'), timeoutMs)
      await this.exited
      clearTimeout(timer)
    }
    // Whatever the program left behind in its group goes with it.
    this.signalGroup('SIGKILL')
    return this.exited
  }

  private signalGroup(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, signal)
    } catch {
      // The group is gone already.
    }
  }
}
