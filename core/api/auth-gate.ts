// Who is asking, and may they? Every client request (v3, v2, watch) goes through here once auth is
// enabled. identityFromRequest() is the one place that reads credentials off a request: the
// Authorization header (a token from /v3/auth/authenticate, or HTTP basic auth), then the verified
// client certificate's common name (mutual TLS, when the listener asks for client certificates).
// resolve() turns an identity into a Principal checked against the applied auth state.

import type { IncomingMessage } from 'node:http'
import { PasswordChecker } from '../auth/passwords.ts'
import { allAllowed, userPermissions, type KeyAccess, type UserPermissions } from '../auth/permissions.ts'
import { issueToken, verifyToken } from '../auth/tokens.ts'
import type { AuthState } from '../auth/types.ts'
import { rootRole } from '../auth/types.ts'
import { CairnError } from '../errors.ts'
import type { Member } from '../server/member.ts'
import { clientCertCommonName } from './client-identity.ts'

export type Identity =
  | { kind: 'token'; token: string }
  | { kind: 'basic'; user: string; password: string }
  | { kind: 'certificate'; user: string }

/** An authenticated user, as of one auth state. */
export interface Principal {
  user: string
  /** The user's permission revision the permissions belong to (writes carry it, see core/auth/guard.ts). */
  revision: number
  permissions: UserPermissions
}

/** Lifetime of a token minted for a forwarded request: long enough for the request, no more. */
const forwardingTokenTtlMs = 60_000

export interface AuthGateOptions {
  tokenTtlMs: number
  bcryptCost: number
}

/**
 * The credentials a request carries, or undefined. Order: Authorization header (token or basic),
 * then the common name of the client certificate the TLS layer verified (--client-cert-auth; see
 * client-identity.ts), which names the user as in etcd.
 */
export function identityFromRequest(req: IncomingMessage): Identity | undefined {
  const header = req.headers.authorization
  if (typeof header === 'string' && header.trim() !== '') {
    const value = header.trim()
    if (/^basic /i.test(value)) {
      const decoded = Buffer.from(value.slice(6).trim(), 'base64').toString('utf8')
      const colon = decoded.indexOf(':')
      if (colon < 0) return { kind: 'basic', user: decoded, password: '' }
      return { kind: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) }
    }
    // etcd clients send the bare token; "Bearer <token>" is accepted too.
    return { kind: 'token', token: value.replace(/^bearer /i, '') }
  }
  const name = clientCertCommonName(req)
  return name === undefined ? undefined : { kind: 'certificate', user: name }
}

export class AuthGate {
  private readonly passwords = new PasswordChecker()

  constructor(
    readonly member: Member,
    readonly options: AuthGateOptions,
    private readonly now: () => number = Date.now,
  ) {}

  state(): AuthState {
    return this.member.mvcc.auth.state()
  }

  enabled(): boolean {
    return this.state().enabled
  }

  /**
   * The principal behind a request: undefined when auth is disabled (everything is allowed). Throws
   * AuthRequired without credentials, InvalidAuthToken for a bad, expired or outdated token or bad
   * basic credentials.
   */
  async authenticate(req: IncomingMessage): Promise<Principal | undefined> {
    return this.resolve(identityFromRequest(req))
  }

  async resolve(identity: Identity | undefined): Promise<Principal | undefined> {
    const state = this.state()
    if (!state.enabled) return undefined
    if (identity === undefined) throw new CairnError('AuthRequired')
    let userName: string
    if (identity.kind === 'token') {
      userName = verifyToken(state, identity.token, this.now()).user
    } else if (identity.kind === 'basic') {
      const user = state.users.get(identity.user)
      const ok = user !== undefined && !user.noPassword && (await this.passwords.check(user.name, user.passwordHash, identity.password))
      if (!ok) throw new CairnError('InvalidAuthToken', 'bad user name or password')
      userName = identity.user
    } else {
      if (!state.users.has(identity.user)) throw new CairnError('InvalidAuthToken', `no user named by the certificate (${identity.user})`)
      userName = identity.user
    }
    // Permissions are taken from the state current now (not the one the password was checked against).
    const now = this.state()
    const user = now.users.get(userName)
    if (user === undefined) throw new CairnError('InvalidAuthToken', `user ${userName} is gone`)
    return { user: userName, revision: user.revision, permissions: userPermissions(now, userName) }
  }

  /**
   * The Authorization header to send with a request this member passes on (to the leader, or to its
   * own v2 API) for a caller: the caller's own header if it sent one; for a caller known only by its
   * certificate, a short-lived token naming that user, because the receiver sees this member's
   * certificate, not the caller's (the token secret is the cluster's, so any member checks it).
   * Undefined without credentials or while auth is off.
   */
  onwardAuthorization(authorization: string | undefined, identity: Identity | undefined): string | undefined {
    if (authorization !== undefined) return authorization
    if (identity?.kind !== 'certificate') return undefined
    const state = this.state()
    if (!state.enabled || !state.users.has(identity.user)) return undefined
    return issueToken(state, identity.user, this.now(), forwardingTokenTtlMs)
  }

  /** Checks a password (for /v3/auth/authenticate). */
  checkPassword(userName: string, password: string): Promise<boolean> {
    const user = this.state().users.get(userName)
    if (user === undefined || user.noPassword) return Promise.resolve(false)
    return this.passwords.check(user.name, user.passwordHash, password)
  }
}

/** Throws PermissionDenied unless the principal (undefined: auth is off) may do all of `needs`. */
export function requireAccess(principal: Principal | undefined, needs: KeyAccess[]): void {
  if (principal === undefined) return
  if (!allAllowed(principal.permissions, needs)) throw new CairnError('PermissionDenied')
}

/** Throws PermissionDenied unless the principal holds the root role (or auth is off). */
export function requireRoot(principal: Principal | undefined): void {
  if (principal === undefined || principal.permissions.root) return
  throw new CairnError('PermissionDenied', `${principal.user} lacks the ${rootRole} role`)
}
