// The real references for the v2 differential tests: a single etcd 3.4 with --enable-v2 (Debian's
// etcd-server) on loopback free ports in a temporary data dir, and etcdctl in v2 mode (Debian's
// etcd-client). Nothing is installed here; tests skip when the binaries are missing.

import { execFileSync, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, sleep } from '../cluster/harness.ts'

function onPath(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Why the etcd comparisons cannot run here, or undefined when they can. */
export function etcdMissing(): string | undefined {
  const missing = ['etcd', 'etcdctl'].filter((b) => !onPath(b))
  return missing.length === 0 ? undefined : `${missing.join(' and ')} not on PATH (apt-get install etcd-server etcd-client)`
}

export class RealEtcd {
  private constructor(
    readonly clientUrl: string,
    private readonly proc: ChildProcess,
    private readonly dataDir: string,
    private readonly log: () => string,
  ) {}

  /** Starts etcd on free ports, trying again if a port was taken in between (by another test). */
  static async start(attempts = 3): Promise<RealEtcd> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await RealEtcd.startOnce()
      } catch (e) {
        if (attempt >= attempts) throw e
      }
    }
  }

  private static async startOnce(): Promise<RealEtcd> {
    const dataDir = mkdtempSync(join(tmpdir(), 'cairn-etcd-ref-'))
    const [clientPort, peerPort] = [await freePort(), await freePort()]
    const clientUrl = `http://127.0.0.1:${clientPort}`
    const peerUrl = `http://127.0.0.1:${peerPort}`
    const proc = spawn(
      'etcd',
      [
        '--enable-v2',
        '--name', 'reference',
        '--data-dir', join(dataDir, 'data'),
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', `reference=${peerUrl}`,
        '--heartbeat-interval', '50',
        '--election-timeout', '500',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    let log = ''
    proc.stderr!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000)
    })
    process.on('exit', () => proc.kill('SIGKILL'))
    const etcd = new RealEtcd(clientUrl, proc, dataDir, () => log)
    try {
      await etcd.waitHealthy()
    } catch (e) {
      await etcd.stop()
      throw e
    }
    return etcd
  }

  private async waitHealthy(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      if (this.proc.exitCode !== null) break
      try {
        const r = await fetch(`${this.clientUrl}/health`, { signal: AbortSignal.timeout(1000) })
        if (r.status === 200) return
      } catch {
        // not up yet
      }
      await sleep(100)
    }
    throw new Error(`etcd did not become healthy\n${this.log()}`)
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      await new Promise<void>((resolve) => {
        this.proc.once('exit', () => resolve())
        this.proc.kill('SIGKILL')
      })
    }
    rmSync(this.dataDir, { recursive: true, force: true })
  }
}

export interface Output {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `etcdctl` in v2 mode against `endpoints`. */
export function etcdctl(endpoints: string, args: string[], timeoutMs = 15_000): Promise<Output> {
  return new Promise((resolve) => {
    const proc = spawn('etcdctl', ['--endpoints', endpoints, ...args], {
      env: { ...process.env, ETCDCTL_API: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs)
    proc.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A long-running etcdctl (watch --forever, exec-watch): read its output, then stop it. */
export class Background {
  stdout = ''
  stderr = ''
  private readonly proc: ChildProcess
  private readonly exited: Promise<void>

  constructor(endpoints: string, args: string[]) {
    this.proc = spawn('etcdctl', ['--endpoints', endpoints, ...args], {
      env: { ...process.env, ETCDCTL_API: '2' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.proc.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()))
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()))
    this.exited = new Promise((resolve) => this.proc.on('close', () => resolve()))
  }

  /** Waits until stdout has `lines` lines (or the timeout), then kills the process. */
  async collect(lines: number, timeoutMs = 10_000): Promise<Output> {
    const deadline = Date.now() + timeoutMs
    while (this.stdout.split('\n').filter((l) => l !== '').length < lines && Date.now() < deadline && this.proc.exitCode === null) {
      await sleep(50)
    }
    this.proc.kill('SIGKILL')
    await this.exited
    return { code: 0, stdout: this.stdout, stderr: this.stderr }
  }
}
