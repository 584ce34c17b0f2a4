// Authentication and role-based access control against real 3-member clusters (`cairn serve`
// processes): the route table refuses unauthenticated requests, users get exactly what their roles
// grant on v3, v2 and watches, tokens die with a permission change, and the auth state is replicated,
// survives restarts and travels in backups.

import { execFile, spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { extraGuardedPaths, publicPaths } from '../../core/api/route-policy.ts'
import { v3Paths } from '../../core/api/v3-routes.ts'
import { Client } from '../../core/client/index.ts'
import { restoreSnapshotInto } from '../cluster/restore.ts'
import { b64, sleep, TestCluster, unb64 } from '../cluster/harness.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const run = promisify(execFile)
const FAST_BCRYPT = ['--bcrypt-cost', '4']

interface Answer {
  status: number
  body: Record<string, unknown>
}

async function call(base: string, path: string, body: unknown, auth?: string, method = 'POST'): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (auth !== undefined) headers.authorization = auth
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(15_000) }
  if (method !== 'GET') init.body = JSON.stringify(body)
  const r = await fetch(base + path, init)
  const text = await r.text()
  let parsed: Record<string, unknown> = {}
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {}
  } catch {
    parsed = { text }
  }
  return { status: r.status, body: parsed }
}

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64')

async function token(base: string, name: string, password: string): Promise<string> {
  const r = await call(base, '/v3/auth/authenticate', { name, password })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return r.body.token as string
}

async function ok(base: string, path: string, body: unknown, auth?: string): Promise<Record<string, unknown>> {
  const r = await call(base, path, body, auth)
  expect(r.status, `${path}: ${JSON.stringify(r.body)}`).toBe(200)
  return r.body
}

async function cairn(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, ['bin/cairn.js', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 30_000 })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string }
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? '' }
  }
}

/** Opens a watch socket with the given Authorization and sends one create; resolves with the first frame (or the refusal). */
function watchOnce(base: string, auth: string | undefined, key: string, rangeEnd?: string): Promise<{ status?: number; frame?: Record<string, unknown>; ws?: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(base.replace(/^http/, 'ws') + '/v3/watch', { headers: auth ? { authorization: auth } : {} })
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0 })
      ws.terminate()
    })
    ws.once('error', (e) => reject(e))
    ws.once('open', () => {
      ws.send(JSON.stringify({ create_request: { key: b64(key), ...(rangeEnd ? { range_end: b64(rangeEnd) } : {}), watch_id: '1' } }))
    })
    ws.once('message', (d) => resolve({ frame: (JSON.parse(String(d)) as { result: Record<string, unknown> }).result, ws }))
  })
}

function nextFrame(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d) => resolve((JSON.parse(String(d)) as { result: Record<string, unknown> }).result)))
}

let cluster: TestCluster
let url: string
let follower: string

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3, extraArgs: FAST_BCRYPT, snapshotCount: 200 })
  for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
  const leader = await cluster.waitForLeader()
  url = cluster.members[leader]!.clientUrl
  follower = cluster.members[(leader + 1) % 3]!.clientUrl
  // Users and roles through the CLI (before auth is on, no credentials are needed).
  const c = (args: string[]) => cairn(['--endpoints', follower, ...args])
  for (const args of [
    ['user', 'add', 'root:rootpw'],
    ['user', 'add', 'alice', '--new-user-password', 'alicepw'],
    ['user', 'add', 'bob:bobpw'],
    ['role', 'add', 'app'],
    ['role', 'grant-permission', 'app', 'readwrite', 'app/', '--prefix'],
    ['role', 'grant-permission', 'app', 'readwrite', '/app', '--prefix'],
    ['role', 'add', 'reader'],
    ['role', 'grant-permission', 'reader', 'read', 'app/', '--prefix'],
    ['user', 'grant-role', 'alice', 'app'],
    ['user', 'grant-role', 'bob', 'reader'],
    ['auth', 'enable'],
  ]) {
    const r = await c(args)
    expect(r.code, `cairn ${args.join(' ')}: ${r.stderr}`).toBe(0)
  }
}, 90_000)

afterAll(async () => {
  await cluster?.stop()
})

