// cairn confd against a real 3-member cluster (`cairn serve` processes): watch mode re-renders and
// reloads once per quiet burst, reflects removed keys, keeps the old file when check_cmd fails,
// follows template changes without a restart, and resumes after the member it talks to is killed
// without missing a change; --interval polls; `cairn confd --onetime` exits non-zero on a failure.

import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { systemClock } from '../../agents/confd/clock.ts'
import { Confd } from '../../agents/confd/daemon.ts'
import type { ConfdConfig, Logger } from '../../agents/confd/daemon.ts'
import { processDeps } from '../../agents/confd/render.ts'
import { Client } from '../../core/client/index.ts'
import { sleep, TestCluster } from '../cluster/harness.ts'

const ROOT = new URL('../..', import.meta.url).pathname

let cluster: TestCluster
let writer: Client
const dirs: string[] = []

beforeAll(async () => {
  cluster = await TestCluster.start({ size: 3 })
  writer = new Client({ endpoints: cluster.members.map((m) => m.clientUrl) })
}, 60_000)

afterAll(async () => {
  writer?.close()
  await cluster?.stop()
  for (const d of dirs) rmSync(d, { recursive: true, force: true })
})

interface LogEntry {
  level: string
  msg: string
  [k: string]: unknown
}

function memoryLog(): { entries: LogEntry[]; log: Logger } {
  const entries: LogEntry[] = []
  const at = (level: string) => (obj: object, msg?: string): void => {
    entries.push({ ...(obj as Record<string, unknown>), level, msg: msg ?? '' })
  }
  return { entries, log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

/** A confdir with one resource writing `out/<name>` and appending a line to `out/<name>.reloads` per reload. */
function confdir(name: string, toml: string, template: string): { dir: string; dest: string; reloads: () => number } {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-confd-'))
  dirs.push(dir)
  mkdirSync(join(dir, 'conf.d'))
  mkdirSync(join(dir, 'templates'))
  mkdirSync(join(dir, 'out'))
  const dest = join(dir, 'out', name)
  const reloadFile = `${dest}.reloads`
  writeFileSync(join(dir, 'conf.d', `${name}.toml`), `[template]\nsrc = "${name}.tmpl"\ndest = "${dest}"\nreload_cmd = "echo reload >> ${reloadFile}"\n${toml}\n`)
  writeFileSync(join(dir, 'templates', `${name}.tmpl`), template)
  const reloads = (): number => (existsSync(reloadFile) ? readFileSync(reloadFile, 'utf8').split('\n').filter(Boolean).length : 0)
  return { dir, dest, reloads }
}

function config(dir: string, over: Partial<ConfdConfig> = {}): ConfdConfig {
  return { confdir: dir, prefix: undefined, noop: false, syncOnly: false, keepStageFile: false, wait: { minMs: 0, maxMs: 0 }, callTimeoutMs: 5000, ...over }
}

function startWatch(cfg: ConfdConfig, endpoints: string[] = cluster.members.map((m) => m.clientUrl)) {
  const { entries, log } = memoryLog()
  const client = new Client({ endpoints, callTimeoutMs: 5000 })
  const confd = new Confd(cfg, client, log, processDeps(systemClock))
  const stop = new AbortController()
  const done = confd.runWatch(stop.signal)
  return {
    entries,
    client,
    updates: () => entries.filter((e) => e.msg.endsWith('has been updated')).length,
    async stop() {
      stop.abort()
      await done
      client.close()
    },
  }
}

const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8') : '')

async function waitFor(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(25)
  }
}

const NGINX = `upstream app {
{{- range gets "/app/upstream/*"}}
    server {{.Value}}; # {{base .Key}}
{{- end}}
}
workers {{getv "/nginx/workers" "1"}}
`

describe('cairn confd --watch on a cluster', () => {
  it('re-renders on change and reloads once per quiet burst; removed keys are reflected', async () => {
    await writer.put('/t1/app/upstream/a', '10.0.0.1:80')
    await writer.put('/t1/app/upstream/b', '10.0.0.2:80')
    const c = confdir('nginx.conf', 'prefix = "/t1"\nkeys = ["/app/upstream", "/nginx"]', NGINX)
    const d = startWatch(config(c.dir, { wait: { minMs: 400, maxMs: 5000 } }))
    try {
      await waitFor('the first render', () => c.reloads() === 1)
      expect(read(c.dest)).toBe('upstream app {\n    server 10.0.0.1:80; # a\n    server 10.0.0.2:80; # b\n}\nworkers 1\n')

      // A burst: several writes well inside the quiet window.
      await writer.put('/t1/app/upstream/c', '10.0.0.3:80')
      await writer.put('/t1/app/upstream/d', '10.0.0.4:80')
      await writer.delete('/t1/app/upstream/a')
      await writer.put('/t1/nginx/workers', '4')
      await writer.put('/t1/app/upstreamx/ignored', 'x') // not under /app/upstream as a path
      await waitFor('the burst to render', () => c.reloads() === 2 && d.updates() === 2)
      expect(read(c.dest)).toBe('upstream app {\n    server 10.0.0.2:80; # b\n    server 10.0.0.3:80; # c\n    server 10.0.0.4:80; # d\n}\nworkers 4\n')
      await sleep(1000) // longer than the window: no second render of the same burst
      expect(c.reloads()).toBe(2)
      const burst = d.entries.filter((e) => e.msg.endsWith('has been updated'))[1]!
      expect(burst.keys).toEqual({ added: ['/t1/app/upstream/c', '/t1/app/upstream/d', '/t1/nginx/workers'], removed: ['/t1/app/upstream/a'], modified: [] })

      // The next burst is rendered on its own.
      await writer.delete('/t1/app/upstream/', { prefix: true })
      await waitFor('the second burst', () => c.reloads() === 3)
      expect(read(c.dest)).toBe('upstream app {\n}\nworkers 4\n')
      await waitFor('the log of the second burst', () => d.updates() === 3)
    } finally {
      await d.stop()
    }
  }, 40_000)

  it('a failing check_cmd leaves the old file; the next good change is installed', async () => {
    await writer.put('/t2/motd', 'hello')
    const c = confdir('motd', 'prefix = "/t2"\nkeys = ["/motd"]\ncheck_cmd = "! grep -q BAD {{.src}}"', 'message: {{getv "/motd"}}\n')
    const d = startWatch(config(c.dir))
    try {
      await waitFor('the first render', () => c.reloads() === 1)
      await writer.put('/t2/motd', 'BAD news')
      await waitFor('the failed check', () => d.entries.some((e) => e.level === 'error' && String(e.err).startsWith('Config check failed')))
      expect(read(c.dest)).toBe('message: hello\n')
      expect(c.reloads()).toBe(1)
      expect(readdirSync(join(c.dir, 'out')).filter((f) => f.startsWith('.'))).toEqual([])
      await writer.put('/t2/motd', 'good news')
      await waitFor('the fixed value and its reload', () => read(c.dest) === 'message: good news\n' && c.reloads() === 2)
    } finally {
      await d.stop()
    }
  }, 30_000)

  it('a template error names template, line and key, and a later change recovers', async () => {
    const c = confdir('app.conf', 'prefix = "/t3"\nkeys = ["/"]', 'port = {{getv "/port"}}\n')
    const d = startWatch(config(c.dir))
    try {
      await waitFor('the render error', () => d.entries.some((e) => e.msg === 'cannot render template'))
      const err = d.entries.find((e) => e.msg === 'cannot render template')!.err
      expect(err).toBe('template: app.conf.tmpl:1:9: executing "app.conf.tmpl" at <getv "/port">: error calling getv: key does not exist: /port')
      expect(existsSync(c.dest)).toBe(false)
      await writer.put('/t3/port', '8080')
      await waitFor('the render', () => read(c.dest) === 'port = 8080\n')
    } finally {
      await d.stop()
    }
  }, 30_000)

  it('template and resource files are reloaded on change and on SIGHUP', async () => {
    await writer.put('/t4/name', 'cairn')
    const c = confdir('hello', 'prefix = "/t4"\nkeys = ["/name"]', 'hello {{getv "/name"}}\n')
    const d = startWatch(config(c.dir))
    try {
      await waitFor('the first render', () => read(c.dest) === 'hello cairn\n')
      writeFileSync(join(c.dir, 'templates', 'hello.tmpl'), 'bonjour {{getv "/name"}}\n')
      await waitFor('the new template', () => read(c.dest) === 'bonjour cairn\n')
      // A change the file watcher might not see (same content rewritten elsewhere): SIGHUP re-reads.
      writeFileSync(join(c.dir, 'conf.d', 'hello.toml'), readFileSync(join(c.dir, 'conf.d', 'hello.toml'), 'utf8').replace('keys = ["/name"]', 'keys = ["/name", "/greeting"]'))
      writeFileSync(join(c.dir, 'templates', 'hello.tmpl'), '{{getv "/greeting" "hi"}} {{getv "/name"}}\n')
      process.emit('SIGHUP', 'SIGHUP')
      await waitFor('the reloaded resource', () => read(c.dest) === 'hi cairn\n')
      await writer.put('/t4/greeting', 'hola')
      await waitFor('a key the reloaded resource added', () => read(c.dest) === 'hola cairn\n')
      expect(d.entries.some((e) => e.msg === 'reloading template resources')).toBe(true)
    } finally {
      await d.stop()
    }
  }, 30_000)

  it('--interval renders on each round', async () => {
    await writer.put('/t5/v', 'one')
    const c = confdir('interval', 'prefix = "/t5"\nkeys = ["/v"]', '{{getv "/v"}}\n')
    const { log } = memoryLog()
    const client = new Client({ endpoints: cluster.members.map((m) => m.clientUrl) })
    const stop = new AbortController()
    const done = new Confd(config(c.dir), client, log, processDeps(systemClock)).runInterval(300, stop.signal)
    try {
      await waitFor('the first round', () => read(c.dest) === 'one\n')
      await writer.put('/t5/v', 'two')
      await waitFor('a later round', () => read(c.dest) === 'two\n')
    } finally {
      stop.abort()
      await done
      client.close()
    }
  }, 20_000)

  it('cairn confd --onetime exits 0 when every resource rendered, 1 when one failed', async () => {
    await writer.put('/t6/a', 'A')
    const good = confdir('good', 'prefix = "/t6"\nkeys = ["/a"]', 'a={{getv "/a"}}\n')
    const endpoints = cluster.members.map((m) => m.clientUrl).join(',')
    const ok = await cli(['confd', '--onetime', '--confdir', good.dir, '--node', endpoints])
    expect(ok.code).toBe(0)
    expect(read(good.dest)).toBe('a=A\n')
    expect(good.reloads()).toBe(1)

    writeFileSync(join(good.dir, 'conf.d', 'bad.toml'), `[template]\nsrc = "bad.tmpl"\ndest = "${join(good.dir, 'out', 'bad')}"\nprefix = "/t6"\nkeys = ["/"]\n`)
    writeFileSync(join(good.dir, 'templates', 'bad.tmpl'), 'line one\nb={{getv "/missing"}}\n')
    const bad = await cli(['confd', '--onetime', '--confdir', good.dir, '--endpoints', endpoints])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('template: bad.tmpl:2:4: executing \\"bad.tmpl\\" at <getv \\"/missing\\">: error calling getv: key does not exist: /missing')
    expect(existsSync(join(good.dir, 'out', 'bad'))).toBe(false)

    const misconfigured = await cli(['confd', '--onetime', '--confdir', join(good.dir, 'nope'), '--endpoints', endpoints])
    expect(misconfigured).toMatchObject({ code: 1, stderr: `Error: confdir ${join(good.dir, 'nope')} does not exist\n` })
  }, 30_000)

  // Last: it kills a member (the leader, the harder case: the watch must resume across an election).
  it('resumes after the member it is connected to is killed, without missing a change', async () => {
    await writer.put('/t7/svc/a', '1')
    const c = confdir('svc', 'prefix = "/t7"\nkeys = ["/svc"]', '{{range gets "/svc/*"}}{{base .Key}}={{.Value}}\n{{end}}')
    const victim = await cluster.waitForLeader()
    const others = [0, 1, 2].filter((i) => i !== victim)
    const order = [victim, ...others].map((i) => cluster.members[i]!.clientUrl)
    const d = startWatch(config(c.dir, { wait: { minMs: 200, maxMs: 2000 } }), order)
    const survivors = new Client({ endpoints: order.slice(1), callTimeoutMs: 10_000 })
    // A write whose leader dies may end OutcomeUnknown; these writes are idempotent, so repeat them.
    const write = async (fn: () => Promise<unknown>): Promise<void> => {
      const deadline = Date.now() + 30_000
      for (;;) {
        try {
          await fn()
          return
        } catch (e) {
          if (Date.now() > deadline) throw e
        }
      }
    }
    try {
      await waitFor('the first render', () => read(c.dest) === 'a=1\n')
      expect(d.client.transport.activeEndpoint).toBe(cluster.members[victim]!.clientUrl)
      await cluster.kill(victim)
      // Changes while the daemon's member is down (and while its watch reconnects elsewhere).
      await write(() => survivors.put('/t7/svc/b', '2'))
      await write(() => survivors.put('/t7/svc/a', '1b'))
      await write(() => survivors.delete('/t7/svc/b'))
      await write(() => survivors.put('/t7/svc/c', '3'))
      await waitFor('the changes made during the outage', () => read(c.dest) === 'a=1b\nc=3\n', 25_000)
      expect(d.client.transport.activeEndpoint).not.toBe(cluster.members[victim]!.clientUrl)
      await write(() => survivors.put('/t7/svc/d', '4'))
      await waitFor('a change after the failover', () => read(c.dest) === 'a=1b\nc=3\nd=4\n')
      // The client resumed the watches itself (the runner's fallback re-read was not needed).
      expect(d.entries.filter((e) => e.msg.startsWith('watch '))).toEqual([])
    } finally {
      survivors.close()
      await d.stop()
      cluster.startMember(victim)
    }
  }, 90_000)
})

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(ROOT, 'bin/cairn.js'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000)
    p.on('close', (code) => {
      clearTimeout(t)
      resolve({ code, stdout, stderr })
    })
  })
}
