// Throwaway certificate authorities and certificates for TLS tests, made with the real `openssl`
// binary in a temporary directory (P-256 keys: fast to make, and Go's etcdctl takes them too).

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface CertPair {
  cert: string
  key: string
}

export interface TestPki {
  dir: string
  /** The cluster's CA. */
  ca: string
  /** CN=member, SAN IP:127.0.0.1 and localhost; server and client use (members, client and peer side). */
  member: CertPair
  /** CN=alice, client use: a user's certificate. */
  alice: CertPair
  /** CN=intruder from the cluster's CA, SAN IP:127.0.0.1, server and client use (fails --peer-cert-allowed-cn). */
  intruder: CertPair
  /** Another CA, and a member-like certificate (CN=member, SAN IP:127.0.0.1) signed by it. */
  otherCa: string
  rogue: CertPair
  cleanup(): void
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
}

function makeCa(dir: string, name: string): CertPair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) }
  openssl(dir, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', pair.key, '-out', pair.cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ])
  return pair
}

function makeCert(dir: string, ca: CertPair, name: string, cn: string, ext: string): CertPair {
  const pair = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) }
  const csr = join(dir, `${name}.csr`)
  const extFile = join(dir, `${name}.ext`)
  writeFileSync(extFile, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n${ext}\n`)
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', pair.key, '-out', csr, '-subj', `/CN=${cn}`])
  const serial = `0x${Buffer.from(name.padEnd(8, '_')).toString('hex').slice(0, 16)}`
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', serial, '-days', '2', '-out', pair.cert, '-extfile', extFile])
  return pair
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-pki-'))
  const server = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth'
  const ca = makeCa(dir, 'ca')
  const other = makeCa(dir, 'other-ca')
  return {
    dir,
    ca: ca.cert,
    member: makeCert(dir, ca, 'member', 'member', server),
    alice: makeCert(dir, ca, 'alice', 'alice', 'extendedKeyUsage=clientAuth'),
    intruder: makeCert(dir, ca, 'intruder', 'intruder', server),
    otherCa: other.cert,
    rogue: makeCert(dir, other, 'rogue', 'member', server),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  }
}
