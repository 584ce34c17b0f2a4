// The v2 API checked with the real client against the real server: the same etcdctl (v2 mode)
// commands run against a 3-member Cairn cluster and against a single etcd 3.4 with --enable-v2,
// and every output, error line and exit code must match once indexes, IDs, names, URLs and times
// are masked. The same is done for raw HTTP requests (statuses, headers, bodies), including
// malformed ones. Skipped (with the reason) when etcd or etcdctl is not installed.
//
// Key commands go to one follower with --no-sync: a follower answers a write after applying it, so
// the next command reads its own writes there (v2 GETs are local reads, in etcd as in Cairn).

import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { post, sleep, TestCluster } from '../cluster/harness.ts'
import { normalizeCtl, normalizeJson } from './compare.ts'
import { Background, etcdctl, etcdMissing, RealEtcd } from './etcd.ts'
import type { Output } from './etcd.ts'

const missing = etcdMissing()

interface Target {
  name: string
  /** One member (for Cairn a follower): key commands. */
  endpoint: string
  /** Every member: cluster commands. */
  all: string
  vars: Map<string, string>
}

interface Step {
  label: string
  run: (t: Target) => Promise<Output>
  /** Output lines in no particular order (etcd lists unsorted directories in map order). */
  unordered?: boolean
}

const substitute = (t: Target, arg: string) => arg.replace(/\{(\w+)\}/g, (_m, v: string) => t.vars.get(v) ?? `{${v}}`)

/** An etcdctl command (words split on spaces; `{var}` from earlier captures); `capture` reads its output. */
function ctl(line: string | string[], capture?: (out: Output, t: Target) => void, unordered = false): Step {
  const words = typeof line === 'string' ? line.split(' ') : line
  return {
    label: words.join(' '),
    unordered,
    run: async (t) => {
      const out = await etcdctl(t.endpoint, ['--no-sync', ...words.map((w) => substitute(t, w))])
      capture?.(out, t)
      return out
    },
  }
}

/**
 * From `-o extended` output's store index N: `name` = N - 1 (so `watch --after-index {name}` gets
 * the event at N: etcdctl asks for waitIndex = after-index + 1) and `nameNext` = N (the next event).
 */
const rememberIndex = (name: string) => (out: Output, t: Target) => {
  const m = /^Index: (\d+)$/m.exec(out.stdout)
  if (m) {
    t.vars.set(name, String(Number(m[1]) - 1))
    t.vars.set(`${name}Next`, m[1]!)
  }
}

const rememberModified = (name: string) => (out: Output, t: Target) => {
  const m = /"modifiedIndex":(\d+)/.exec(out.stdout)
  if (m) t.vars.set(name, m[1]!)
}

/** A long-running etcdctl started, fed by `then` commands, read until `lines` lines. */
function background(line: string[], then: string[], lines: number): Step {
  return {
    label: `${line.join(' ')} ⟵ ${then.join('; ')}`,
    run: async (t) => {
      const bg = new Background(t.endpoint, ['--no-sync', ...line.map((w) => substitute(t, w))])
      await sleep(400)
      for (const command of then) await etcdctl(t.endpoint, ['--no-sync', ...command.split(' ')])
      return bg.collect(lines)
    },
  }
}

const pause = (ms: number): Step => ({ label: `sleep ${ms} ms`, run: async () => (await sleep(ms), { code: 0, stdout: '', stderr: '' }) })

const echoWatch = ['sh', '-c', 'echo "$ETCD_WATCH_ACTION $ETCD_WATCH_KEY $ETCD_WATCH_VALUE"']

