// Who is calling, as far as the transport can tell. With --client-cert-auth every client presents a
// certificate signed by --trusted-ca-file; its common name is the caller's identity, which the auth
// layer may take as the user name (etcd does so when a request carries no token).

import type { IncomingMessage } from 'node:http'
import { verifiedCommonName } from '../tls/common-name.ts'

/**
 * The common name of the verified client certificate of this request (an HTTP request or a watch
 * WebSocket upgrade), or undefined when the client presented none (plain http, or TLS without
 * --client-cert-auth).
 */
export function clientCertCommonName(req: IncomingMessage): string | undefined {
  return verifiedCommonName(req.socket)
}
