// `cairn rebootd` processes against a real 3-member cluster. Machines "reboot" with
// test/reboot/fake-reboot.sh (records start and end, changes the boot ID, kills the agent); the fleet
// starts a killed agent again. Checked: never more than max machines rebooting at once, every one
// reboots once and gives its slot back only after its boot; a holder that dies mid-reboot is pruned
// after its TTL with liveness on and kept with it off; the reboot window is honoured for the whole
// attempt.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '../../core/client/index.ts'
import { Semaphore } from '../../recipes/semaphore/index.ts'
import { cairn } from '../cli/run.ts'
import { sleep, TestCluster } from '../cluster/harness.ts'
import { Fleet, HolderObserver, maxOverlap, until } from './fleet.ts'

let cluster: TestCluster
let client: Client
let endpoints: string
let root: string

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  endpoints = cluster.members.map((m) => m.clientUrl).join(',')
  client = new Client({ endpoints: endpoints.split(',') })
  root = mkdtempSync(join(tmpdir(), 'cairn-rebootd-'))
}, 120_000)

afterAll(async () => {
  client?.close()
  await cluster?.stop()
  if (root) rmSync(root, { recursive: true, force: true })
})

/** "HH:MM:SS" local time of a moment. */
function clockTime(ms: number): string {
  const d = new Date(ms)
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':')
}