const script: Step[] = [
  // set / get in every output format
  ctl('set /dir/a v1'),
  ctl('-o json set /dir/a v2'),
  ctl('-o extended set /dir/a v3'),
  ctl('get /dir/a'),
  ctl('-o json get /dir/a'),
  ctl('-o extended get /dir/a'),
  ctl('get /nope'),
  ctl('-o json get /nope'),
  ctl('get /dir'),
  // mk and its failure on an existing key
  ctl('mk /dir/b vb'),
  ctl('mk /dir/b again'),
  ctl('-o json mk /dir/b again'),
  ctl('-o extended mk /dir/c vc'),
  // directories
  ctl('mkdir /d1'),
  ctl('mkdir /d1'),
  ctl('-o json mkdir /d3'),
  ctl('setdir /d2'),
  ctl('setdir /d1'),
  ctl('set /dir/f v'),
  ctl('setdir /dir/f'),
  ctl('mkdir /dir/f/sub'),
  ctl('ls /dir/f'),
  // listings
  ctl('ls', undefined, true),
  ctl('ls --sort'),
  ctl('ls --recursive --sort'),
  ctl('ls --recursive --sort -p'),
  ctl('ls -p /dir', undefined, true),
  ctl('-o json ls --sort /dir'),
  ctl('-o extended ls --sort /dir'),
  ctl('ls /nonexist'),
  ctl('ls /dir/a'),
  ctl('-o json ls /dir/a'),
  // update / updatedir
  ctl('update /dir/a v4'),
  ctl('update /nope x'),
  ctl('-o extended update /dir/a v5'),
  ctl('updatedir /d2 --ttl 100'),
  ctl('updatedir /nope'),
  ctl('updatedir /dir/c'),
  ctl('-o json updatedir /d3'),
  // compare-and-swap
  ctl('set --swap-with-value vzz /dir/b vx'),
  ctl('-o json set --swap-with-value vb /dir/b v6', rememberModified('b')),
  ctl('set --swap-with-index 1 /dir/b v7'),
  ctl('set --swap-with-index {b} /dir/b v8'),
  ctl('set --swap-with-value vb --swap-with-index 1 /dir/b v9'),
  ctl('set --swap-with-value vb /nope v'),
  // rm and its variants
  ctl('rm --with-value vzz /dir/b'),
  ctl('-o extended get /dir/b', (out, t) => {
    const m = /^Modified-Index: (\d+)$/m.exec(out.stdout)
    if (m) t.vars.set('b2', m[1]!)
  }),
  ctl('rm --with-index 1 /dir/b'),
  ctl('rm --with-index {b2} /dir/b'),
  ctl('-o json mk /dir/e ve'),
  ctl('-o json rm --with-value ve /dir/e'),
  ctl('rm /d1'),
  ctl('rm --dir /d1'),
  ctl('rmdir /d2'),
  ctl('rmdir /dir'),
  ctl('rmdir /dir/c'),
  ctl('rm /nope'),
  ctl('rm --dir /nope'),
  ctl('-o json rm --recursive /dir'),
  ctl('get /dir/a'),
  ctl('rm --recursive /d3'),
  // TTLs and expiry
  ctl('set --ttl 1 /ttl/k v'),
  ctl('-o json set --ttl 5 /ttl/j v'),
  ctl('-o extended set --ttl 30 /ttl/x v'),
  ctl('-o json mkdir --ttl 1 /ttl/dir'),
  ctl('set /ttl/dir/inner v'),
  pause(3000),
  ctl('get /ttl/k'),
  ctl('get /ttl/dir/inner'),
  ctl('ls --sort /ttl'),
  // watches
  ctl('-o extended set /w/a 1', rememberIndex('w')),
  ctl('watch --after-index {w} /w/a'),
  ctl('-o json watch --after-index {w} /w/a'),
  ctl('-o extended watch --after-index {w} /w/a'),
  ctl('-o extended watch --recursive --after-index {w} /w'),
  ctl('-o extended get /w/a', rememberIndex('live')),
  background(['watch', '--after-index', '{liveNext}', '/w/a'], ['set /w/a 2'], 1),
  ctl('-o extended get /w/a', rememberIndex('forever')),
  background(['watch', '--forever', '--after-index', '{foreverNext}', '/w/a'], ['set /w/a 3', 'set /w/a 4'], 2),
  ctl('-o extended get /w/a', rememberIndex('rec')),
  background(['-o', 'extended', 'watch', '--recursive', '--after-index', '{recNext}', '/w'], ['set /w/_hidden h', 'set /w/sub/x 5'], 8),
  ctl('-o extended get /w/a', rememberIndex('exec')),
  // (etcdctl's exec-watch finds its key and command only with `--after-index=N` written first.)
  background(['exec-watch', '--after-index={execNext}', '--recursive', '/w', '--', ...echoWatch], ['set /w/b x', 'rm /w/b', 'mkdir /w/dir', 'set --ttl 1 /w/t tv'], 4),
]

