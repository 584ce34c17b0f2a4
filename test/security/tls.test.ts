// TLS for clients and peers, on real `cairn serve` processes with a throwaway PKI made by openssl:
// an all-TLS cluster works end to end (Raft links, snapshots, forwarding, watches, the CLI), and
// everything without the right certificate is refused, logged, and leaves the members running.

import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Client, toText } from '../../core/client/index.ts'
import { fetchWithTls } from '../../core/tls/fetch.ts'
import type { ClientTls } from '../../core/tls/fetch.ts'
import { post, sleep, TestCluster } from '../cluster/harness.ts'
import { cairn } from '../cli/run.ts'
import { makeTestPki } from './certs.ts'
import type { TestPki } from './certs.ts'

let pki: TestPki
let cluster: TestCluster | undefined
const clients: Client[] = []

beforeAll(() => {
  pki = makeTestPki()
})
afterAll(() => pki?.cleanup())
afterEach(async () => {
  for (const c of clients.splice(0)) c.close()
  await cluster?.stop()
  cluster = undefined
})

/** Flags of a member with TLS on both faces and certificates required on both. */
function tlsFlags(cert = pki.member): string[] {
  return [
    '--cert-file', cert.cert, '--key-file', cert.key, '--trusted-ca-file', pki.ca, '--client-cert-auth',
    '--peer-cert-file', cert.cert, '--peer-key-file', cert.key, '--peer-trusted-ca-file', pki.ca, '--peer-client-cert-auth',
    '--peer-cert-allowed-cn', 'member',
  ]
}

function aliceTls(): ClientTls {
  return { ca: readFileSync(pki.ca), cert: readFileSync(pki.alice.cert), key: readFileSync(pki.alice.key) }
}

function tlsClient(endpoints: string[]): Client {
  const c = new Client({ endpoints, tls: aliceTls(), callTimeoutMs: 10_000 })
  clients.push(c)
  return c
}

async function startTlsCluster(opts: { snapshotCount?: number } = {}): Promise<TestCluster> {
  return TestCluster.start({
    size: 3,
    clientScheme: 'https',
    peerScheme: 'https',
    extraArgs: tlsFlags(),
    fetch: fetchWithTls(aliceTls()),
    ...opts,
  })
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await sleep(50)
  }
  throw new Error(`timed out waiting for ${what}`)
}

function alive(c: TestCluster, i: number): boolean {
  const p = c.members[i]!.proc
  return p !== undefined && p.exitCode === null && p.signalCode === null
}

/** Lines of member i's log with this message. */
function logLines(c: TestCluster, i: number, msg: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const line of c.members[i]!.stderr.split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      const o = JSON.parse(line) as Record<string, unknown>
      if (o.msg === msg) out.push(o)
    } catch {
      // the last line may still be arriving
    }
  }
  return out
}

/** Opens a peer WebSocket to member i as member `fromHex` would, with the given client certificate. */
function dialPeer(c: TestCluster, i: number, fromHex: string, clusterHex: string, cert: { cert: string; key: string }): Promise<'open' | string> {
  const url = c.members[i]!.peerUrl.replace('https:', 'wss:') + '/cairn/peer'
  return new Promise((resolve) => {
    const ws = new WebSocket(url, {
      headers: { 'x-cairn-from': fromHex, 'x-cairn-cluster-id': clusterHex },
      ca: readFileSync(pki.ca),
      cert: readFileSync(cert.cert),
      key: readFileSync(cert.key),
      handshakeTimeout: 5_000,
    })
    ws.once('open', () => {
      ws.terminate()
      resolve('open')
    })
    ws.once('error', (e) => resolve(`error: ${(e as NodeJS.ErrnoException).code ?? e.message}`))
    ws.once('unexpected-response', (_req, res) => resolve(`refused: HTTP ${res.statusCode}`))
  })
}

