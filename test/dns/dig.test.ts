// `cairn dns` against a real cluster, asked with the real `dig` (Debian's bind9-dnsutils, which CI's
// .ci/run installs): +short, SRV with its additional section, AAAA, +tcp, wildcards, PTR, a long TXT and
// truncation, NXDOMAIN/NODATA with the SOA, changes seen within moments, the watch surviving a member
// restart, and a `cairn dns register` process that disappears after its lease once killed with -9.

import { execFile, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client } from '../../core/client/index.ts'
import { keyOf } from '../../recipes/dns/name.ts'
import { cairn, cairnLong } from '../cli/run.ts'
import { freePort, sleep, TestCluster } from '../cluster/harness.ts'

const hasDig = spawnSync('sh', ['-c', 'command -v dig'], { encoding: 'utf8' }).stdout.trim() !== ''
if (!hasDig) console.warn('test/dns/dig.test.ts skipped: `dig` is not installed (apt-get install bind9-dnsutils)')

let cluster: TestCluster
let endpoints = ''
let client: Client
let port = 0
let server: ReturnType<typeof cairnLong> | undefined
const children: ChildProcess[] = []

function dig(...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', ['@127.0.0.1', '-p', String(port), '+time=2', '+tries=2', ...args], { timeout: 15_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`dig ${args.join(' ')}: ${err.message} ${stderr}`))
      else resolve(stdout)
    })
  })
}