async function runScript(t: Target): Promise<{ step: string; code: number | null; stdout: string; stderr: string }[]> {
  const out = []
  for (const step of script) {
    const r = await step.run(t)
    let stdout = normalizeCtl(r.stdout)
    if (step.unordered) stdout = stdout.split('\n').filter((l) => l !== '').sort().join('\n')
    out.push({ step: step.label, code: r.code, stdout, stderr: normalizeCtl(r.stderr) })
  }
  return out
}

// ---- raw HTTP ----

interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function http(base: string, method: string, pathAndQuery: string, form?: string, contentType = 'application/x-www-form-urlencoded'): Promise<HttpAnswer> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, method, path: pathAndQuery, headers: form === undefined ? {} : { 'content-type': contentType } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (body += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
      },
    )
    req.on('error', reject)
    req.end(form)
  })
}

/** What must match in an HTTP answer: status, body (JSON normalized) and which etcd headers are set. */
function shape(a: HttpAnswer): unknown {
  let body: unknown = a.body
  try {
    body = normalizeJson(JSON.parse(a.body))
  } catch {
    // /v2/machines lists every member's client URL: one for etcd, three for Cairn.
    body = a.body.replace(/http:\/\/127\.0\.0\.1:\d+/g, '<url>').replace(/<url>(, <url>)*/g, '<urls>')
  }
  // Go's JSON syntax errors name the offending byte; the status and shape must match, not the text.
  if (a.status === 400 && typeof body === 'object' && body !== null && 'message' in body && /^(invalid character|unexpected end of JSON)/.test(String(body.message))) {
    body = { message: '<json syntax error>' }
  }
  // Counters legitimately differ (etcd also counts its own internal reads); their names must not.
  if (typeof body === 'object' && body !== null && 'getsSuccess' in body) body = Object.keys(body)
  const present = ['x-etcd-index', 'x-raft-index', 'x-raft-term', 'x-etcd-cluster-id', 'location', 'allow'].filter((h) => a.headers[h] !== undefined)
  return { status: a.status, contentType: a.headers['content-type'], present, location: a.headers.location, allow: a.headers.allow, body }
}

type HttpCase = [method: string, pathAndQuery: string, form?: string]

