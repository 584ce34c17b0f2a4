// The identity a verified client certificate carries: its subject's common name.

import { TLSSocket } from 'node:tls'

/**
 * The common name of the certificate the peer of `socket` presented, if the listener asked for one and
 * verified it (--client-cert-auth, --peer-client-cert-auth); undefined on plain http, without a
 * certificate, or when it was not verified.
 */
export function verifiedCommonName(socket: unknown): string | undefined {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined
  const cn = socket.getPeerCertificate().subject?.CN as string | string[] | undefined
  if (Array.isArray(cn)) return cn[0]
  return cn === undefined || cn === '' ? undefined : cn
}