const short = async (...args: string[]) => (await dig('+short', ...args)).trim().split('\n').filter((l) => l !== '').sort()
const status = async (...args: string[]) => /status: (\w+)/.exec(await dig(...args))?.[1]

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await f()
    if (ok(v)) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`)
    await sleep(100)
  }
}

async function put(name: string, value: Record<string, unknown>): Promise<void> {
  await client.put(keyOf(name), JSON.stringify(value))
}

describe.skipIf(!hasDig)('cairn dns answers dig', () => {
  beforeAll(async () => {
    cluster = await TestCluster.start({ size: 1 })
    await cluster.waitHealthy(0)
    endpoints = cluster.members.map((m) => m.clientUrl).join(',')
    client = new Client({ endpoints: [endpoints] })
    await put('1.rails.production.east.skydns.local', { host: 'service1.example.com', port: 8080 })
    await put('4.rails.staging.east.skydns.local', { host: '10.0.1.125', port: 8080 })
    await put('6.rails.staging.east.skydns.local', { host: '2003::8:1', port: 8080 })
    await put('125.1.0.10.in-addr.arpa', { host: '4.rails.staging.east.skydns.local' })
    await put('long.skydns.local', { text: 'abcdefghij'.repeat(100) })
    // A port free for TCP may still be taken for UDP: try another if the server cannot bind.
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      const s = cairnLong(['dns', '--addr', `127.0.0.1:${port}`, '--domain', 'skydns.local.', '--ttl', '300', '--min-ttl', '30'], endpoints)
      children.push(s.child)
      const out = await until('the server to load its records (or exit)', async () => s.output(), (o) => o.code !== null || o.stderr.includes('dns: records loaded'), 30_000)
      if (out.code === null) {
        server = s
        break
      }
      if (attempt >= 3) throw new Error(`cairn dns did not start: ${out.stderr}`)
    }
  }, 90_000)

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    client?.close()
    await cluster?.stop()
  })

  it('+short A and AAAA, for a name and for every record below it', async () => {
    expect(await short('4.rails.staging.east.skydns.local')).toEqual(['10.0.1.125'])
    expect(await short('staging.east.skydns.local', 'A')).toEqual(['10.0.1.125'])
    expect(await short('AAAA', 'staging.east.skydns.local')).toEqual(['2003::8:1'])
  })

  it('SRV with skydns weights, addresses in the additional section', async () => {
    const out = await dig('SRV', 'staging.east.skydns.local', '+noall', '+answer', '+additional')
    expect(out).toMatch(/staging\.east\.skydns\.local\.\s+300\s+IN\s+SRV\s+10 50 8080 4\.rails\.staging\.east\.skydns\.local\./)
    expect(out).toMatch(/staging\.east\.skydns\.local\.\s+300\s+IN\s+SRV\s+10 50 8080 6\.rails\.staging\.east\.skydns\.local\./)
    expect(out).toMatch(/4\.rails\.staging\.east\.skydns\.local\.\s+300\s+IN\s+A\s+10\.0\.1\.125/)
    expect(out).toMatch(/6\.rails\.staging\.east\.skydns\.local\.\s+300\s+IN\s+AAAA\s+2003::8:1/)
    expect(await short('SRV', 'east.skydns.local')).toEqual([
      '10 33 8080 4.rails.staging.east.skydns.local.',
      '10 33 8080 6.rails.staging.east.skydns.local.',
      '10 33 8080 service1.example.com.',
    ])
  })

  it('+tcp answers the same', async () => {
    expect(await short('+tcp', 'SRV', 'staging.east.skydns.local')).toEqual(['10 50 8080 4.rails.staging.east.skydns.local.', '10 50 8080 6.rails.staging.east.skydns.local.'])
    expect(await dig('+tcp', 'staging.east.skydns.local')).toMatch(/SERVER: 127\.0\.0\.1#\d+\(127\.0\.0\.1\) \(TCP\)/)
  })

  it('wildcard names: * and any in any label', async () => {
    expect(await short('*.staging.east.skydns.local')).toEqual(['10.0.1.125'])
    expect(await short('AAAA', 'any.rails.staging.*.skydns.local')).toEqual(['2003::8:1'])
    expect(await short('SRV', 'rails.*.east.skydns.local')).toHaveLength(3)
  })

  it('PTR from /skydns/arpa/in-addr', async () => {
    expect(await short('-x', '10.0.1.125')).toEqual(['4.rails.staging.east.skydns.local.'])
  })

  it('a long TXT record comes as 255-byte strings; over 512 bytes without EDNS0 it is truncated (TC)', async () => {
    const txt = await short('TXT', 'long.skydns.local')
    expect(txt).toHaveLength(1)
    const parts = [...txt[0]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!)
    expect(parts.map((p) => p.length)).toEqual([255, 255, 255, 235])
    expect(parts.join('')).toBe('abcdefghij'.repeat(100))
    const udp = await dig('+noedns', '+ignore', 'TXT', 'long.skydns.local')
    expect(udp).toMatch(/flags: qr aa tc rd/)
    // Without +ignore, dig retries over TCP on TC and gets everything.
    expect(await short('+noedns', 'TXT', 'long.skydns.local')).toEqual(txt)
  })

  it('NXDOMAIN for a missing name, NODATA for a name without that type, both with the SOA', async () => {
    const nx = await dig('nothing.skydns.local', '+noall', '+comments', '+authority')
    expect(nx).toMatch(/status: NXDOMAIN/)
    expect(nx).toMatch(/skydns\.local\.\s+30\s+IN\s+SOA\s+ns\.dns\.skydns\.local\. hostmaster\.skydns\.local\. \d+ 28800 7200 604800 30/)
    const nodata = await dig('AAAA', '4.rails.staging.east.skydns.local', '+noall', '+comments', '+authority')
    expect(nodata).toMatch(/status: NOERROR/)
    expect(nodata).toMatch(/ANSWER: 0/)
    expect(nodata).toMatch(/IN\s+SOA/)
    expect(await status('webx.skydns.local')).toBe('NXDOMAIN')
  })

  it('SOA and NS for the domain; ANY and names outside the domain are refused', async () => {
    expect((await short('SOA', 'skydns.local'))[0]).toMatch(/^ns\.dns\.skydns\.local\. hostmaster\.skydns\.local\. \d+ 28800 7200 604800 30$/)
    expect(await short('NS', 'skydns.local')).toEqual(['ns.dns.skydns.local.'])
    expect(await status('ANY', 'east.skydns.local')).toBe('REFUSED')
    expect(await status('example.com')).toBe('REFUSED')
  })

  it('a change is answered within moments; a delete turns it into NXDOMAIN', async () => {
    const started = Date.now()
    await put('fresh.skydns.local', { host: '10.9.8.7' })
    await until('the new record', () => short('fresh.skydns.local'), (v) => v[0] === '10.9.8.7', 5000)
    expect(Date.now() - started).toBeLessThan(5000)
    await client.delete(keyOf('fresh.skydns.local'))
    await until('the record to go', () => status('fresh.skydns.local'), (s) => s === 'NXDOMAIN', 5000)
  })

  it('cairn dns register: seen by dig, listed by ls; gone after its lease TTL once the process is killed -9', async () => {
    const reg = cairnLong(['dns', 'register', '1.svc.skydns.local', '--host', '127.0.0.77', '--port', '9000', '--ttl', '3'], endpoints)
    children.push(reg.child)
    await until('the registration', () => short('svc.skydns.local'), (v) => v[0] === '127.0.0.77', 20_000)
    expect(reg.output().stdout).toMatch(/^registered 1\.svc\.skydns\.local\. at \/skydns\/local\/skydns\/svc\/1 with lease [0-9a-f]+ \(TTL 3s\)\n$/)
    const ttl = /\s(\d+)\s+IN\s+A\s/.exec(await dig('svc.skydns.local', '+noall', '+answer'))?.[1]
    expect(Number(ttl)).toBeLessThanOrEqual(3)
    expect(await short('SRV', 'svc.skydns.local')).toEqual([expect.stringMatching(/^10 100 9000 1\.svc\.skydns\.local\.$/)])
    const ls = await cairn(['dns', 'ls', 'svc.skydns.local'], { endpoints })
    expect(ls).toMatchObject({ code: 0, stdout: '1.svc.skydns.local. {"host":"127.0.0.77","port":9000}\n' })
    // Alive for longer than its TTL: the keep-alive works.
    await sleep(4000)
    expect(await short('svc.skydns.local')).toEqual(['127.0.0.77'])
    const killedAt = Date.now()
    reg.child.kill('SIGKILL')
    await until('the record to expire', () => status('svc.skydns.local'), (s) => s === 'NXDOMAIN', 15_000)
    expect(Date.now() - killedAt).toBeGreaterThan(500)
  }, 60_000)

  it('cairn dns register stopped with SIGTERM revokes its lease at once; cairn dns rm deletes by name', async () => {
    const reg = cairnLong(['dns', 'register', 'web.skydns.local', '--host', '10.1.1.1', '--ttl', '30'], endpoints)
    children.push(reg.child)
    await until('the registration', () => short('web.skydns.local'), (v) => v[0] === '10.1.1.1', 20_000)
    reg.child.kill('SIGTERM')
    expect((await reg.exited).code).toBe(0)
    await until('the record to go', () => status('web.skydns.local'), (s) => s === 'NXDOMAIN', 3000)
    await put('gone.skydns.local', { host: '10.2.2.2' })
    expect(await cairn(['dns', 'rm', 'gone.skydns.local'], { endpoints })).toMatchObject({ code: 0, stdout: '1\n' })
    await until('the removal', () => status('gone.skydns.local'), (s) => s === 'NXDOMAIN', 5000)
  }, 60_000)

  it('keeps answering and following changes across a member restart (the watch resumes)', async () => {
    await cluster.kill(0)
    // Answers still come from the index while the store is down.
    expect(await short('4.rails.staging.east.skydns.local')).toEqual(['10.0.1.125'])
    cluster.startMember(0)
    await cluster.waitForLeader(30_000)
    await put('after.skydns.local', { host: '10.3.3.3' })
    await until('a change after the restart', () => short('after.skydns.local'), (v) => v[0] === '10.3.3.3', 20_000)
  }, 60_000)

  it('stops cleanly on SIGTERM', async () => {
    server!.child.kill('SIGTERM')
    expect((await server!.exited).code).toBe(0)
  })
})
