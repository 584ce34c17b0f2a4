// `cairn lock` against a real 3-member cluster: locksmithctl's verbs over the reboot semaphore (status,
// lock, unlock, set-max, --group, -w json), `lock` failing at once with one line when no slot is free,
// and `lock run NAME -- COMMAND`: the command runs holding the lock (fencing token in its environment),
// runs exclude each other, and a lost lock stops the command.

import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, toText } from '../../core/client/index.ts'
import { cairn, cairnLong } from '../cli/run.ts'
import { sleep, TestCluster } from '../cluster/harness.ts'

let cluster: TestCluster
let client: Client
let endpoints: string
let root: string

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  endpoints = cluster.members.map((m) => m.clientUrl).join(',')
  client = new Client({ endpoints: endpoints.split(',') })
  root = mkdtempSync(join(tmpdir(), 'cairn-lockctl-'))
}, 120_000)

afterAll(async () => {
  client?.close()
  await cluster?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

describe('cairn lock (locksmithctl verbs)', () => {
  it('status, lock, unlock and set-max on the default semaphore, as locksmithctl prints them', async () => {
    let r = await cairn(['lock', 'status'], { endpoints })
    expect(r).toMatchObject({ code: 0, stdout: 'Available: 1\nMax: 1\n' })
    r = await cairn(['lock', 'lock', 'machine-a'], { endpoints })
    expect(r).toMatchObject({ code: 0, stdout: '', stderr: '' })
    r = await cairn(['lock', 'lock', 'machine-a'], { endpoints }) // idempotent
    expect(r.code).toBe(0)
    r = await cairn(['lock', 'lock', 'machine-b'], { endpoints })
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: 'Error: semaphore is at 0\n' })
    r = await cairn(['lock', 'status'], { endpoints })
    expect(r.stdout).toBe('Available: 0\nMax: 1\n\nMACHINE ID\nmachine-a\n')
    const kv = (await client.get('coreos.com/updateengine/rebootlock/semaphore')).kvs[0]!
    expect(JSON.parse(toText(kv.value))).toEqual({ semaphore: 0, max: 1, holders: ['machine-a'] })
    r = await cairn(['lock', 'set-max', '3'], { endpoints })
    expect(r).toMatchObject({ code: 0, stdout: 'Old: 1\nNew: 3\n' })
    r = await cairn(['lock', 'lock', 'machine-b'], { endpoints })
    expect(r.code).toBe(0)
    r = await cairn(['lock', 'status', '-w', 'json'], { endpoints })
    expect(JSON.parse(r.stdout)).toEqual({ semaphore: 1, max: 3, holders: ['machine-a', 'machine-b'], dead: [] })
    r = await cairn(['lock', 'unlock', 'machine-c'], { endpoints })
    expect(r).toMatchObject({ code: 1, stderr: 'Error: holder does not exist: machine-c\n' })
    for (const id of ['machine-a', 'machine-b']) expect((await cairn(['lock', 'unlock', id], { endpoints })).code).toBe(0)
    r = await cairn(['lock', 'set-max', 'two'], { endpoints })
    expect(r.code).toBe(1)
  })

  it('--group (before or after the verb) and CAIRN_REBOOTD_ID as the default ID', async () => {
    let r = await cairn(['lock', '--group', 'db servers', 'set-max', '0'], { endpoints })
    expect(r).toMatchObject({ code: 0, stdout: 'Old: 1\nNew: 0\n' })
    r = await cairn(['lock', 'lock', 'x', '--group', 'db servers'], { endpoints })
    expect(r).toMatchObject({ code: 1, stderr: 'Error: semaphore is at 0\n' })
    expect((await client.get('coreos.com/updateengine/rebootlock/groups/db+servers/semaphore')).kvs).toHaveLength(1)
    process.env.CAIRN_REBOOTD_ID = 'from-env'
    try {
      await cairn(['lock', 'set-max', '1', '--group', 'env'], { endpoints })
      r = await cairn(['lock', 'lock', '--group', 'env'], { endpoints })
      expect(r.code).toBe(0)
      r = await cairn(['lock', 'status', '--group', 'env'], { endpoints })
      expect(r.stdout).toContain('MACHINE ID\nfrom-env\n')
    } finally {
      delete process.env.CAIRN_REBOOTD_ID
    }
  })
})

