// Kills a process that is writing log batches (SIGKILL, at a moment the test does not choose), then
// checks that the store reopens cleanly and holds exactly the state after some whole step: every
// batch all there or all absent, nothing acknowledged lost, every record valid and the log contiguous.

import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { observe } from './log-store-conformance.ts'
import type { LogStore } from './log-store.ts'
import { MemoryDb } from './memory-db.ts'
import { MemoryLogStore } from './memory-log-store.ts'
import { RocksDb } from './rocks-db.ts'
import { RocksLogStore } from './rocks-log-store.ts'
import { crashStepsMax, runCrashStep } from './testdata/crash-plan.ts'
import { makeTempDir, removeTempDir } from './testdata/temp-dir.ts'

const writerPath = fileURLToPath(new URL('./testdata/crash-writer.ts', import.meta.url))
const repositoryRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Runs the writer until it has reported `killAfterSteps` steps, kills it, and returns the last step it reported. */
async function runAndKill(path: string, killAfterSteps: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', writerPath, path], {
    cwd: repositoryRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let lastStep = 0
  let pending = ''
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop()!
    for (const line of lines) if (/^\d+$/.test(line)) lastStep = Number(line)
    if (lastStep >= killAfterSteps) child.kill('SIGKILL')
  })
  const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  )
  // Lines already written by the child before it died still count as acknowledged.
  await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.once('end', resolve)))
  for (const line of pending.split('\n')) if (/^\d+$/.test(line)) lastStep = Number(line)
  if (exit.signal !== 'SIGKILL') throw new Error(`writer exited with ${exit.code}: ${stderr}`)
  return lastStep
}

/** Replays the plan on a MemoryLogStore and returns the step after which it looks like `store`. */
async function matchingStep(store: LogStore, stepsMax: number): Promise<number | undefined> {
  const target = observe(store)
  const targetJson = JSON.stringify(target)
  const model = new MemoryLogStore()
  for (let step = 0; step <= stepsMax; step++) {
    if (step > 0) await runCrashStep(model, step)
    if (model.lastIndex() === store.lastIndex() && JSON.stringify(observe(model)) === targetJson) return step
  }
  return undefined
}

describe('RocksLogStore after a SIGKILL mid-write', () => {
  let dir = ''
  afterEach(async () => {
    await removeTempDir(dir)
  })

  it.each([150, 400, 900])('reopens at a whole step when killed after %i steps', async (killAfterSteps) => {
    dir = await makeTempDir('crash')
    const path = join(dir, 'db')
    const reportedStep = await runAndKill(path, killAfterSteps)
    expect(reportedStep).toBeGreaterThanOrEqual(killAfterSteps)
    const db = await RocksDb.open(path)
    try {
      const store = await RocksLogStore.open(db) // every record valid, the log contiguous
      const step = await matchingStep(store, Math.min(crashStepsMax, reportedStep + 50))
      expect(step, 'the reopened store matches no whole step of the plan').toBeDefined()
      // A process crash loses nothing the OS already has: every step reported as done is there.
      expect(step).toBeGreaterThanOrEqual(reportedStep)
    } finally {
      await db.close()
    }
  }, 60_000)
})

describe('RocksLogStore over MemoryDb after a machine crash', () => {
  it('reopens at the last synced step plus any prefix of the unsynced ones', async () => {
    const db = new MemoryDb()
    const store = await RocksLogStore.open(db)
    const stepsRun = 175 // ends on unsynced writes: 173 (odd), 174 (a local snapshot), 175 (odd)
    for (let step = 1; step <= stepsRun; step++) await runCrashStep(store, step)
    const unsynced = db.unsyncedBatchCount
    expect(unsynced).toBe(3)
    for (let kept = 0; kept <= unsynced; kept++) {
      const reopened = await RocksLogStore.open(db.crashCopy(kept))
      expect(await matchingStep(reopened, stepsRun)).toBe(stepsRun - unsynced + kept)
    }
  })
})
