// The one registry of Cairn's errors. Every error a library reports to a caller is a CairnError with a
// stable string `code`; the HTTP front door turns it into etcd's gateway shape ({error, code, message})
// with the HTTP status below, and the client turns that shape back into the same class. Where etcd has
// an error for the same condition we keep etcd's exact message and gRPC code, because users' scripts
// and etcd clients match on them.
//
// Programmer errors (broken invariants) are not listed here: they are thrown as plain Errors / asserts.

/** gRPC status codes (google.golang.org/grpc/codes); etcd's v3 gateway reports these in `code`. */
export const GrpcCode = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const

export type GrpcCodeNumber = (typeof GrpcCode)[keyof typeof GrpcCode]

/** The HTTP status grpc-gateway (and so etcd's JSON API) answers for each gRPC code. */
export function httpStatusOfGrpcCode(code: GrpcCodeNumber): number {
  switch (code) {
    case GrpcCode.OK:
      return 200
    case GrpcCode.Canceled:
      return 408
    case GrpcCode.InvalidArgument:
    case GrpcCode.FailedPrecondition:
    case GrpcCode.OutOfRange:
      return 400
    case GrpcCode.DeadlineExceeded:
      return 504
    case GrpcCode.NotFound:
      return 404
    case GrpcCode.AlreadyExists:
    case GrpcCode.Aborted:
      return 409
    case GrpcCode.PermissionDenied:
      return 403
    case GrpcCode.Unauthenticated:
      return 401
    case GrpcCode.ResourceExhausted:
      return 429
    case GrpcCode.Unimplemented:
      return 501
    case GrpcCode.Unavailable:
      return 503
    default:
      return 500
  }
}

interface ErrorDefinition {
  grpcCode: GrpcCodeNumber
  /** etcd's message where etcd has this error (kept byte for byte), else Cairn's own. */
  message: string
  /** True when the same request may succeed if retried later or on another member. */
  retryable?: true
}

const G = GrpcCode

/**
 * The registry. Codes are stable: never rename or reuse one. docs/mvcc.md lists them (a test keeps the
 * two in step).
 */
