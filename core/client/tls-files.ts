// Client TLS settings from files, as etcdctl takes them (--cacert, --cert, --key).

import { readFileSync } from 'node:fs'
import type { ClientTls } from '../tls/fetch.ts'

export interface ClientTlsFiles {
  /** CA bundle that signs the members' certificates. */
  cacert?: string | undefined
  /** Client certificate and key (for members started with --client-cert-auth). */
  cert?: string | undefined
  key?: string | undefined
  insecureSkipTlsVerify?: boolean | undefined
}

/**
 * Reads the files into a ClientTls; undefined when none is given. Throws an Error with one plain line
 * for an unreadable file or a certificate without its key (or the reverse).
 */
export function loadClientTls(files: ClientTlsFiles): ClientTls | undefined {
  const { cacert, cert, key } = files
  if ((cert === undefined) !== (key === undefined)) {
    throw new Error(cert === undefined ? '--key is set but --cert is not' : '--cert is set but --key is not')
  }
  if (cacert === undefined && cert === undefined && files.insecureSkipTlsVerify !== true) return undefined
  const tls: ClientTls = {}
  if (cacert !== undefined) tls.ca = readPem('--cacert', cacert)
  if (cert !== undefined) tls.cert = readPem('--cert', cert)
  if (key !== undefined) tls.key = readPem('--key', key)
  if (files.insecureSkipTlsVerify === true) tls.insecureSkipVerify = true
  return tls
}

function readPem(flag: string, path: string): Buffer {
  let data: Buffer
  try {
    data = readFileSync(path)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    throw new Error(`${flag}: open ${path}: ${code === 'ENOENT' ? 'no such file or directory' : code === 'EACCES' ? 'permission denied' : (e as Error).message}`)
  }
  if (!data.toString('latin1').includes('-----BEGIN ')) throw new Error(`${flag}: ${path} is not a PEM file`)
  return data
}
