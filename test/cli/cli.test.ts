// `cairn` verbs against a real 3-member cluster (one cluster for the file), checked the way etcdctl
// users depend on them: simple output, -w json parsed in etcd's shapes (JSON numbers for int64, base64
// keys), exit codes and one-line errors, the txn syntax, watch with a command, Ctrl-C.

import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { Client } from '../../core/client/index.ts'
import { sleep, TestCluster } from '../cluster/harness.ts'
import { b64, cairn, cairnLong } from './run.ts'

// Each verb is a process start (~0.7 s on an idle machine, much more on a busy one).
vi.setConfig({ testTimeout: 120_000 })

let cluster: TestCluster
let endpoints = ''
const run = (args: string[], stdin?: string) => cairn(args, stdin === undefined ? { endpoints } : { endpoints, stdin })

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
  endpoints = cluster.members.map((m) => m.clientUrl).join(',')
}, 120_000)

afterAll(async () => {
  await cluster?.stop()
})

async function waitFor(check: () => boolean, what: string, timeoutMs = 40_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

describe('cairn put/get/del/compaction', () => {
  it('put and get print as etcdctl, and -w json has etcd shapes', async () => {
    expect(await run(['put', 'cli/a', '1'])).toEqual({ code: 0, stdout: 'OK\n', stderr: '' })
    await run(['put', 'cli/b', '2'])
    expect((await run(['put', 'cli/c'], 'from stdin')).stdout).toBe('OK\n')
    const prev = await run(['put', 'cli/a', '11', '--prev-kv'])
    expect(prev.stdout).toBe('OK\ncli/a\n1\n')
    const [simple, json, prefix, valueOnly, keysOnly, missing] = await Promise.all([
      run(['get', 'cli/a']),
      run(['get', 'cli/a', '-w', 'json']),
      run(['get', 'cli/', '--prefix', '--limit', '2', '--order', 'DESCEND', '--sort-by', 'key']),
      run(['get', 'cli/', '--prefix', '--print-value-only']),
      run(['--write-out=simple', 'get', 'cli/a', 'cli/c', '--keys-only']),
      run(['get', 'cli/missing']),
    ])
    expect(simple).toEqual({ code: 0, stdout: 'cli/a\n11\n', stderr: '' })
    const j = JSON.parse(json.stdout) as { header: Record<string, unknown>; kvs: Record<string, unknown>[]; count: number }
    expect(typeof j.header.revision).toBe('number')
    expect(typeof j.header.cluster_id).toBe('number')
    expect(j.count).toBe(1)
    expect(j.kvs[0]).toMatchObject({ key: b64('cli/a'), value: b64('11'), version: 2 })
    expect(typeof j.kvs[0]!.mod_revision).toBe('number')
    expect(prefix.stdout).toBe('cli/c\nfrom stdin\ncli/b\n2\n')
    expect(valueOnly.stdout).toBe('11\n2\nfrom stdin\n')
    expect(keysOnly.stdout).toBe('cli/a\n\ncli/b\n\n')
    expect(missing).toEqual({ code: 0, stdout: '', stderr: '' })
  })

  it('get --rev, --from-key, --consistency s, --hex; del --prefix --prev-kv; compaction', async () => {
    const put = JSON.parse((await run(['put', 'rev/k', 'old', '-w', 'json'])).stdout) as { header: { revision: number } }
    await run(['put', 'rev/k', 'new'])
    const [atRev, fromKey, serial, hex] = await Promise.all([
      run(['get', 'rev/k', '--rev', String(put.header.revision), '--print-value-only']),
      run(['get', 'rev/', '--from-key', '--keys-only', '-w', 'json']),
      run(['get', 'rev/k', '--consistency', 's', '--print-value-only']),
      run(['get', 'rev/k', '--hex']),
    ])
    expect(atRev.stdout).toBe('old\n')
    expect((JSON.parse(fromKey.stdout) as { kvs: { key: string; value?: string }[] }).kvs[0]).toEqual(
      expect.objectContaining({ key: b64('rev/k') }),
    )
    expect(serial.stdout).toBe('new\n')
    expect(hex.stdout).toBe('\\x72\\x65\\x76\\x2f\\x6b\n\\x6e\\x65\\x77\n')
    const del = await run(['del', 'rev/', '--prefix', '--prev-kv', '-w', 'json'])
    const d = JSON.parse(del.stdout) as { deleted: number; prev_kvs: { key: string; value: string }[] }
    expect(d.deleted).toBe(1)
    expect(d.prev_kvs[0]).toMatchObject({ key: b64('rev/k'), value: b64('new') })
    expect((await run(['del', 'rev/none'])).stdout).toBe('0\n')
    const compact = await run(['compaction', String(put.header.revision + 1)])
    expect(compact).toEqual({ code: 0, stdout: `compacted revision ${put.header.revision + 1}\n`, stderr: '' })
    const old = await run(['get', 'rev/k', '--rev', String(put.header.revision)])
    expect(old).toEqual({ code: 1, stdout: '', stderr: 'Error: etcdserver: mvcc: required revision has been compacted\n' })
  })

  it('errors: one line on stderr and etcdctl exit codes', async () => {
    const [noKey, badOrder, table, unreachable, badLease] = await Promise.all([
      run(['get']),
      run(['get', 'x', '--order', 'sideways']),
      run(['get', 'x', '-w', 'table']),
      cairn(['get', 'x', '--command-timeout', '1s'], { endpoints: 'http://127.0.0.1:9' }),
      run(['put', 'x', 'y', '--lease', 'zz']),
    ])
    expect(noKey).toEqual({ code: 128, stdout: '', stderr: 'Error: get command needs one argument as key and an optional argument as range_end\n' })
    expect(badOrder).toEqual({ code: 4, stdout: '', stderr: 'Error: bad sort order sideways\n' })
    expect(table).toEqual({ code: 4, stdout: '', stderr: 'Error: table not supported as output format\n' })
    expect(unreachable).toEqual({ code: 1, stdout: '', stderr: 'Error: context deadline exceeded\n' })
    expect(badLease.code).toBe(128)
    expect(badLease.stderr).toBe('Error: bad lease ID (strconv.ParseInt: parsing "zz": invalid syntax), expecting ID in Hex\n')
  })
})

describe('cairn txn', () => {
  it("reads etcdctl's three blocks from stdin and runs the branch the compares choose", async () => {
    await run(['put', 'tx/k', 'v1'])
    const script = 'value("tx/k") = "v1"\nversion("tx/k") > "0"\n\nput tx/k "v 2"\nget tx/k\n\nget tx/k\n\n'
    const first = await run(['txn'], script)
    expect(first).toEqual({ code: 0, stdout: 'SUCCESS\n\nOK\n\ntx/k\nv 2\n', stderr: '' })
    const second = await run(['txn', '-w', 'json'], script)
    const j = JSON.parse(second.stdout) as { succeeded?: boolean; responses: { Response: { ResponseRange: { kvs: { value: string }[] } } }[] }
    expect(j.succeeded).toBeUndefined()
    expect(j.responses[0]!.Response.ResponseRange.kvs[0]!.value).toBe(b64('v 2'))
    const create = await run(['txn'], 'create("tx/new") = "0"\n\nput tx/new x --prev-kv\ndel tx/k --prev-kv\n\n\n')
    expect(create.stdout).toBe('SUCCESS\n\nOK\n\n1\ntx/k\nv 2\n')
    const bad = await run(['txn'], 'bogus("k") = "1"\n\n\n\n')
    expect(bad).toEqual({ code: 3, stdout: '', stderr: 'Error: malformed comparison: bogus("k") = "1" (unknown target bogus)\n' })
    const interactive = await run(['txn', '-i'], '\nput tx/i 1\n\n\n')
    expect(interactive.stdout).toBe('compares:\nsuccess requests (get, put, del):\nfailure requests (get, put, del):\nSUCCESS\n\nOK\n')
  })
})

describe('cairn watch', () => {
  it('prints events and runs a command per event with ETCD_WATCH_* set; Ctrl-C exits cleanly', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cairn-watch-'))
    const file = join(dir, 'events')
    const from = String(JSON.parse((await run(['get', 'wk', '-w', 'json'])).stdout).header.revision + 1)
    const w = cairnLong(
      ['watch', 'wk', '--prev-kv', '--rev', from, '--', 'sh', '-c', `echo "$ETCD_WATCH_EVENT_TYPE $ETCD_WATCH_KEY $ETCD_WATCH_VALUE $ETCD_WATCH_REVISION" >> ${file}`],
      endpoints,
    )
    const json = cairnLong(['watch', 'wk', '-w', 'json', '--rev', from], endpoints)
    const p1 = JSON.parse((await run(['put', 'wk', 'a b', '-w', 'json'])).stdout) as { header: { revision: number } }
    await run(['put', 'wk', 'c'])
    const d = JSON.parse((await run(['del', 'wk', '-w', 'json'])).stdout) as { header: { revision: number } }
    await waitFor(() => w.output().stdout.split('\n').length >= 12 && json.output().stdout.split('\n').length >= 4, 'watch output')
    await waitFor(() => {
      try {
        return readFileSync(file, 'utf8').split('\n').length >= 4
      } catch {
        return false
      }
    }, 'command output')
    w.child.kill('SIGINT')
    json.child.kill('SIGINT')
    const [done, jdone] = await Promise.all([w.exited, json.exited])
    expect(done.code).toBe(0)
    expect(jdone.code).toBe(0)
    expect(done.stdout).toBe('PUT\nwk\na b\nPUT\nwk\na b\nwk\nc\nDELETE\nwk\nc\nwk\n\n')
    // ETCD_WATCH_REVISION is the response's revision: the event's, or later when a catching-up watch
    // gets several revisions in one response.
    const lines = readFileSync(file, 'utf8').trim().split('\n')
    expect(lines.map((l) => l.replace(/ \d+$/, ''))).toEqual(['"PUT" "wk" "a b"', '"PUT" "wk" "c"', '"DELETE" "wk" ""'])
    const revs = lines.map((l) => Number(/ (\d+)$/.exec(l)![1]))
    expect(revs[0]).toBeGreaterThanOrEqual(p1.header.revision)
    expect(revs[1]).toBeGreaterThanOrEqual(p1.header.revision + 1)
    expect(revs[2]).toBe(d.header.revision)
    const frames = jdone.stdout.trim().split('\n').map((l) => JSON.parse(l) as { Header: { revision: number }; Events: { type?: number; kv: { key: string; mod_revision: number } }[] })
    const events = frames.flatMap((f) => f.Events)
    expect(events.map((e) => e.type ?? 0)).toEqual([0, 0, 1])
    expect(events.map((e) => e.kv.key)).toEqual([b64('wk'), b64('wk'), b64('wk')])
    expect(events[2]!.kv.mod_revision).toBe(d.header.revision)
    expect(frames.at(-1)!.Header.revision).toBe(d.header.revision)
  })

  it('keeps printing, without gap or repeat, when the member it watches through is killed', async () => {
    const leader = await cluster.waitForLeader()
    const victim = (leader + 1) % 3
    const urls = cluster.members.map((m) => m.clientUrl)
    const others = urls.filter((_, i) => i !== victim)
    const writer = new Client({ endpoints: others })
    // From a fixed revision, so a slow start of the process cannot miss the first writes.
    const from = (await writer.get('fo/')).header.revision + 1
    const w = cairnLong(['watch', 'fo/', '--prefix', '--rev', String(from), '--endpoints', [urls[victim]!, ...others].join(',')], endpoints)
    await sleep(1000)
    const total = 40
    for (let i = 0; i < total; i++) {
      await writer.put(`fo/k${i % 3}`, String(i))
      if (i === 15) await cluster.kill(victim)
    }
    await waitFor(() => w.output().stdout.split('\n').length > total * 3, 'all events printed')
    w.child.kill('SIGINT')
    const done = await w.exited
    expect(done.code).toBe(0)
    const values = done.stdout.trim().split('\n').filter((_, i) => i % 3 === 2)
    expect(values).toEqual(Array.from({ length: total }, (_, i) => String(i)))
    cluster.startMember(victim)
    await cluster.waitHealthy(victim)
  })

  it('watch --rev below the compaction ends with etcdctl\'s messages and exit code 5', async () => {
    const r = JSON.parse((await run(['put', 'wc', '1', '-w', 'json'])).stdout) as { header: { revision: number } }
    await run(['put', 'wc', '2'])
    await run(['compaction', String(r.header.revision + 1)])
    const w = await run(['watch', 'wc', '--rev', String(r.header.revision)])
    expect(w.code).toBe(5)
    expect(w.stderr).toBe('watch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server\n')
  })
})