describe('TLS: an all-TLS cluster (https clients, https peers, certificates required on both)', () => {
  it('elects, replicates, forwards to the leader, serves watches over wss and sends snapshots over TLS', async () => {
    cluster = await startTlsCluster({ snapshotCount: 50 })
    const c = cluster
    const urls = c.members.map((m) => m.clientUrl)
    expect(urls.every((u) => u.startsWith('https://'))).toBe(true)
    const leader = await c.waitForLeader()
    const follower = (leader + 1) % 3

    // Writes through every member (followers propose over the TLS peer links), read from every member.
    for (let i = 0; i < 3; i++) await tlsClient([urls[i]!]).put(`k${i}`, `v${i}`)
    for (let j = 0; j < 3; j++) {
      for (let i = 0; i < 3; i++) {
        const r = await tlsClient([urls[j]!]).get(`k${i}`)
        expect(toText(r.kvs[0]!.value)).toBe(`v${i}`)
      }
    }
    const metrics = await (await fetchWithTls(aliceTls())(`${urls[leader]}/metrics`)).text()
    expect(metrics).toMatch(/^cairn_network_peers_connected 2$/m)

    // A watch over wss on a follower.
    const w = tlsClient([urls[follower]!]).watch('watched')
    const seen = (async () => {
      for await (const resp of w) for (const e of resp.events) return toText(e.kv.value)
      return undefined
    })()
    await waitFor('the watch to be created', async () => {
      await tlsClient([urls[leader]!]).put('watched', 'over-wss')
      return Promise.race([seen.then(() => true), sleep(200).then(() => false)])
    })
    expect(await seen).toBe('over-wss')

    // A leader-only request on a follower is forwarded to the leader's https client URL, with the
    // member's own certificate (the leader requires one).
    const viaFollower = tlsClient([urls[follower]!])
    const lease = await viaFollower.lease.grant(30)
    expect((await viaFollower.lease.keepAliveOnce(lease.id)).ttl).toBeGreaterThan(0)

    // A follower that missed compacted entries is caught up by a snapshot over the TLS snapshot socket.
    const victim = (leader + 2) % 3
    await c.kill(victim)
    // The leader keeps 5,000 entries behind its snapshot for followers that lag a little; write past that.
    const writer = tlsClient([urls[leader]!])
    let next = 0
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (next < 5_300) {
        const i = next++
        await writer.put(`s/${i}`, String(i))
      }
    }))
    expect(logLines(c, leader, 'took snapshot').some((l) => Number(l.compactedTo) > 0)).toBe(true)
    c.startMember(victim)
    await waitFor('the restarted member to restore a snapshot', () => logLines(c, victim, 'restored snapshot from leader').length > 0, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\nleader:\n${c.members[leader]!.stderr.slice(-3000)}\nvictim:\n${c.members[victim]!.stderr.slice(-3000)}`)
    })
    const restored = tlsClient([urls[victim]!])
    await waitFor('s/299 on the restarted member', async () => {
      const r = await restored.get('s/5299', { serializable: true }).catch(() => undefined)
      return r?.kvs[0] !== undefined && toText(r.kvs[0].value) === '5299'
    })
    expect(logLines(c, leader, 'sending snapshot').length).toBeGreaterThan(0)
    expect(logLines(c, leader, 'refused peer connection')).toEqual([])
  }, 120_000)

  it('the CLI talks https with --cacert/--cert/--key, a client without a certificate is refused, and plain http fails cleanly', async () => {
    cluster = await startTlsCluster()
    const c = cluster
    const ep = c.members[0]!.clientUrl
    const tlsArgs = ['--cacert', pki.ca, '--cert', pki.alice.cert, '--key', pki.alice.key]

    const put = await cairn(['put', 'greeting', 'hello', ...tlsArgs], { endpoints: c.members.map((m) => m.clientUrl).join(',') })
    expect(put.stderr).toBe('')
    expect(put.stdout).toBe('OK\n')
    const get = await cairn(['get', 'greeting', ...tlsArgs], { endpoints: ep })
    expect(get.stdout).toBe('greeting\nhello\n')
    expect(get.code).toBe(0)

    // Environment variables work as the flags do.
    const byEnv = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, ['bin/cairn.js', 'get', 'greeting', '--print-value-only'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { ...process.env, CAIRN_ENDPOINTS: ep, CAIRN_CACERT: pki.ca, CAIRN_CERT: pki.alice.cert, CAIRN_KEY: pki.alice.key },
      }, (e, stdout) => resolve({ code: e ? (e.code as number) : 0, stdout }))
    })
    expect(byEnv).toEqual({ code: 0, stdout: 'hello\n' })

    // No client certificate: the member refuses the handshake and logs it; nothing is written.
    const before = logLines(c, 0, 'refused client connection').length
    const noCert = await cairn(['put', 'greeting', 'intruded', '--cacert', pki.ca], { endpoints: ep })
    expect(noCert.code).toBe(1)
    expect(noCert.stderr).toMatch(/^Error: .*certificate required\n$/)
    await waitFor('the refusal in the log', () => logLines(c, 0, 'refused client connection').length > before)
    const refusal = logLines(c, 0, 'refused client connection').at(-1)!
    expect(refusal.remote).toMatch(/^127\.0\.0\.1:\d+$/)
    expect(String(refusal.reason)).toMatch(/certificate/)

    // A watch without a certificate ends at once with the reason, rather than reconnecting forever.
    const noCertWatch = await cairn(['watch', 'greeting', '--cacert', pki.ca], { endpoints: ep, timeoutMs: 20_000 })
    expect(noCertWatch.code).toBe(1)
    expect(noCertWatch.stderr).toMatch(/^Error: .*certificate required\n$/)

    // A certificate from another CA: refused too (the member checks it against --trusted-ca-file).
    const rogue = await cairn(['get', 'greeting', '--cacert', pki.ca, '--cert', pki.rogue.cert, '--key', pki.rogue.key, '--command-timeout', '2s'], { endpoints: ep })
    expect(rogue.code).toBe(1)
    expect(rogue.stdout).toBe('')
    await waitFor('the untrusted certificate in the log', () =>
      logLines(c, 0, 'refused client connection').some((l) => /client certificate not trusted/.test(String(l.reason))),
    )

    // Not trusting the member's CA: the client refuses the member.
    const wrongCa = await cairn(['get', 'greeting', '--cacert', pki.otherCa, '--cert', pki.alice.cert, '--key', pki.alice.key], { endpoints: ep })
    expect(wrongCa.code).toBe(1)
    expect(wrongCa.stderr).toMatch(/^Error: .*TLS: .*certificate/)

    // Plain http to an https member: a clear 400 and a clear CLI error, not a hang or a reset.
    const plain = await fetch(ep.replace('https:', 'http:') + '/v3/kv/range', { method: 'POST', body: '{}' })
    expect(plain.status).toBe(400)
    expect(await plain.text()).toMatch(/HTTP request to an HTTPS server/)
    const plainCli = await cairn(['put', 'greeting', 'plain'], { endpoints: ep.replace('https:', 'http:') })
    expect(plainCli.code).toBe(1)
    expect(plainCli.stderr).toBe(`Error: no endpoint available: ${ep.replace('https:', 'http:')} serves https only: use ${ep}\n`)
    const plainWatch = await cairn(['watch', 'greeting'], { endpoints: ep.replace('https:', 'http:'), timeoutMs: 20_000 })
    expect(plainWatch.code).toBe(1)
    expect(plainWatch.stderr).toBe(plainCli.stderr)

    // The cluster serves discovery for a new cluster over https, and says so in the URL it gives out.
    const discovery = await cairn(['discovery', 'new', '--size', '1', ...tlsArgs], { endpoints: ep })
    expect(discovery.stderr).toBe('')
    expect(discovery.stdout).toMatch(new RegExp(`^${ep}/v2/keys/_etcd/registry/[0-9a-f]{32}\\n$`))

    // None of it changed the data or stopped a member.
    expect((await cairn(['get', 'greeting', '--print-value-only', ...tlsArgs], { endpoints: ep })).stdout).toBe('hello\n')
    expect([0, 1, 2].every((i) => alive(c, i))).toBe(true)
  }, 120_000)

  it('etcdctl (v2 API) works against an https member with --ca-file/--cert-file/--key-file', async (ctx) => {
    const found = await new Promise<boolean>((resolve) => execFile('etcdctl', ['version'], (e) => resolve(!e)))
    if (!found) return ctx.skip()
    cluster = await startTlsCluster()
    const ep = cluster.members[0]!.clientUrl
    const etcdctl = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        execFile('etcdctl', ['--endpoints', ep, '--no-sync', '--ca-file', pki.ca, '--cert-file', pki.alice.cert, '--key-file', pki.alice.key, ...args], {
          env: { ...process.env, ETCDCTL_API: '2' },
          timeout: 20_000,
        }, (e, stdout, stderr) => resolve({ code: e ? Number(e.code ?? 1) : 0, stdout, stderr }))
      })
    await cluster.waitHealthy(0)
    const set = await etcdctl(['set', '/tls/hello', 'world'])
    expect(set, set.stderr).toEqual({ code: 0, stdout: 'world\n', stderr: '' })
    expect((await etcdctl(['get', '/tls/hello'])).stdout).toBe('world\n')
    // etcdctl without the CA does not trust the member.
    const untrusted = await new Promise<number>((resolve) =>
      execFile('etcdctl', ['--endpoints', ep, '--total-timeout', '3s', 'get', '/tls/hello'], { env: { ...process.env, ETCDCTL_API: '2' }, timeout: 20_000 }, (e) =>
        resolve(e ? Number(e.code ?? 1) : 0),
      ),
    )
    expect(untrusted).not.toBe(0)
  }, 60_000)
})

describe('TLS: peers without the right certificate', () => {
  it('a member with a certificate from another CA cannot take part; the others refuse it, log it and keep serving', async () => {
    const c = await TestCluster.allocate({
      size: 3,
      clientScheme: 'https',
      peerScheme: 'https',
      extraArgs: tlsFlags(),
      fetch: fetchWithTls(aliceTls()),
    })
    cluster = c
    // m3 trusts the right CA (so it can check the others) but presents a certificate they do not trust.
    c.members[2]!.extraArgs = ['--peer-cert-file', pki.rogue.cert, '--peer-key-file', pki.rogue.key]
    for (let i = 0; i < 3; i++) c.startMember(i)
    const leader = await c.waitForLeader(20_000, 2)
    expect(leader).not.toBe(2)
    await tlsClient([c.members[leader]!.clientUrl]).put('only-for-members', 'yes')

    // Both good members refuse m3's connections, with its address and the reason, and keep running.
    for (const i of [0, 1]) {
      await waitFor(`member ${i} to log the refused peer`, () =>
        logLines(c, i, 'refused peer connection').some((l) => /client certificate not trusted/.test(String(l.reason))),
      )
      const line = logLines(c, i, 'refused peer connection').find((l) => /not trusted/.test(String(l.reason)))!
      expect(line.remote).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(alive(c, i)).toBe(true)
    }
    // m3 never hears from the cluster: no leader, no data (its own store answers serializable reads).
    const m3 = tlsClient([c.members[2]!.clientUrl])
    const r = await m3.get('only-for-members', { serializable: true })
    expect(r.kvs).toEqual([])
    expect((await c.status(2))?.leader).toBe('0')
    expect(alive(c, 2)).toBe(true)
  }, 90_000)

  it('a connection with the wrong common name (--peer-cert-allowed-cn) or another CA is refused; the member certificate is not', async () => {
    cluster = await startTlsCluster()
    const c = cluster
    const leader = await c.waitForLeader()
    const status = (await post(c.members[leader]!.clientUrl, '/v3/maintenance/status', {}, 5_000, fetchWithTls(aliceTls()))).body as {
      header: { cluster_id: string; member_id: string }
    }
    const clusterHex = BigInt(status.header.cluster_id).toString(16)
    const asMember = BigInt(status.header.member_id).toString(16)
    const target = (leader + 1) % 3

    // Control: the same request with a member certificate gets through TLS and is accepted.
    expect(await dialPeer(c, target, asMember, clusterHex, pki.member)).toBe('open')
    // The right CA but CN=intruder: cut off after the handshake, logged.
    expect(await dialPeer(c, target, asMember, clusterHex, pki.intruder)).not.toBe('open')
    await waitFor('the common-name refusal in the log', () =>
      logLines(c, target, 'refused peer connection').some((l) => /common name "intruder" is not the allowed "member"/.test(String(l.reason))),
    )
    // Another CA: refused in the handshake, logged.
    expect(await dialPeer(c, target, asMember, clusterHex, pki.rogue)).not.toBe('open')
    await waitFor('the untrusted-certificate refusal in the log', () =>
      logLines(c, target, 'refused peer connection').some((l) => /client certificate not trusted/.test(String(l.reason))),
    )
    // Plain ws to the https peer port: answered 400, logged.
    const plain = await new Promise<string>((resolve) => {
      const ws = new WebSocket(c.members[target]!.peerUrl.replace('https:', 'ws:') + '/cairn/peer', { headers: { 'x-cairn-from': asMember, 'x-cairn-cluster-id': clusterHex } })
      ws.once('open', () => resolve('open'))
      ws.once('unexpected-response', (_req, res) => resolve(`HTTP ${res.statusCode}`))
      ws.once('error', (e) => resolve(e.message))
    })
    expect(plain).toBe('HTTP 400')

    // The cluster is unharmed.
    await tlsClient(c.members.map((m) => m.clientUrl)).put('after', 'intruders')
    expect([0, 1, 2].every((i) => alive(c, i))).toBe(true)
  }, 90_000)

  it('a new member with an untrusted certificate cannot join: it exits with one line, the cluster logs and keeps going', async () => {
    cluster = await startTlsCluster()
    const c = cluster
    for (let i = 0; i < 3; i++) await c.waitHealthy(i)
    const i = await c.newJoiner()
    const joiner = c.members[i]!
    // Until every member has published itself through the log, a voter add is refused as unhealthy.
    let added = { status: 0, body: undefined as unknown }
    await waitFor('member add to be accepted', async () => {
      added = await post(c.members[0]!.clientUrl, '/v3/cluster/member/add', { peerURLs: [joiner.peerUrl] }, 15_000, fetchWithTls(aliceTls()))
      return added.status === 200
    }, 30_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${added.status} ${JSON.stringify(added.body)}`)
    })
    joiner.extraArgs = ['--peer-cert-file', pki.rogue.cert, '--peer-key-file', pki.rogue.key, '--cert-file', pki.rogue.cert, '--key-file', pki.rogue.key]
    c.startMember(i)
    expect(await c.waitExit(i, 30_000)).toBe(1)
    expect(joiner.stderr.trim().split('\n').at(-1)).toMatch(/^Error: cannot reach any member of the existing cluster/)
    const refusedBy = [0, 1, 2].filter((j) => logLines(c, j, 'refused peer connection').some((l) => /not trusted/.test(String(l.reason))))
    expect(refusedBy.length).toBeGreaterThan(0)
    await tlsClient(c.members.slice(0, 3).map((m) => m.clientUrl)).put('still', 'serving')
    expect([0, 1, 2].every((j) => alive(c, j))).toBe(true)

    // Control: with the cluster's certificate, a new member joins over TLS and catches up.
    const rogueId = (added.body as { member: { ID: string } }).member.ID
    expect((await post(c.members[0]!.clientUrl, '/v3/cluster/member/remove', { ID: rogueId }, 15_000, fetchWithTls(aliceTls()))).status).toBe(200)
    const g = await c.newJoiner()
    await waitFor('member add of the good joiner', async () => {
      const r = await post(c.members[0]!.clientUrl, '/v3/cluster/member/add', { peerURLs: [c.members[g]!.peerUrl] }, 15_000, fetchWithTls(aliceTls()))
      return r.status === 200
    }, 30_000)
    c.startMember(g)
    const good = tlsClient([c.members[g]!.clientUrl])
    await waitFor('the new member to catch up', async () => {
      const r = await good.get('still', { serializable: true, timeoutMs: 1_000 }).catch(() => undefined)
      return r?.kvs[0] !== undefined && toText(r.kvs[0].value) === 'serving'
    }, 30_000)
  }, 120_000)
})