describe('auth on a 3-member cluster', () => {
  it('every route in the route table refuses an unauthenticated request, except the listed public ones', async () => {
    const open = new Set(publicPaths())
    expect([...open].sort()).toEqual(['/health', '/livez', '/metrics', '/readyz', '/v3/auth/authenticate', '/v3/cluster/member/list', '/v3/maintenance/status', '/version'])
    const paths = [...new Set([...v3Paths(), ...extraGuardedPaths])].filter((p) => !open.has(p))
    expect(paths.length).toBeGreaterThan(30)
    for (const path of paths) {
      for (const method of path === '/new' || path === '/v3/maintenance/snapshot' ? ['GET', 'POST'] : ['POST']) {
        const r = await call(follower, path, { key: b64('app/x'), value: b64('v'), name: 'x', role: 'x', user: 'x' }, undefined, method)
        expect({ path, method, status: r.status, code: r.body.code }).toEqual({ path, method, status: 401, code: 16 })
      }
    }
    // A bad token is as good as none.
    const bad = await call(follower, '/v3/kv/range', { key: b64('app/x') }, 'not-a-token')
    expect(bad).toMatchObject({ status: 401, body: { code: 16, error: 'etcdserver: invalid auth token' } })
    // The watch socket is refused at the upgrade; the v2 API answers etcd v2's 401.
    expect((await watchOnce(follower, undefined, 'app/x')).status).toBe(401)
    for (const p of ['/v2/keys/app/x', '/v2/members', '/v2/machines', '/v2/stats/self']) {
      const r = await call(follower, p, undefined, undefined, 'GET')
      expect({ p, status: r.status, body: r.body }).toEqual({ p, status: 401, body: { message: 'Insufficient credentials' } })
    }
    // The deliberately public paths answer without credentials.
    expect((await call(follower, '/health', undefined, undefined, 'GET')).status).toBe(200)
    expect((await call(follower, '/v3/maintenance/status', {})).status).toBe(200)
  }, 60_000)

  it('v3: a user may do what its roles grant and nothing else', async () => {
    const alice = await token(follower, 'alice', 'alicepw')
    const bob = await token(url, 'bob', 'bobpw')
    await ok(follower, '/v3/kv/put', { key: b64('app/1'), value: b64('one') }, alice)
    const denied = await call(follower, '/v3/kv/put', { key: b64('other'), value: b64('x') }, alice)
    expect(denied).toMatchObject({ status: 403, body: { code: 7, error: 'etcdserver: permission denied' } })
    const read = await ok(url, '/v3/kv/range', { key: b64('app/'), range_end: b64('app0') }, bob)
    expect((read.kvs as Array<{ value: string }>).map((kv) => unb64(kv.value))).toEqual(['one'])
    expect((await call(url, '/v3/kv/put', { key: b64('app/2'), value: b64('x') }, bob)).status).toBe(403)
    expect((await call(url, '/v3/kv/range', { key: b64('\0'), range_end: b64('\0') }, bob)).status).toBe(403)
    // put with prev_kv also reads the key: bob (read-only) still may not; alice may.
    await ok(url, '/v3/kv/put', { key: b64('app/1'), value: b64('uno'), prev_kv: true }, alice)
    // A txn is allowed only if every compare and both branches are.
    const txn = (failureKey: string) => ({
      compare: [{ key: b64('app/1'), target: 'VALUE', result: 'EQUAL', value: b64('uno') }],
      success: [{ request_put: { key: b64('app/t'), value: b64('1') } }],
      failure: [{ request_put: { key: b64(failureKey), value: b64('1') } }],
    })
    expect((await ok(url, '/v3/kv/txn', txn('app/f'), alice)).succeeded).toBe(true)
    expect((await call(url, '/v3/kv/txn', txn('secret'), alice)).status).toBe(403)
    // Nothing of the refused txn was applied.
    expect((await ok(url, '/v3/kv/range', { key: b64('secret') }, basic('root', 'rootpw'))).kvs).toBeUndefined()
    // Basic auth works on v3 too; root may do anything, others no administration.
    await ok(url, '/v3/kv/put', { key: b64('secret'), value: b64('s') }, basic('root', 'rootpw'))
    expect((await call(url, '/v3/auth/user/add', { name: 'eve', password: 'x' }, alice)).status).toBe(403)
    expect((await call(url, '/v3/cluster/member/add', { peerURLs: ['http://127.0.0.1:1'] }, alice)).status).toBe(403)
    expect((await call(url, '/v3/maintenance/snapshot', {}, alice, 'GET')).status).toBe(403)
    expect((await call(url, '/v3/kv/compaction', { revision: '1' }, alice)).status).toBe(403)
    // A user reads its own record and roles, not others'.
    expect((await ok(url, '/v3/auth/user/get', { name: 'alice' }, alice)).roles).toEqual(['app'])
    expect((await call(url, '/v3/auth/user/get', { name: 'bob' }, alice)).status).toBe(403)
    expect((await ok(url, '/v3/auth/role/get', { role: 'app' }, alice)).perm).toHaveLength(2)
    expect((await call(url, '/v3/auth/role/get', { role: 'reader' }, alice)).status).toBe(403)
  }, 60_000)

  it('leases: grant for any user, revoke needs write on every attached key', async () => {
    const alice = await token(url, 'alice', 'alicepw')
    const bob = await token(url, 'bob', 'bobpw')
    const lease = (await ok(url, '/v3/lease/grant', { TTL: '60' }, alice)).ID as string
    await ok(url, '/v3/kv/put', { key: b64('app/leased'), value: b64('1'), lease }, alice)
    expect((await call(url, '/v3/lease/revoke', { ID: lease }, bob)).status).toBe(403)
    // Keep-alives run on the leader: a follower forwards them with the caller's credentials.
    expect(((await ok(follower, '/v3/lease/keepalive', { ID: lease }, alice)).result as { TTL: string }).TTL).toBe('60')
    await ok(follower, '/v3/lease/revoke', { ID: lease }, alice)
  }, 30_000)

  it('watch: only over ranges the user may read', async () => {
    const alice = await token(follower, 'alice', 'alicepw')
    const allowed = await watchOnce(follower, alice, 'app/', 'app0')
    expect(allowed.frame).toMatchObject({ created: true })
    expect(allowed.frame?.canceled).toBeUndefined()
    const event = nextFrame(allowed.ws!)
    await ok(url, '/v3/kv/put', { key: b64('app/w'), value: b64('seen') }, alice)
    const e = (await event).events as Array<{ kv: { key: string } }>
    expect(unb64(e[0]!.kv.key)).toBe('app/w')
    allowed.ws!.close()
    const refused = await watchOnce(follower, alice, 'secret')
    expect(refused.frame).toMatchObject({ created: true, canceled: true, cancel_reason: 'etcdserver: permission denied' })
    refused.ws!.close()
    // The streaming POST form is checked the same way.
    expect((await call(follower, '/v3/watch', { create_request: { key: b64('secret') } }, alice)).status).toBe(403)
  }, 30_000)

  it('v2: basic auth (etcdctl --username) maps to the same users and roles', async () => {
    const v2 = (args: string[]) => run('etcdctl', ['--endpoints', follower, ...args], { env: { ...process.env, ETCDCTL_API: '2' }, timeout: 20_000 })
    await v2(['--username', 'root:rootpw', 'set', '/secret2', 'x'])
    const got = await v2(['--username', 'alice:alicepw', 'set', '/app/v2', 'hello'])
    expect(got.stdout.trim()).toBe('hello')
    expect((await v2(['--username', 'alice:alicepw', 'get', '/app/v2'])).stdout.trim()).toBe('hello')
    await expect(v2(['--username', 'alice:alicepw', 'get', '/secret2'])).rejects.toThrow(/Insufficient credentials/)
    await expect(v2(['get', '/app/v2'])).rejects.toThrow(/Insufficient credentials/)
    await expect(v2(['--username', 'alice:wrong', 'get', '/app/v2'])).rejects.toThrow(/Insufficient credentials/)
  }, 60_000)

  it('v2: member changes through a follower are root\'s, and root\'s go through to the leader', async () => {
    const members = (auth: string, method: string, path = '', body?: unknown) =>
      fetch(`${follower}/v2/members${path}`, {
        method,
        headers: { authorization: auth, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      })
    const request = { peerURLs: ['http://127.0.0.1:9'] }
    expect((await members(basic('alice', 'alicepw'), 'POST', '', request)).status).toBe(401)
    const added = await members(basic('root', 'rootpw'), 'POST', '', request)
    const text = await added.text()
    expect(added.status, text).toBe(201)
    const id = (JSON.parse(text) as { id: string }).id
    expect((await members(basic('root', 'rootpw'), 'DELETE', `/${id}`)).status).toBe(204)
  }, 60_000)

  it('discovery: GET /new (root only) makes the token directory with the caller\'s credentials', async () => {
    const asRoot = { headers: { authorization: basic('root', 'rootpw') }, signal: AbortSignal.timeout(15_000) }
    const made = await fetch(`${follower}/new?size=3`, asRoot)
    const text = await made.text()
    expect(made.status, text).toBe(200)
    const size = await fetch(`${text.trim()}/_config/size`, asRoot)
    expect(((await size.json()) as { node: { value: string } }).node.value).toBe('3')
    // Like every cluster-wide path, /new is root's.
    const asBob = await fetch(`${follower}/new?size=3`, { headers: { authorization: basic('bob', 'bobpw') }, signal: AbortSignal.timeout(15_000) })
    expect(asBob.status).toBe(403)
  }, 60_000)

  it('a token stops working when the user\'s roles change; the client re-authenticates by itself', async () => {
    const alice = await token(url, 'alice', 'alicepw')
    const client = new Client({ endpoints: cluster.members.map((m) => m.clientUrl), username: 'alice', password: 'alicepw' })
    await client.put('app/c', '1')
    // A watch whose socket carries the token that is about to go stale.
    const first = client.watch('app/c', { startRevision: 1 })
    for await (const r of first) {
      expect(r.events.map((e) => Buffer.from(e.kv.value).toString())).toContain('1')
      break
    }
    const root = basic('root', 'rootpw')
    await ok(url, '/v3/auth/user/revoke', { name: 'alice', role: 'app' }, root)
    const stale = await call(follower, '/v3/kv/range', { key: b64('app/1') }, alice)
    expect(stale).toMatchObject({ status: 401, body: { code: 16 } })
    // A fresh token works, but without the role it no longer reads app/.
    const fresh = await token(follower, 'alice', 'alicepw')
    expect((await call(follower, '/v3/kv/range', { key: b64('app/1') }, fresh)).status).toBe(403)
    await expect(client.get('app/c')).rejects.toMatchObject({ code: 'PermissionDenied' })
    await ok(url, '/v3/auth/user/grant', { user: 'alice', role: 'app' }, root)
    // The client's token is outdated again; it authenticates anew and the read succeeds.
    expect((await client.get('app/c')).kvs.map((kv) => Buffer.from(kv.value).toString())).toEqual(['1'])
    // A watch created on the socket opened with the old token reconnects with a fresh one.
    const second = client.watch('app/c', { startRevision: 1 })
    for await (const r of second) {
      expect(r.events.map((e) => Buffer.from(e.kv.value).toString())).toContain('1')
      break
    }
    client.close()
  }, 30_000)

  it('the CLI takes --user name:password, and --user name with --password', async () => {
    const e = ['--endpoints', cluster.members.map((m) => m.clientUrl).join(',')]
    expect((await cairn([...e, 'put', 'app/cli', 'v', '--user', 'alice:alicepw'])).stdout).toBe('OK\n')
    expect((await cairn([...e, 'get', 'app/cli', '--print-value-only', '--user', 'alice', '--password', 'alicepw'])).stdout).toBe('v\n')
    const refused = await cairn([...e, 'put', 'nope', 'v', '--user', 'alice:alicepw'])
    expect(refused).toMatchObject({ code: 1, stderr: 'Error: etcdserver: permission denied\n' })
    expect((await cairn([...e, 'get', 'app/cli'])).stderr).toBe('Error: cairn: authentication required\n')
    expect((await cairn([...e, 'role', 'get', 'app', '--user', 'root:rootpw'])).stdout).toBe(
      'Role app\nKV Read:\n\t[/app, /apq) (prefix /app)\n\t[app/, app0) (prefix app/)\nKV Write:\n\t[/app, /apq) (prefix /app)\n\t[app/, app0) (prefix app/)\n',
    )
    expect((await cairn([...e, 'auth', 'status', '--user', 'root:rootpw'])).stdout).toMatch(/^Authentication Status: true\nAuthRevision: \d+\n$/)
    expect((await cairn([...e, 'user', 'list', '--user', 'root:rootpw'])).stdout).toBe('alice\nbob\nroot\n')
    // passwd reads the new password from stdin with --interactive=false.
    const passwd = spawnSync(process.execPath, ['bin/cairn.js', ...e, 'user', 'passwd', 'bob', '--interactive=false', '--user', 'root:rootpw'], {
      cwd: ROOT,
      input: 'bobpw2\n',
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(passwd.stdout, passwd.stderr).toBe('Password updated\n')
    await token(cluster.members[0]!.clientUrl, 'bob', 'bobpw2')
    expect((await call(cluster.members[0]!.clientUrl, '/v3/auth/authenticate', { name: 'bob', password: 'bobpw' })).body.code).toBe(3)
    await ok(cluster.members[0]!.clientUrl, '/v3/auth/user/changepw', { name: 'bob', password: 'bobpw' }, basic('root', 'rootpw'))
  }, 60_000)

  it('the auth state survives a member restart and a restart of the whole cluster', async () => {
    await cluster.kill(1)
    cluster.startMember(1)
    await cluster.waitHealthy(1, 20_000)
    const m1 = cluster.members[1]!.clientUrl
    const alice = await token(m1, 'alice', 'alicepw')
    await ok(m1, '/v3/kv/put', { key: b64('app/after-restart'), value: b64('1') }, alice)
    for (let i = 0; i < 3; i++) await cluster.kill(i)
    for (let i = 0; i < 3; i++) cluster.startMember(i)
    await cluster.waitForLeader(20_000)
    for (let i = 0; i < 3; i++) await cluster.waitHealthy(i, 20_000)
    for (const m of cluster.members) {
      const status = await ok(m.clientUrl, '/v3/auth/status', {}, basic('root', 'rootpw'))
      expect(status.enabled).toBe(true)
      expect((await call(m.clientUrl, '/v3/kv/range', { key: b64('app/after-restart') })).status).toBe(401)
      const t = await token(m.clientUrl, 'bob', 'bobpw')
      expect((await call(m.clientUrl, '/v3/kv/put', { key: b64('app/x'), value: b64('1') }, t)).status).toBe(403)
      expect((await ok(m.clientUrl, '/v3/kv/range', { key: b64('app/after-restart'), serializable: true }, t)).count).toBe('1')
    }
  }, 90_000)

  it('a member that missed auth changes gets them in the snapshot the leader sends', async () => {
    const leader = await cluster.waitForLeader()
    const victim = (leader + 1) % 3
    const lurl = cluster.members[leader]!.clientUrl
    const root = basic('root', 'rootpw')
    await cluster.kill(victim)
    await ok(lurl, '/v3/auth/user/add', { name: 'carol', password: 'carolpw' }, root)
    await ok(lurl, '/v3/auth/role/add', { name: 'late' }, root)
    await ok(lurl, '/v3/auth/role/grant', { name: 'late', perm: { permType: 'READ', key: b64('app/'), range_end: b64('app0') } }, root)
    await ok(lurl, '/v3/auth/user/grant', { user: 'carol', role: 'late' }, root)
    // Enough entries that the leader compacts its log past the victim (it keeps 5,000 behind a snapshot).
    let next = 0
    const writer = async () => {
      for (let i = next++; i < 5400; i = next++) await ok(lurl, '/v3/kv/put', { key: b64(`app/bulk/${i % 50}`), value: b64(String(i)) }, root)
    }
    await Promise.all(Array.from({ length: 16 }, writer))
    cluster.startMember(victim)
    await cluster.waitHealthy(victim, 30_000)
    const vurl = cluster.members[victim]!.clientUrl
    const deadline = Date.now() + 20_000
    while (!cluster.members[victim]!.stderr.includes('restored snapshot from leader') && Date.now() < deadline) await sleep(100)
    expect(cluster.members[victim]!.stderr).toContain('restored snapshot from leader')
    const carol = await token(vurl, 'carol', 'carolpw')
    expect((await ok(vurl, '/v3/kv/range', { key: b64('app/1'), serializable: true }, carol)).count).toBe('1')
    expect((await call(vurl, '/v3/kv/put', { key: b64('app/1'), value: b64('x') }, carol)).status).toBe(403)
  }, 120_000)

  it('a backup carries the auth state into the restored cluster', async () => {
    const file = join(cluster.root, 'backup.snap')
    const e = ['--endpoints', cluster.members.map((m) => m.clientUrl).join(',')]
    expect((await cairn([...e, 'snapshot', 'save', file])).code).not.toBe(0)
    const saved = await cairn([...e, 'snapshot', 'save', file, '--user', 'root:rootpw'])
    expect(saved.code, saved.stderr).toBe(0)
    const target = await TestCluster.allocate({ size: 1, extraArgs: FAST_BCRYPT })
    try {
      await restoreSnapshotInto(target, 0, file)
      target.startMember(0)
      await target.waitHealthy(0, 20_000)
      const u = target.members[0]!.clientUrl
      expect((await call(u, '/v3/kv/range', { key: b64('app/1') })).status).toBe(401)
      const alice = await token(u, 'alice', 'alicepw')
      expect((await ok(u, '/v3/kv/range', { key: b64('app/1') }, alice)).count).toBe('1')
      expect((await call(u, '/v3/kv/range', { key: b64('secret') }, alice)).status).toBe(403)
      expect((await ok(u, '/v3/auth/user/list', {}, basic('root', 'rootpw'))).users).toEqual(['alice', 'bob', 'carol', 'root'])
    } finally {
      await target.stop()
    }
  }, 60_000)
})

void sleep