const httpCases: HttpCase[] = [
  ['PUT', '/v2/keys/h/foo', 'value=bar'],
  ['PUT', '/v2/keys/h/foo?prevExist=false', 'value=bar'],
  ['GET', '/v2/keys/h/foo'],
  ['HEAD', '/v2/keys/h/foo'],
  ['GET', '/v2/keys/h'],
  ['GET', '/v2/keys/h/nx/y/z'],
  ['GET', '/v2/keys/h/foo/y/z'],
  ['PUT', '/v2/keys/h/foo/y', 'value=1'],
  ['POST', '/v2/keys/h/foo', 'value=1'],
  ['PUT', '/v2/keys/', 'value=x'],
  ['DELETE', '/v2/keys/'],
  ['DELETE', '/v2/keys/?prevValue=x'],
  ['PUT', '/v2/keys/?prevValue=x'],
  ['PUT', '/v2/keys/h/t?ttl=abc', 'value=1'],
  ['PUT', '/v2/keys/h/t?ttl=-1', 'value=1'],
  ['PUT', '/v2/keys/h/t?prevIndex=abc', 'value=1'],
  ['PUT', '/v2/keys/h/t?prevValue=', 'value=1'],
  ['GET', '/v2/keys/h?recursive=bad'],
  ['GET', '/v2/keys/h?sorted=x'],
  ['GET', '/v2/keys/h?quorum=x'],
  ['GET', '/v2/keys/h?wait=bad'],
  ['GET', '/v2/keys/h?wait=true&waitIndex=bad'],
  ['PUT', '/v2/keys/h/t?wait=true', 'value=1'],
  ['PUT', '/v2/keys/h/t?prevExist=x', 'value=1'],
  ['PUT', '/v2/keys/h/t?dir=x', 'value=1'],
  ['PUT', '/v2/keys/h/t?refresh=true', 'value=1'],
  ['PUT', '/v2/keys/h/t?refresh=true'],
  ['PUT', '/v2/keys/h/t?refresh=x'],
  ['PUT', '/v2/keys/h/t?noValueOnSuccess=x', 'value=1'],
  ['GET', '/v2/keys/h?a;b=1'],
  ['GET', '/v2/keys/h?a=%zz'],
  ['PUT', '/v2/keys/h/t', 'value=%zz'],
  ['PUT', '/v2/keys/h/t?value=q', 'value=from-body'],
  ['PUT', '/v2/keys/h/t?value=from-query'],
  ['PUT', '/v2/keys/h/t?noValueOnSuccess=true', 'value=1'],
  ['PUT', '/v2/keys/h/u', 'value=a&value=b'],
  ['PUT', '/v2/keys/h/sp', 'value=a+b%20c%2Bd'],
  ['GET', '/v2/keys/h/sp'],
  ['PUT', '/v2/keys/h/t?refresh=true&ttl=5'],
  ['PUT', '/v2/keys/h/t?refresh=true&ttl=5&prevExist=true'],
  ['PUT', '/v2/keys/h/t?ttl=&prevExist=true', 'value=2'],
  ['PUT', '/v2/keys/h/t?prevValue=2&prevIndex=1', 'value=3'],
  ['PUT', '/v2/keys/h/t?prevValue=2', 'value=3'],
  ['PUT', '/v2/keys/h/t?prevExist=true&prevValue=3', 'value=4'],
  ['PUT', '/v2/keys/h/d?dir=true', 'value=ignored'],
  ['PUT', '/v2/keys/h/d?dir=true'],
  ['PUT', '/v2/keys/h/d?prevExist=true&dir=true&ttl=100'],
  ['PUT', '/v2/keys/h/d?prevExist=true', 'value=x'],
  ['DELETE', '/v2/keys/h/d?prevValue=x'],
  ['DELETE', '/v2/keys/h/d'],
  ['DELETE', '/v2/keys/h/d?recursive=true&dir=false'],
  ['POST', '/v2/keys/h/q', 'value=j1'],
  ['POST', '/v2/keys/h/q?dir=true'],
  ['PUT', '/v2/keys/h/q/_hidden', 'value=h'],
  ['GET', '/v2/keys/h/q?sorted=true'],
  ['GET', '/v2/keys/h/q/_hidden'],
  ['GET', '/v2/keys/h?recursive=true&sorted=true'],
  ['DELETE', '/v2/keys/h/t?prevIndex=1'],
  ['DELETE', '/v2/keys/h/t?prevValue=4'],
  ['DELETE', '/v2/keys/h/q?dir=true'],
  ['PATCH', '/v2/keys/h/q'],
  ['GET', '/v2/keys/h//q?x=1'],
  ['GET', '/v2/keys?sorted=true'],
  ['GET', '/v2/members/nope'],
  ['PATCH', '/v2/members'],
  ['DELETE', '/v2/members/zz'],
  ['DELETE', '/v2/members/'],
  ['POST', '/v2/members', 'not json'],
  ['POST', '/v2/members', '{"peerURLs":"nope"}'],
  ['POST', '/v2/members', '{"peerURLs":[1]}'],
  ['PUT', '/v2/members/1234', '{"peerURLs":["http://127.0.0.1:1"]}'],
  ['GET', '/v2/machines'],
  ['POST', '/v2/machines'],
  ['GET', '/v2/stats/store'],
  ['PUT', '/v2/stats/self'],
]

let cluster: TestCluster
let etcd: RealEtcd | undefined
let cairn: Target
let reference: Target

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  if (missing === undefined) etcd = await RealEtcd.start()
  for (let i = 0; i < 3; i++) await cluster.waitHealthy(i)
  const leader = await cluster.waitForLeader()
  const follower = cluster.members[(leader + 1) % 3]!
  cairn = { name: 'cairn', endpoint: follower.clientUrl, all: cluster.members.map((m) => m.clientUrl).join(','), vars: new Map() }
  if (etcd) reference = { name: 'etcd', endpoint: etcd.clientUrl, all: etcd.clientUrl, vars: new Map() }
}, 60_000)

