// Runs `cairn` (bin/cairn.js) as a user would: arguments, optional stdin, environment; returns what it
// printed and its exit code.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'

const ROOT = new URL('../..', import.meta.url).pathname
export const BIN = join(ROOT, 'bin/cairn.js')

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export function cairn(args: string[], opts: { endpoints?: string; stdin?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env }
    if (opts.endpoints !== undefined) env.CAIRN_ENDPOINTS = opts.endpoints
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cairn ${args.join(' ')} did not finish\nstdout: ${stdout}\nstderr: ${stderr}`))
    }, opts.timeoutMs ?? 60_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(opts.stdin ?? '')
  })
}

/** Starts a long-running `cairn` (watch, keep-alive); the caller stops it. */
export function cairnLong(args: string[], endpoints: string): { child: ChildProcess; output: () => Run; exited: Promise<Run> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, CAIRN_ENDPOINTS: endpoints }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const exited = new Promise<Run>((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })))
  return { child, output: () => ({ code: child.exitCode, stdout, stderr }), exited }
}

export const b64 = (s: string) => Buffer.from(s).toString('base64')