export const errorDefinitions = {
  // Bad input (checked before anything is written).
  InvalidArgument: { grpcCode: G.InvalidArgument, message: 'cairn: invalid argument' },
  EmptyKey: { grpcCode: G.InvalidArgument, message: 'etcdserver: key is not provided' },
  KeyTooLarge: { grpcCode: G.InvalidArgument, message: 'cairn: key is too large' },
  ValueTooLarge: { grpcCode: G.InvalidArgument, message: 'cairn: value is too large' },
  RequestTooLarge: { grpcCode: G.InvalidArgument, message: 'etcdserver: request is too large' },
  TooManyOps: { grpcCode: G.InvalidArgument, message: 'etcdserver: too many operations in txn request' },
  DuplicateKey: { grpcCode: G.InvalidArgument, message: 'etcdserver: duplicate key given in txn request' },
  InvalidSortOption: { grpcCode: G.InvalidArgument, message: 'etcdserver: invalid sort option' },
  ValueProvided: { grpcCode: G.InvalidArgument, message: 'etcdserver: value is provided' },
  LeaseProvided: { grpcCode: G.InvalidArgument, message: 'etcdserver: lease is provided' },
  // Keyspace state.
  KeyNotFound: { grpcCode: G.InvalidArgument, message: 'etcdserver: key not found' },
  Compacted: { grpcCode: G.OutOfRange, message: 'etcdserver: mvcc: required revision has been compacted' },
  FutureRevision: { grpcCode: G.OutOfRange, message: 'etcdserver: mvcc: required revision is a future revision' },
  NoSpace: { grpcCode: G.ResourceExhausted, message: 'etcdserver: mvcc: database space exceeded' },
  // Leases.
  LeaseNotFound: { grpcCode: G.NotFound, message: 'etcdserver: requested lease not found' },
  LeaseExists: { grpcCode: G.FailedPrecondition, message: 'etcdserver: lease already exists' },
  LeaseTtlTooLarge: { grpcCode: G.OutOfRange, message: 'etcdserver: too large lease TTL' },
  // Watches.
  WatchCanceled: { grpcCode: G.Canceled, message: 'cairn: watch canceled' },
  // Cluster and member state.
  NotLeader: { grpcCode: G.FailedPrecondition, message: 'etcdserver: not leader', retryable: true },
  NoLeader: { grpcCode: G.Unavailable, message: 'etcdserver: no leader', retryable: true },
  LeaderChanged: { grpcCode: G.Unavailable, message: 'etcdserver: leader changed', retryable: true },
  NotCapable: { grpcCode: G.Unavailable, message: 'etcdserver: not capable' },
  Stopped: { grpcCode: G.Unavailable, message: 'etcdserver: server stopped', retryable: true },
  Timeout: { grpcCode: G.Unavailable, message: 'etcdserver: request timed out', retryable: true },
  TimeoutDueToLeaderFail: {
    grpcCode: G.Unavailable,
    message: 'etcdserver: request timed out, possibly due to previous leader failure',
    retryable: true,
  },
  TimeoutDueToConnectionLost: {
    grpcCode: G.Unavailable,
    message: 'etcdserver: request timed out, possibly due to connection lost',
    retryable: true,
  },
  Unhealthy: { grpcCode: G.Unavailable, message: 'etcdserver: unhealthy cluster', retryable: true },
  TooManyRequests: { grpcCode: G.ResourceExhausted, message: 'etcdserver: too many requests', retryable: true },
  NotSupportedForLearner: { grpcCode: G.Unavailable, message: 'etcdserver: rpc not supported for learner', retryable: true },
  BadLeaderTransferee: { grpcCode: G.FailedPrecondition, message: 'etcdserver: bad leader transferee' },
  Corrupt: { grpcCode: G.DataLoss, message: 'etcdserver: corrupt cluster' },
  CorruptData: { grpcCode: G.DataLoss, message: 'cairn: stored data is corrupt' },
  // Membership.
  MemberExists: { grpcCode: G.FailedPrecondition, message: 'etcdserver: member ID already exist' },
  PeerUrlExists: { grpcCode: G.FailedPrecondition, message: 'etcdserver: Peer URLs already exists' },
  MemberNotEnoughStarted: {
    grpcCode: G.FailedPrecondition,
    message: 'etcdserver: re-configuration failed due to not enough started members',
  },
  MemberBadUrls: { grpcCode: G.InvalidArgument, message: 'etcdserver: given member URLs are invalid' },
  MemberNotFound: { grpcCode: G.NotFound, message: 'etcdserver: member not found' },
  MemberNotLearner: { grpcCode: G.FailedPrecondition, message: 'etcdserver: can only promote a learner member' },
  LearnerNotReady: {
    grpcCode: G.FailedPrecondition,
    message: 'etcdserver: can only promote a learner member which is in sync with leader',
  },
  TooManyLearners: { grpcCode: G.FailedPrecondition, message: 'etcdserver: too many learner members in cluster' },
  // Authentication.
  AuthNotEnabled: { grpcCode: G.FailedPrecondition, message: 'etcdserver: authentication is not enabled' },
  AuthFailed: { grpcCode: G.InvalidArgument, message: 'etcdserver: authentication failed, invalid user ID or password' },
  InvalidAuthToken: { grpcCode: G.Unauthenticated, message: 'etcdserver: invalid auth token' },
  PermissionDenied: { grpcCode: G.PermissionDenied, message: 'etcdserver: permission denied' },
  RootUserNotExist: { grpcCode: G.FailedPrecondition, message: 'etcdserver: root user does not exist' },
  UserAlreadyExists: { grpcCode: G.FailedPrecondition, message: 'etcdserver: user name already exists' },
  UserEmpty: { grpcCode: G.InvalidArgument, message: 'etcdserver: user name is empty' },
  UserNotFound: { grpcCode: G.FailedPrecondition, message: 'etcdserver: user name not found' },
  RoleAlreadyExists: { grpcCode: G.FailedPrecondition, message: 'etcdserver: role name already exists' },
  RoleNotFound: { grpcCode: G.FailedPrecondition, message: 'etcdserver: role name not found' },
  RoleEmpty: { grpcCode: G.InvalidArgument, message: 'etcdserver: role name is empty' },
  RoleNotGranted: { grpcCode: G.FailedPrecondition, message: 'etcdserver: role is not granted to the user' },
  PermissionNotGranted: { grpcCode: G.FailedPrecondition, message: 'etcdserver: permission is not granted to the role' },
  RootRoleNotExist: { grpcCode: G.FailedPrecondition, message: 'etcdserver: root user does not have root role' },
  InvalidAuthMgmt: { grpcCode: G.FailedPrecondition, message: 'etcdserver: invalid auth management' },
  AuthOldRevision: { grpcCode: G.InvalidArgument, message: 'etcdserver: revision of auth store is old' },
  /** No credentials at all while auth is enabled (etcd answers UserEmpty with 400; Cairn says 401). */
  AuthRequired: { grpcCode: G.Unauthenticated, message: 'cairn: authentication required' },
} as const satisfies Record<string, ErrorDefinition>

export type ErrorCode = keyof typeof errorDefinitions

export const errorCodes = Object.keys(errorDefinitions) as ErrorCode[]

/** The body etcd's v3 JSON gateway answers for an error. */
export interface EtcdErrorBody {
  error: string
  code: number
  message: string
}

/**
 * Base of every error a Cairn library reports. `message` is the registry's (etcd's) message so it can
 * be matched on; `detail` says what exactly was wrong with this request.
 */
export class CairnError extends Error {
  readonly code: ErrorCode
  readonly grpcCode: GrpcCodeNumber
  readonly httpStatus: number
  readonly retryable: boolean
  readonly detail: string | undefined