describe('TLS: a client that expects https from a plain-http member', () => {
  it('fails at once with the reason, for calls and watches alike', async () => {
    cluster = await TestCluster.start({ size: 1 })
    const ep = cluster.members[0]!.clientUrl.replace('http:', 'https:')
    const expected = `Error: no endpoint available: ${ep}: TLS: the server does not speak TLS (is it an http:// endpoint?)\n`
    for (const args of [['put', 'k', 'v'], ['get', 'k'], ['watch', 'k']]) {
      const r = await cairn([...args, '--cacert', pki.ca], { endpoints: ep, timeoutMs: 20_000 })
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expected })
    }
  })
})

describe('TLS: configuration errors end `cairn serve` with one plain line', () => {
  const serve = (args: string[]) => cairn(['serve', '--data-dir', join(pki.dir, `data-${Math.random()}`), ...args], { timeoutMs: 30_000 })

  it.each([
    [['--listen-client-urls', 'https://127.0.0.1:1'], /^Error: TLS key\/cert \(--cert-file, --key-file\) must be provided for client url https:\/\/127\.0\.0\.1:1\n$/],
    [['--listen-peer-urls', 'https://127.0.0.1:1'], /^Error: TLS key\/cert \(--peer-cert-file, --peer-key-file\) must be provided for peer url https:\/\/127\.0\.0\.1:1\n$/],
    [['--cert-file', '/nonexistent/cert.pem', '--key-file', '/nonexistent/key.pem'], /^Error: cannot read --cert-file \/nonexistent\/cert\.pem: no such file\n$/],
    [['--cert-file', 'CERT'], /^Error: --cert-file is set but --key-file is not\n$/],
    [['--cert-file', 'CERT', '--key-file', 'OTHERKEY'], /^Error: --cert-file .* and --key-file .*: the key does not match the certificate\n$/],
    [['--cert-file', 'CERT', '--key-file', 'KEY', '--client-cert-auth'], /^Error: --client-cert-auth needs --trusted-ca-file to verify client certificates\n$/],
    [['--peer-cert-file', 'CERT', '--peer-key-file', 'KEY', '--peer-trusted-ca-file', 'CA', '--peer-cert-allowed-cn', 'x'], /^Error: --peer-cert-allowed-cn needs --peer-client-cert-auth/],
    [['--cert-file', 'KEY', '--key-file', 'KEY'], /^Error: --cert-file .*: /],
  ])('serve %j', async (raw, expected) => {
    const args = (raw as string[]).map((a) => a.replace(/^CERT$/, pki.member.cert).replace(/^KEY$/, pki.member.key).replace(/^OTHERKEY$/, pki.alice.key).replace(/^CA$/, pki.ca))
    const r = await serve(args)
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(expected as RegExp)
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1)
  })

  it('reads the TLS settings from CAIRN_* variables as well (etcd\'s ETCD_* names)', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(process.execPath, ['bin/cairn.js', 'serve', '--data-dir', join(pki.dir, 'data-env')], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { ...process.env, CAIRN_CERT_FILE: pki.member.cert, CAIRN_KEY_FILE: pki.member.key, CAIRN_CLIENT_CERT_AUTH: 'true' },
        timeout: 30_000,
      }, (e, _stdout, stderr) => resolve({ code: e ? Number(e.code) : 0, stderr }))
    })
    expect(r).toEqual({ code: 1, stderr: 'Error: --client-cert-auth needs --trusted-ca-file to verify client certificates\n' })
  })

  it('a CLI flag naming a missing file is one line, exit 1', async () => {
    const r = await cairn(['get', 'x', '--cacert', '/nonexistent/ca.pem'], { endpoints: 'https://127.0.0.1:1' })
    expect(r).toEqual({ code: 1, stdout: '', stderr: 'Error: --cacert: open /nonexistent/ca.pem: no such file or directory\n' })
  })
})