describe('cairn lease', () => {
  it('grant, timetolive --keys, list, keep-alive --once, revoke; simple and json', async () => {
    const g = await run(['lease', 'grant', '60'])
    const m = /^lease ([0-9a-f]{16}) granted with TTL\(60s\)\n$/.exec(g.stdout)
    expect(m).not.toBeNull()
    const id = m![1]!
    await run(['put', 'lk', 'v', '--lease', id])
    const [ttl, ttlJson, list, listJson, once] = await Promise.all([
      run(['lease', 'timetolive', id, '--keys']),
      run(['lease', 'timetolive', id, '--keys', '-w', 'json']),
      run(['lease', 'list']),
      run(['lease', 'list', '-w', 'json']),
      run(['lease', 'keep-alive', '--once', id, '-w', 'json']),
    ])
    expect(ttl.stdout).toMatch(new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\(\\d+s\\), attached keys\\(\\[lk\\]\\)\\n$`))
    const t = JSON.parse(ttlJson.stdout) as { id: number; ttl: number; 'granted-ttl': number; keys: string[] }
    expect(t.id).toBe(Number.parseInt(id, 16))
    expect(t['granted-ttl']).toBe(60)
    expect(t.keys).toEqual([b64('lk')])
    expect(list.stdout).toContain(`\n${id}\n`)
    expect(list.stdout).toMatch(/^found \d+ leases\n/)
    expect((JSON.parse(listJson.stdout) as { leases: { id: number }[] }).leases).toContainEqual({ id: Number.parseInt(id, 16) })
    expect(JSON.parse(once.stdout)).toMatchObject({ ID: Number.parseInt(id, 16), TTL: 60 })
    expect(await run(['lease', 'revoke', id])).toEqual({ code: 0, stdout: `lease ${id} revoked\n`, stderr: '' })
    expect((await run(['lease', 'timetolive', id])).stdout).toBe(`lease ${id} already expired\n`)
    expect((await run(['get', 'lk'])).stdout).toBe('')
    const again = await run(['lease', 'revoke', id])
    expect(again).toEqual({ code: 1, stdout: '', stderr: 'Error: failed to revoke lease (etcdserver: requested lease not found)\n' })
  })

  it('keep-alive prints each refresh and ends when the lease is revoked', async () => {
    const id = /lease ([0-9a-f]+)/.exec((await run(['lease', 'grant', '3'])).stdout)![1]!
    const ka = cairnLong(['lease', 'keep-alive', id], endpoints)
    await waitFor(() => ka.output().stdout.includes('keepalived'), 'a refresh')
    await run(['lease', 'revoke', id])
    const done = await ka.exited
    expect(done.code).toBe(0)
    expect(done.stdout).toMatch(new RegExp(`^(lease ${id} keepalived with TTL\\(3\\)\\n)+lease ${id} expired or revoked\\.\\n$`))
  })
})

describe('cairn member and endpoint', () => {
  it('member list in simple, json and table; membership changes reach the API', async () => {
    const [simple, json, table] = await Promise.all([run(['member', 'list']), run(['member', 'list', '-w', 'json']), run(['member', 'list', '-w', 'table'])])
    const rows = simple.stdout.trim().split('\n').map((l) => l.split(', '))
    expect(rows.map((r) => r[2]).sort()).toEqual(['m1', 'm2', 'm3'])
    expect(rows.every((r) => r[1] === 'started' && r[5] === 'false')).toBe(true)
    const j = JSON.parse(json.stdout) as { members: { ID: number; name: string; clientURLs: string[] }[] }
    expect(j.members.map((x) => x.clientURLs[0]).sort()).toEqual(endpoints.split(',').sort())
    expect(j.members.every((x) => typeof x.ID === 'number')).toBe(true)
    expect(table.stdout.split('\n')[1]).toMatch(/^\| +ID +\| +STATUS +\| +NAME +\| +PEER ADDRS +\| +CLIENT ADDRS +\| +IS LEARNER +\|$/)
    const add = await run(['member', 'add', 'm4', '--peer-urls', 'http://127.0.0.1:1', '--learner'])
    if (add.code === 0) {
      const addedId = /Member +([0-9a-f]+) added/.exec(add.stdout)![1]!
      expect((await run(['member', 'remove', addedId])).code).toBe(0)
    } else {
      expect(add.stderr).toBe('Error: the server does not implement /v3/cluster/member/add\n')
    }
    expect((await run(['member', 'remove'])).code).toBe(128)
  })

  it('endpoint health and status, with --cluster, in every format', async () => {
    const first = endpoints.split(',')[0]!
    // Health checks one after the other, as the CLI itself does (concurrent reads on different members
    // used to collide in the server's ReadIndex contexts, fixed in 671e57f).
    const health = await cairn(['endpoint', 'health'], { endpoints: first })
    const healthJson = await run(['endpoint', 'health', '--cluster', '-w', 'json'])
    const [status, statusJson, statusTable] = await Promise.all([
      run(['endpoint', 'status']),
      cairn(['endpoint', 'status', '--cluster', '-w', 'json'], { endpoints: first }),
      run(['endpoint', 'status', '-w', 'table']),
    ])
    expect(health.code).toBe(0)
    expect(health.stderr).toMatch(new RegExp(`^${first} is healthy: successfully committed proposal: took = [0-9.]+(µs|ms|s)\\n$`))
    const hj = JSON.parse(healthJson.stdout) as { endpoint: string; health: boolean }[]
    expect(hj.map((h) => h.endpoint).sort()).toEqual(endpoints.split(',').sort())
    expect(hj.filter((h) => !h.health), healthJson.stdout).toEqual([])
    const rows = status.stdout.trim().split('\n').map((l) => l.split(', '))
    expect(rows.map((r) => r[0])).toEqual(endpoints.split(','))
    expect(rows.filter((r) => r[4] === 'true')).toHaveLength(1)
    const sj = JSON.parse(statusJson.stdout) as { Endpoint: string; Status: { leader: number; header: { member_id: number } } }[]
    expect(sj).toHaveLength(3)
    expect(sj.filter((s) => s.Status.leader === s.Status.header.member_id)).toHaveLength(1)
    expect(statusTable.stdout).toContain('RAFT APPLIED INDEX')
    const down = await cairn(['endpoint', 'health', '--command-timeout', '1s'], { endpoints: `${first},http://127.0.0.1:9` })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain('http://127.0.0.1:9 is unhealthy: failed to commit proposal: context deadline exceeded\n')
    expect(down.stderr.endsWith('Error: unhealthy cluster\n')).toBe(true)
  })

  it('every command has --help', async () => {
    const verbs = [['put'], ['get'], ['del'], ['txn'], ['compaction'], ['watch'], ['lease', 'grant'], ['lease', 'keep-alive'], ['member', 'add'], ['endpoint', 'status']]
    const results = await Promise.all(verbs.map((v) => cairn([...v, '--help'])))
    for (const [i, r] of results.entries()) {
      expect(r.code, verbs[i]!.join(' ')).toBe(0)
      expect(r.stdout).toContain(`Usage: cairn ${verbs[i]!.join(' ')}`)
    }
  })
})
