// Errors the client raises on its own side of the wire. Errors the server reports come back as the
// registry's classes (core/errors.ts) through errorFromEtcdBody; these cover what only the client can
// know: a deadline passed, the caller aborted, no endpoint answered, or a write may or may not have
// been applied.

import { CairnError, CompactedError, errorFromEtcdBody } from '../errors.ts'

export type ClientErrorCode =
  | 'DeadlineExceeded'
  | 'Canceled'
  | 'Unavailable'
  | 'OutcomeUnknown'
  | 'Unimplemented'
  | 'BadResponse'
  | 'Closed'
  | 'LeaseExpired'

export class ClientError extends Error {
  readonly code: ClientErrorCode

  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ClientError'
    this.code = code
  }
}

/** The call's timeout passed (message as etcd's clients print it). `cause` is the last failure seen. */
export class DeadlineExceededError extends ClientError {
  constructor(cause?: unknown) {
    super('DeadlineExceeded', 'context deadline exceeded', cause === undefined ? undefined : { cause })
  }
}

/** The caller's AbortSignal fired. */
export class CanceledError extends ClientError {
  constructor(cause?: unknown) {
    super('Canceled', 'context canceled', cause === undefined ? undefined : { cause })
  }
}

/** No endpoint could be reached (and the call's retries are over). */
export class UnavailableError extends ClientError {
  constructor(detail: string, cause?: unknown) {
    super('Unavailable', `no endpoint available: ${detail}`, cause === undefined ? undefined : { cause })
  }
}

/**
 * A write that is not safe to repeat was sent, and no answer came back (the connection broke, the
 * member stopped, the request timed out inside the cluster, or the deadline passed). It may or may not
 * have been applied: the client does not retry it; read the keyspace to find out.
 */
export class OutcomeUnknownError extends ClientError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super('OutcomeUnknown', `outcome unknown for ${path}: ${describe(cause)}`, { cause })
  }
}

/** The member does not serve this path (HTTP 404): a newer server is needed. */
export class UnimplementedError extends ClientError {
  constructor(readonly path: string) {
    super('Unimplemented', `the server does not implement ${path}`)
  }
}

/** The server answered something that is not the expected shape. */
export class BadResponseError extends ClientError {
  constructor(detail: string) {
    super('BadResponse', `unexpected response: ${detail}`)
  }
}

/** The client (or the watch, or the keep-alive) was closed by its owner. */
export class ClosedError extends ClientError {
  constructor(what: string) {
    super('Closed', `${what} is closed`)
  }
}

/** A lease kept alive by the client is gone: it expired, was revoked, or could not be refreshed in time. */
export class LeaseExpiredError extends ClientError {
  constructor(
    readonly leaseId: number,
    reason: string,
  ) {
    super('LeaseExpired', `lease ${leaseId.toString(16)} lost: ${reason}`)
  }
}

export function describe(e: unknown): string {
  if (e instanceof Error) {
    const cause = (e as { cause?: unknown }).cause
    const code = (cause as { code?: unknown } | undefined)?.code
    return typeof code === 'string' ? `${e.message} (${code})` : e.message
  }
  return String(e)
}

/** Rebuilds a server error; a compaction error carries the compact revision when the body tells it. */
export function serverError(body: { code?: number; message?: string; error?: string }): CairnError {
  const err = errorFromEtcdBody(body)
  if (err.code === 'Compacted' && !(err instanceof CompactedError)) {
    const m = /compacted at revision (\d+)/.exec(err.detail ?? '')
    return new CompactedError(m ? Number(m[1]) : 0)
  }
  return err
}