afterAll(async () => {
  await Promise.all([cluster?.stop(), etcd?.stop()])
})

describe.skipIf(missing !== undefined)(`etcdctl v2 and the v2 HTTP API: Cairn (3 members) against etcd 3.4${missing ? ` — skipped: ${missing}` : ''}`, () => {
  it('prints what etcd prints for every etcdctl v2 key command', async () => {
    const [expected, actual] = await Promise.all([runScript(reference), runScript(cairn)])
    expect(actual).toEqual(expected)
  }, 120_000)

  it('lists members and checks cluster health as etcd does', async () => {
    const [ref, ours] = await Promise.all([etcdctl(reference.all, ['member', 'list']), etcdctl(cairn.all, ['member', 'list'])])
    expect(ours.code).toBe(0)
    const lines = ours.stdout.trim().split('\n')
    expect(lines).toHaveLength(3)
    expect(lines.filter((l) => l.endsWith('isLeader=true'))).toHaveLength(1)
    const shapeOf = (s: string) => [...new Set(normalizeCtl(s).replace(/isLeader=(true|false)/g, 'isLeader=<bool>').trim().split('\n'))]
    expect(shapeOf(ours.stdout)).toEqual(shapeOf(ref.stdout))
    const [refHealth, ourHealth] = await Promise.all([etcdctl(reference.all, ['cluster-health']), etcdctl(cairn.all, ['cluster-health'])])
    expect(ourHealth.code).toBe(refHealth.code)
    expect(ourHealth.stdout.trim().split('\n')).toHaveLength(4)
    const dedupe = (s: string) => [...new Set(normalizeCtl(s).trim().split('\n'))]
    expect(dedupe(ourHealth.stdout)).toEqual(dedupe(refHealth.stdout))
    // -o json and -o extended do not change these commands' output
    const ourJson = await etcdctl(cairn.all, ['-o', 'json', 'member', 'list'])
    const refJson = await etcdctl(reference.all, ['-o', 'json', 'member', 'list'])
    expect(shapeOf(ourJson.stdout)).toEqual(shapeOf(refJson.stdout))
  }, 60_000)

  it('answers raw HTTP requests, malformed ones included, with etcd statuses, headers and bodies', async () => {
    const run = async (base: string) => {
      const out = []
      for (const [method, path, form] of httpCases) {
        const contentType = path.startsWith('/v2/members') ? 'application/json' : undefined
        out.push({ request: `${method} ${path} ${form ?? ''}`, ...(shape(await http(base, method, path, form, contentType)) as object) })
      }
      return out
    }
    const [expected, actual] = await Promise.all([run(reference.endpoint), run(cairn.endpoint)])
    expect(actual).toEqual(expected)
  }, 60_000)

  it('answers waits: from history at once, live when the event comes, and 401 below the compaction', async () => {
    const run = async (base: string) => {
      const set = await http(base, 'PUT', '/v2/keys/hw/a', 'value=1')
      const index = Number(set.headers['x-etcd-index'])
      const history = await http(base, 'GET', `/v2/keys/hw/a?wait=true&waitIndex=${index}`)
      const live = http(base, 'GET', `/v2/keys/hw?wait=true&recursive=true&waitIndex=${index + 1}`)
      await sleep(300)
      await http(base, 'PUT', '/v2/keys/hw/_h', 'value=hidden')
      await http(base, 'DELETE', '/v2/keys/hw/a')
      // A watcher below a directory that is deleted is told of the deletion.
      await http(base, 'PUT', '/v2/keys/hw/sub/x', 'value=1')
      const below = http(base, 'GET', '/v2/keys/hw/sub/x?wait=true')
      await sleep(300)
      await http(base, 'DELETE', '/v2/keys/hw?recursive=true')
      return [shape(history), shape(await live), shape(await below)]
    }
    const [expected, actual] = await Promise.all([run(reference.endpoint), run(cairn.endpoint)])
    expect(actual).toEqual(expected)
    // Cairn keeps history back to the last compaction; below it, etcd's error 401.
    const revision = Number((await http(cairn.endpoint, 'GET', '/v2/keys/')).headers['x-etcd-index'])
    const compacted = await post(cairn.endpoint, '/v3/kv/compaction', { revision: String(revision), physical: true })
    expect(compacted.status).toBe(200)
    const cleared = await http(cairn.endpoint, 'GET', '/v2/keys/hw?wait=true&waitIndex=2')
    expect(cleared.status).toBe(400)
    expect(JSON.parse(cleared.body)).toEqual({
      errorCode: 401,
      message: 'The event in requested index is outdated and cleared',
      cause: `the requested history has been cleared [${revision}/2]`,
      index: revision,
    })
  }, 60_000)
})