describe('cairn lock run', () => {
  it('runs the command holding the lock, with the key and fencing token in its environment', async () => {
    const r = await cairn(['lock', 'run', 'jobs/a', '--', 'sh', '-c', 'echo "$CAIRN_LOCK_KEY $CAIRN_LOCK_FENCING_TOKEN $ETCD_LOCK_REV"; exit 7'], { endpoints })
    expect(r.code).toBe(7)
    const [key, token, rev] = r.stdout.trim().split(' ')
    expect(key).toMatch(/^jobs\/a\/[0-9a-f]+$/)
    expect(Number(token)).toBeGreaterThan(0)
    expect(rev).toBe(token)
    expect((await client.get('jobs/a/', { prefix: true })).kvs).toHaveLength(0)
  })

  it('two runs of the same lock never overlap', async () => {
    const log = join(root, 'runs.log')
    writeFileSync(log, '')
    const script = `echo "in $(date +%s%3N)" >> ${log}; sleep 0.5; echo "out $(date +%s%3N)" >> ${log}`
    const runs = await Promise.all([0, 1, 2].map(() => cairn(['lock', 'run', 'jobs/b', '--', 'sh', '-c', script], { endpoints })))
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0])
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    expect(lines.map((l) => l.split(' ')[0])).toEqual(['in', 'out', 'in', 'out', 'in', 'out'])
  })

  it('stops the command when the lock is lost, and exits 1', async () => {
    const run = cairnLong(['lock', 'run', 'jobs/c', '--kill-grace', '1s', '--', 'sh', '-c', 'echo started; exec sleep 30'], endpoints)
    const deadline = Date.now() + 20_000
    while (!run.output().stdout.includes('started') && Date.now() < deadline) await sleep(100)
    const held = (await client.get('jobs/c/', { prefix: true })).kvs
    expect(held).toHaveLength(1)
    const t0 = Date.now()
    await client.delete(held[0]!.key)
    const done = await run.exited
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(done.code).toBe(1)
    expect(done.stderr).toContain('Error: lock lost: our key was deleted; stopping the command')
  })

  // Each step has its own bound and, past it, fails saying which step and what each process printed
  // (this test once ran out of vitest's 30 s on a loaded CI machine without saying where).
  it('--timeout gives up waiting with one line', async () => {
    const steps: string[] = []
    const t0 = Date.now()
    const step = (what: string) => steps.push(`+${Date.now() - t0} ms ${what}`)
    const holder = cairnLong(['lock', 'run', 'jobs/d', '--', 'sh', '-c', 'echo held; exec sleep 30'], endpoints)
    const report = () =>
      [...steps, `holder: ${JSON.stringify(holder.output())}`, ...cluster.members.map((m) => `${m.name} stderr tail: ${m.stderr.slice(-2000)}`)].join('\n')
    try {
      const deadline = Date.now() + 20_000
      while (!holder.output().stdout.includes('held') && Date.now() < deadline) await sleep(100)
      if (!holder.output().stdout.includes('held')) throw new Error('the holder did not take the lock within 20 s')
      step('holder holds the lock')
      const r = await cairn(['lock', 'run', 'jobs/d', '--timeout', '500ms', '--', 'true'], { endpoints, timeoutMs: 15_000 })
      step(`second run exited: ${JSON.stringify(r)}`)
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^Error: cannot take lock jobs\/d: .*\n$/)
      holder.child.kill('SIGTERM')
      const done = await Promise.race([holder.exited, sleep(15_000).then(() => undefined)])
      if (done === undefined) throw new Error('the holder did not exit within 15 s of SIGTERM')
      step('holder exited')
      expect(done.code).toBe(128 + 15)
      expect((await client.get('jobs/d/', { prefix: true })).kvs).toHaveLength(0)
    } catch (e) {
      holder.child.kill('SIGKILL')
      throw new Error(`${(e as Error).message}\n${report()}`, { cause: e })
    }
  }, 60_000)
})