describe('cairn rebootd', () => {
  it('ten machines with max 2: never more than 2 reboot at once, all reboot once, each releases after its boot', async () => {
    const group = 'fleet'
    await new Semaphore(client, { group }).setMax(2)
    const observer = await HolderObserver.start(client, group)
    const fleet = new Fleet(join(root, group), endpoints, group)
    for (let i = 0; i < 10; i++) fleet.add(`m${i}`)
    fleet.startAll()
    try {
      const sem = new Semaphore(client, { group })
      await until(
        'every machine to reboot and release',
        async () => {
          if ([...fleet.reboots().values()].filter((r) => r.ends.length > 0).length < 10) return false
          const s = await sem.status()
          return s.value.holders.length === 0 && fleet.machines.every((m) => !fleet.hasState(m))
        },
        120_000,
        () => fleet.dump(),
      )
      const reboots = fleet.reboots()
      expect(reboots.size).toBe(10)
      for (const [id, r] of reboots) {
        expect(r.starts, id).toHaveLength(1)
        expect(r.ends, id).toHaveLength(1)
      }
      const rebooting = [...reboots.values()].map((r) => [r.starts[0]!, r.ends[0]!] as [number, number])
      expect(maxOverlap(rebooting)).toBeLessThanOrEqual(2)
      expect(maxOverlap(rebooting)).toBeGreaterThanOrEqual(1)
      await sleep(300)
      await observer.stop()
      expect(observer.maxHolders).toBeLessThanOrEqual(2)
      for (const [id, r] of reboots) {
        const spans = observer.spans.get(id) ?? []
        expect(spans, id).toHaveLength(1)
        const span = spans[0]!
        // The slot was taken before the reboot started (the observer hears of it a little later, so
        // allow for delivery) and given back only after the boot (delivery only makes that later).
        expect(span.from - 2000, id).toBeLessThanOrEqual(r.starts[0]!)
        expect(span.to, id).toBeDefined()
        expect(span.to!, id).toBeGreaterThan(r.ends[0]!)
      }
      const slots = [...observer.spans.values()].flat().map((s) => [s.from, s.to!] as [number, number])
      expect(maxOverlap(slots)).toBeLessThanOrEqual(2)
      expect((await sem.status()).value).toEqual({ semaphore: 2, max: 2, holders: [] })
      for (const m of fleet.machines) expect(m.stderr, m.id).toContain('rebooted; released the reboot slot')
      // Nothing more to do: each agent idles, and SIGTERM stops it cleanly.
      const codes = await fleet.stopAll()
      expect(codes.every((c) => c === 0)).toBe(true)
    } finally {
      fleet.killAll()
      await observer.stop().catch(() => undefined)
    }
  }, 180_000)

  it('a holder that dies mid-reboot is pruned after its TTL with --holder-ttl, and kept without it', async () => {
    const run = async (group: string, liveness: boolean) => {
      const fleet = new Fleet(join(root, group), endpoints, group)
      const extra = liveness ? ['--holder-ttl', '2s'] : []
      const dead = fleet.add('dead', { args: extra, env: { FAKE_MODE: 'die' }, restart: false })
      const next = fleet.add('next', { args: extra })
      fleet.start(dead)
      await until('the first machine to start rebooting', () => fleet.reboots().has('dead'), 30_000, () => fleet.dump())
      fleet.start(next)
      return { fleet, dead, next }
    }
    const live = await run('liveness-on', true)
    const compat = await run('liveness-off', false)
    try {
      const diedAt = live.fleet.reboots().get('dead')!.starts[0]!
      await until('the live holder to be pruned and the next machine to reboot', () => (live.fleet.reboots().get('next')?.ends.length ?? 0) > 0, 30_000, () => live.fleet.dump())
      const nextStart = live.fleet.reboots().get('next')!.starts[0]!
      // The dead holder's lease lasts its TTL after the last refresh (a refresh every third of it).
      expect(nextStart - diedAt).toBeGreaterThanOrEqual(1000)
      await until('the next machine to release', async () => (await new Semaphore(client, { group: 'liveness-on' }).status()).value.holders.length === 0, 30_000, () => live.fleet.dump())
      // Without liveness the dead machine keeps its slot: nobody else reboots.
      const compatDiedAt = compat.fleet.reboots().get('dead')!.starts[0]!
      await sleep(Math.max(0, compatDiedAt + 5000 - Date.now()))
      expect(compat.fleet.reboots().has('next')).toBe(false)
      expect((await new Semaphore(client, { group: 'liveness-off' }).status()).value).toEqual({ semaphore: 0, max: 1, holders: ['dead'] })
    } finally {
      live.fleet.killAll()
      compat.fleet.killAll()
    }
  }, 120_000)

  it('a reboot-needed key (set through the environment) triggers a reboot and is cleared after the boot', async () => {
    const group = 'by-key'
    const fleet = new Fleet(join(root, group), endpoints, group)
    const m = fleet.add('k1', {
      rebootNeeded: false,
      args: ['--reboot-needed-file', ''],
      env: { CAIRN_REBOOTD_REBOOT_NEEDED_KEY: 'reboot-needed/k1' },
    })
    fleet.start(m)
    try {
      await sleep(1500)
      expect(fleet.reboots().size).toBe(0)
      await client.put('reboot-needed/k1', 'kernel 6.1 installed')
      await until('the reboot and the release after boot', async () => {
        if ((fleet.reboots().get('k1')?.ends.length ?? 0) === 0) return false
        return (await client.get('reboot-needed/k1')).kvs.length === 0 && !fleet.hasState(m)
      }, 30_000, () => fleet.dump())
      expect((await new Semaphore(client, { group }).status()).value.holders).toEqual([])
      await sleep(1000)
      expect(fleet.reboots().get('k1')!.starts).toHaveLength(1)
      expect(await fleet.stopAll()).toEqual([0])
    } finally {
      fleet.killAll()
    }
  }, 60_000)

  it('the reboot window is honoured, for the whole attempt', async () => {
    // Opens a few seconds from now (agents take a while to start on a busy machine) for 6 s.
    const opensAt = Math.ceil((Date.now() + 6000) / 1000) * 1000
    const lengthMs = 6000
    const windowArgs = ['--reboot-window-start', clockTime(opensAt), '--reboot-window-length', '6s']
    // Three machines with free slots reboot inside the window only.
    const inside = new Fleet(join(root, 'window'), endpoints, 'window')
    await new Semaphore(client, { group: 'window' }).setMax(3)
    for (const id of ['w1', 'w2', 'w3']) inside.add(id, { args: windowArgs })
    // A machine whose window is closed all day (opened two hours ago for one hour) does not reboot.
    const closed = inside.add('closed', {
      env: { CAIRN_REBOOTD_REBOOT_WINDOW_START: clockTime(Date.now() - 2 * 3600_000), CAIRN_REBOOTD_REBOOT_WINDOW_LENGTH: '1h' },
    })
    // A machine that waits for a slot during the window and gets one only after it closed must not reboot.
    const late = new Fleet(join(root, 'late'), endpoints, 'late')
    const operator = new Semaphore(client, { group: 'late' })
    await operator.lock('operator')
    const lateMachine = late.add('late', { args: windowArgs })
    inside.startAll()
    late.startAll()
    try {
      await until('the window machines to reboot', () => ['w1', 'w2', 'w3'].every((id) => (inside.reboots().get(id)?.ends.length ?? 0) > 0), 30_000, () => inside.dump())
      for (const id of ['w1', 'w2', 'w3']) {
        const start = inside.reboots().get(id)!.starts[0]!
        expect(start, id).toBeGreaterThanOrEqual(opensAt)
        expect(start, id).toBeLessThan(opensAt + lengthMs)
      }
      await sleep(Math.max(0, opensAt + lengthMs + 500 - Date.now()))
      await operator.unlock('operator')
      await sleep(3000)
      expect(late.reboots().has('late')).toBe(false)
      expect(inside.reboots().has('closed')).toBe(false)
      expect((await operator.status()).value).toEqual({ semaphore: 1, max: 1, holders: [] })
      expect(lateMachine.stderr).toContain('outside the reboot window')
      expect(closed.stderr).toContain('outside the reboot window')
      const codes = [...(await inside.stopAll()), ...(await late.stopAll())]
      expect(codes.every((c) => c === 0)).toBe(true)
    } finally {
      inside.killAll()
      late.killAll()
    }
  }, 90_000)

  it('SIGTERM during a reboot keeps the slot; a restart under the same boot ID resumes, under a new one releases', async () => {
    const group = 'restarts'
    const fleet = new Fleet(join(root, group), endpoints, group)
    const m = fleet.add('r1', { env: { FAKE_MODE: 'hang' }, restart: false })
    const sem = new Semaphore(client, { group })
    fleet.start(m)
    try {
      await until('the reboot to start', () => fleet.reboots().has('r1'), 30_000, () => fleet.dump())
      expect(await fleet.stopAll()).toEqual([0])
      expect((await sem.status()).value.holders).toEqual(['r1'])
      expect(fleet.hasState(m)).toBe(true)
      // Same boot: the agent only restarted, so it still holds and tries the reboot again.
      fleet.start(m)
      await until('the second attempt', () => fleet.reboots().get('r1')!.starts.length === 2, 30_000, () => fleet.dump())
      expect((await sem.status()).value.holders).toEqual(['r1'])
      expect(await fleet.stopAll()).toEqual([0])
      // A new boot ID: the reboot happened; the slot is given back.
      writeFileSync(join(m.dir, 'boot_id'), 'boot-after\n')
      rmSync(join(m.dir, 'reboot-required'), { force: true })
      fleet.start(m)
      // The log line is written just after the release becomes visible: wait for it too.
      await until(
        'the release after boot',
        async () => (await sem.status()).value.holders.length === 0 && !fleet.hasState(m) && m.stderr.includes('rebooted; released the reboot slot'),
        30_000,
        () => fleet.dump(),
      )
      expect(m.stderr).toContain('rebooted; released the reboot slot')
      expect(await fleet.stopAll()).toEqual([0])
    } finally {
      fleet.killAll()
    }
  }, 90_000)

  it('a bad setting is one Error line and exit 1', async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--id', 'x', '--strategy', 'sometimes'], {}, /^Error: --strategy: expected one of etcd-lock, reboot, off, got "sometimes"\n$/],
      [['--id', 'x', '--reboot-window-start', 'Thu 04:00'], {}, /^Error: --reboot-window-start needs --reboot-window-length too\n$/],
      [['--id', 'x'], { CAIRN_REBOOTD_REBOOT_WINDOW_START: 'Thu 4h', CAIRN_REBOOTD_REBOOT_WINDOW_LENGTH: '1h' }, /^Error: --reboot-window-start: expected/],
      [['--id', 'x', '--state-dir', '/etc/hostname/x'], {}, /^Error: --state-dir: cannot write \/etc\/hostname\/x \(ENOTDIR\)\n$/],
    ]
    await Promise.all(
      cases.map(async ([args, env, expected]) => {
        const saved = { ...process.env }
        Object.assign(process.env, env)
        const run = cairn(['rebootd', ...args], { endpoints, timeoutMs: 30_000 })
        process.env = saved
        const r = await run
        expect(r.code, args.join(' ')).toBe(1)
        expect(r.stderr, args.join(' ')).toMatch(expected)
      }),
    )
  })
})