// ---- Cairn only: what a single etcd cannot show ----

async function v2(base: string, method: string, path: string, form?: string): Promise<{ status: number; body: Record<string, unknown>; index: number }> {
  const a = await http(base, method, path, form)
  return { status: a.status, body: JSON.parse(a.body) as Record<string, unknown>, index: Number(a.headers['x-etcd-index']) }
}

describe('v2 on a 3-member Cairn cluster', () => {
  it('keeps compare-and-swap atomic and in-order keys ordered with writers on every member', async () => {
    const urls = cluster.members.map((m) => m.clientUrl)
    await v2(urls[0]!, 'PUT', '/v2/keys/cluster/ctr?quorum=true', 'value=0')
    const increment = async (base: string) => {
      for (let i = 0; i < 4; i++) {
        for (;;) {
          const got = await v2(base, 'GET', '/v2/keys/cluster/ctr?quorum=true')
          const node = got.body.node as { value: string; modifiedIndex: number }
          const swapped = await v2(base, 'PUT', `/v2/keys/cluster/ctr?prevIndex=${node.modifiedIndex}`, `value=${Number(node.value) + 1}`)
          if (swapped.status === 200) break
          expect(swapped.status).toBe(412)
        }
      }
    }
    const posts = (base: string) => Promise.all(Array.from({ length: 15 }, (_, i) => v2(base, 'POST', '/v2/keys/cluster/queue', `value=${i}`)))
    const [, posted] = await Promise.all([Promise.all(urls.map(increment)), Promise.all(urls.map(posts))])
    expect(((await v2(urls[1]!, 'GET', '/v2/keys/cluster/ctr?quorum=true')).body.node as { value: string }).value).toBe('12')
    expect(posted.flat().every((p) => p.status === 201)).toBe(true)
    const listing = await v2(urls[2]!, 'GET', '/v2/keys/cluster/queue?quorum=true&sorted=true')
    const nodes = (listing.body.node as { nodes: { key: string; createdIndex: number }[] }).nodes
    expect(nodes).toHaveLength(45)
    expect([...nodes].sort((a, b) => a.createdIndex - b.createdIndex).map((n) => n.key)).toEqual(nodes.map((n) => n.key))
  }, 60_000)

  it('expires a TTL when the leader that saw it set is killed, and the expire event is in history', async () => {
    const leader = await cluster.waitForLeader()
    const survivor = cluster.members[(leader + 1) % 3]!.clientUrl
    const set = await v2(survivor, 'PUT', '/v2/keys/cluster/ttl?ttl=2', 'value=v')
    expect(set.status).toBe(201)
    await cluster.kill(leader)
    await cluster.waitForLeader(15_000, leader)
    await sleep(3500)
    const gone = await v2(survivor, 'GET', '/v2/keys/cluster/ttl?quorum=true')
    expect(gone.body).toMatchObject({ errorCode: 100, cause: '/cluster/ttl' })
    const event = await v2(survivor, 'GET', `/v2/keys/cluster/ttl?wait=true&waitIndex=${set.index + 1}`)
    expect(event.body).toMatchObject({ action: 'expire', node: { key: '/cluster/ttl', createdIndex: set.index }, prevNode: { value: 'v' } })
  }, 60_000)
})