  constructor(code: ErrorCode, detail?: string) {
    const definition: ErrorDefinition = errorDefinitions[code]
    super(definition.message)
    this.name = 'CairnError'
    this.code = code
    this.grpcCode = definition.grpcCode
    this.httpStatus = httpStatusOfGrpcCode(definition.grpcCode)
    this.retryable = definition.retryable === true
    this.detail = detail
  }

  /** etcd's gateway shape. Cairn-only errors append the detail so the caller learns what was wrong. */
  toEtcdBody(): EtcdErrorBody {
    const message = this.detail !== undefined && !this.message.startsWith('etcdserver:') ? `${this.message}: ${this.detail}` : this.message
    return { error: message, code: this.grpcCode, message }
  }
}

export class InvalidArgumentError extends CairnError {
  constructor(detail: string) {
    super('InvalidArgument', detail)
  }
}

export class EmptyKeyError extends CairnError {
  constructor(detail?: string) {
    super('EmptyKey', detail)
  }
}

export class KeyTooLargeError extends CairnError {
  constructor(readonly sizeBytes: number, readonly sizeBytesMax: number) {
    super('KeyTooLarge', `key of ${sizeBytes} bytes, at most ${sizeBytesMax} allowed`)
  }
}

export class ValueTooLargeError extends CairnError {
  constructor(readonly sizeBytes: number, readonly sizeBytesMax: number) {
    super('ValueTooLarge', `value of ${sizeBytes} bytes, at most ${sizeBytesMax} allowed`)
  }
}

export class RequestTooLargeError extends CairnError {
  constructor(detail?: string) {
    super('RequestTooLarge', detail)
  }
}

export class TooManyOpsError extends CairnError {
  constructor(readonly count: number, readonly countMax: number) {
    super('TooManyOps', `${count} operations in one list, at most ${countMax} allowed`)
  }
}

export class DuplicateKeyError extends CairnError {
  constructor(detail?: string) {
    super('DuplicateKey', detail)
  }
}

export class InvalidSortOptionError extends CairnError {
  constructor(detail?: string) {
    super('InvalidSortOption', detail)
  }
}

export class ValueProvidedError extends CairnError {
  constructor() {
    super('ValueProvided')
  }
}

export class LeaseProvidedError extends CairnError {
  constructor() {
    super('LeaseProvided')
  }
}

export class KeyNotFoundError extends CairnError {
  constructor(detail?: string) {
    super('KeyNotFound', detail)
  }
}

/** A read or watch asked for history the store has compacted; `compactRevision` is the oldest still kept. */
export class CompactedError extends CairnError {
  constructor(readonly compactRevision: number) {
    super('Compacted', `compacted at revision ${compactRevision}`)
  }
}

export class FutureRevisionError extends CairnError {
  constructor(readonly revision: number, readonly currentRevision: number) {
    super('FutureRevision', `revision ${revision} is beyond the current revision ${currentRevision}`)
  }
}

export class LeaseNotFoundError extends CairnError {
  constructor(readonly leaseId: number) {
    super('LeaseNotFound', `lease ${leaseId}`)
  }
}

export class LeaseExistsError extends CairnError {
  constructor(readonly leaseId: number) {
    super('LeaseExists', `lease ${leaseId}`)
  }
}

export class LeaseTtlTooLargeError extends CairnError {
  constructor(readonly ttlSeconds: number, readonly ttlSecondsMax: number) {
    super('LeaseTtlTooLarge', `TTL ${ttlSeconds} s, at most ${ttlSecondsMax} s allowed`)
  }
}

export class WatchCanceledError extends CairnError {
  constructor(detail?: string) {
    super('WatchCanceled', detail)
  }
}

export class NotLeaderError extends CairnError {
  /** `leaderId` is 0 when the member does not know the leader. */
  constructor(readonly leaderId = 0) {
    super('NotLeader', leaderId === 0 ? undefined : `leader is ${leaderId}`)
  }
}

export class NoLeaderError extends CairnError {
  constructor() {
    super('NoLeader')
  }
}

export class TimeoutError extends CairnError {
  constructor(detail?: string) {
    super('Timeout', detail)
  }
}

/** Stored bytes failed to decode or verify: the member must stop rather than serve them. */
export class CorruptDataError extends CairnError {
  constructor(readonly location: string, reason: string) {
    super('CorruptData', `${location}: ${reason}`)
  }
}

const codeByEtcdMessage = new Map<string, ErrorCode>(
  errorCodes.map((code) => [errorDefinitions[code].message, code] as const),
)

/**
 * Rebuilds an error from etcd's gateway body (what the client receives). Unknown messages become an
 * InvalidArgument/Unknown-coded CairnError carrying the server's text as detail.
 */
export function errorFromEtcdBody(body: { code?: number; message?: string; error?: string }): CairnError {
  const text = body.message ?? body.error ?? ''
  const exact = codeByEtcdMessage.get(text)
  if (exact !== undefined) return new CairnError(exact)
  for (const [message, code] of codeByEtcdMessage) {
    if (text.startsWith(`${message}: `)) return new CairnError(code, text.slice(message.length + 2))
  }
  return new InvalidArgumentError(text)
}