describe('TLS: the verified client certificate names the caller', () => {
  it('clientCertCommonName(req) is the CN under --client-cert-auth, undefined without a certificate check', async () => {
    const { createServer } = await import('node:https')
    const { loadTls } = await import('../../core/server/tls-config.ts')
    const { clientCertCommonName } = await import('../../core/api/client-identity.ts')
    const flags = (auth: boolean) => ({ certFile: pki.member.cert, keyFile: pki.member.key, trustedCaFile: pki.ca, clientCertAuth: auth, allowedCn: undefined })
    for (const auth of [true, false]) {
      const server = createServer(loadTls('client', flags(auth))!.server, (req, res) => res.end(String(clientCertCommonName(req))))
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      const url = `https://127.0.0.1:${(server.address() as { port: number }).port}/`
      const seen = await (await fetchWithTls(aliceTls())(url)).text()
      server.closeAllConnections()
      server.close()
      expect(seen).toBe(auth ? 'alice' : 'undefined')
    }
  })
})

describe('TLS and auth together: the certificate names the user, credentials ride over https', () => {
  it('with --client-cert-auth and auth on, the CN is the user; --user over TLS wins over the CN; alarms need root', async () => {
    cluster = await startTlsCluster()
    const c = cluster
    const endpoints = c.members.map((m) => m.clientUrl)
    // Before auth is on, anyone with a certificate administers; set up root and alice (CN=alice).
    const setup = tlsClient(endpoints)
    await setup.auth.userAdd('root', 'rootpw')
    await setup.auth.userGrantRole('root', 'root')
    await setup.auth.userAdd('alice', { noPassword: true })
    await setup.auth.roleAdd('app')
    await setup.auth.roleGrantPermission('app', 'READWRITE', 'app/', 'app0')
    await setup.auth.userGrantRole('alice', 'app')
    await setup.auth.enable()

    // alice's certificate and no credentials: she is alice.
    const alice = tlsClient(endpoints)
    await alice.put('app/x', 'by-cert')
    expect(toText((await alice.get('app/x')).kvs[0]!.value)).toBe('by-cert')
    await expect(alice.put('other', '1')).rejects.toMatchObject({ code: 'PermissionDenied' })
    // The limits routes are root's: alice may neither list nor disarm alarms.
    await expect(alice.maintenance.alarmList()).rejects.toMatchObject({ code: 'PermissionDenied' })
    await expect(alice.maintenance.alarmDisarm({ memberId: 1, alarm: 'NOSPACE' })).rejects.toMatchObject({ code: 'PermissionDenied' })
    // What a follower forwards to the leader (a lease keep-alive) is checked there as alice too,
    // although the leader sees the follower's certificate, not hers: through every member.
    const lease = await alice.lease.grant(30)
    for (const url of endpoints) {
      const viaOne = new Client({ endpoints: [url], tls: aliceTls(), callTimeoutMs: 10_000 })
      clients.push(viaOne)
      expect((await viaOne.lease.keepAliveOnce(lease.id)).ttl).toBeGreaterThan(0)
    }

    // The same certificate with root's credentials: the Authorization header names the user.
    const root = new Client({ endpoints, tls: aliceTls(), username: 'root', password: 'rootpw', callTimeoutMs: 10_000 })
    clients.push(root)
    expect((await root.maintenance.alarmList()).alarms).toEqual([])
    await root.put('other', 'by-root')

    // The CLI takes --cacert/--cert/--key and --user together.
    const tlsArgs = ['--cacert', pki.ca, '--cert', pki.alice.cert, '--key', pki.alice.key]
    const denied = await cairn(['alarm', 'list', ...tlsArgs], { endpoints: endpoints[0]! })
    expect(denied).toMatchObject({ code: 1, stderr: 'Error: etcdserver: permission denied\n' })
    const listed = await cairn(['alarm', 'list', ...tlsArgs, '--user', 'root:rootpw'], { endpoints: endpoints[0]! })
    expect(listed).toMatchObject({ code: 0, stderr: '' })
    const got = await cairn(['get', 'other', '--print-value-only', ...tlsArgs, '--user', 'root:rootpw'], { endpoints: endpoints[1]! })
    expect(got.stdout).toBe('by-root\n')

    // A watch over wss, authenticated by the certificate at the upgrade.
    const w = alice.watch('app/w')
    const seen = (async () => {
      for await (const resp of w) for (const e of resp.events) return toText(e.kv.value)
      return undefined
    })()
    await waitFor('the watch to see a put', async () => {
      await root.put('app/w', 'watched')
      return Promise.race([seen.then(() => true), sleep(200).then(() => false)])
    })
    expect(await seen).toBe('watched')
  }, 90_000)
})
