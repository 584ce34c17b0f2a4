// TLS for the member's two faces, as etcd configures them: the client listener (--cert-file,
// --key-file, --trusted-ca-file, --client-cert-auth) and the peer listener and peer dialling
// (--peer-cert-file, --peer-key-file, --peer-trusted-ca-file, --peer-client-cert-auth,
// --peer-cert-allowed-cn). Files are read once at start; a missing, unreadable or mismatched file is a
// ConfigError (one plain line).

import { readFileSync } from 'node:fs'
import type { ServerOptions } from 'node:https'
import { createSecureContext } from 'node:tls'
import type { TLSSocket } from 'node:tls'
import { verifiedCommonName } from '../tls/common-name.ts'
import type { ClientTls } from '../tls/fetch.ts'
import { ConfigError } from './options.ts'
import type { TlsFlags } from './options.ts'

/** TLS of one face, files loaded and checked. */
export interface LoadedTls {
  /** For https.createServer: our certificate, and client-certificate checking when asked for. */
  server: ServerOptions
  /** For dialling the same kind of listener elsewhere: trust the CA, present our certificate. */
  client: ClientTls
  clientCertAuth: boolean
  allowedCn: string | undefined
}

/** Flag names per face, for messages. */
const NAMES = {
  client: { cert: '--cert-file', key: '--key-file', ca: '--trusted-ca-file' },
  peer: { cert: '--peer-cert-file', key: '--peer-key-file', ca: '--peer-trusted-ca-file' },
} as const

/** Reads and checks the files; undefined when no certificate is configured (plain http). */
export function loadTls(face: 'client' | 'peer', flags: TlsFlags): LoadedTls | undefined {
  const names = NAMES[face]
  if (flags.certFile === undefined || flags.keyFile === undefined) return undefined
  const cert = readPem(names.cert, flags.certFile)
  const key = readPem(names.key, flags.keyFile)
  const ca = flags.trustedCaFile === undefined ? undefined : readPem(names.ca, flags.trustedCaFile)
  try {
    createSecureContext({ cert, key, ...(ca ? { ca } : {}) })
  } catch (e) {
    throw new ConfigError(`${names.cert} ${flags.certFile} and ${names.key} ${flags.keyFile}: ${describeTlsError(e)}`)
  }
  const server: ServerOptions = {
    cert,
    key,
    ...(ca ? { ca } : {}),
    requestCert: flags.clientCertAuth,
    rejectUnauthorized: flags.clientCertAuth,
  }
  return { server, client: { cert, key, ...(ca ? { ca } : {}) }, clientCertAuth: flags.clientCertAuth, allowedCn: flags.allowedCn }
}

function readPem(flag: string, path: string): Buffer {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (e as Error).message
    throw new ConfigError(`cannot read ${flag} ${path}: ${why}`)
  }
  if (!data.toString('latin1').includes('-----BEGIN ')) throw new ConfigError(`${flag} ${path} is not a PEM file`)
  return data
}

function describeTlsError(e: unknown): string {
  const m = (e as Error).message
  if (/key values mismatch/i.test(m)) return 'the key does not match the certificate'
  return m.replace(/^error:[0-9A-F]+:[^:]*:[^:]*:/i, '')
}

/** Why a peer connection must be refused on TLS grounds (the --peer-cert-allowed-cn check), if it must. */
export function peerCertRefusal(socket: TLSSocket, tls: LoadedTls): string | undefined {
  if (tls.allowedCn === undefined) return undefined
  const cn = verifiedCommonName(socket)
  if (cn !== tls.allowedCn) return `certificate common name ${JSON.stringify(cn ?? '')} is not the allowed ${JSON.stringify(tls.allowedCn)}`
  return undefined
}
