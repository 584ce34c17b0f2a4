// The etcd v2 API's errors: numeric codes with fixed messages and HTTP statuses, answered as
// {"errorCode", "message", "cause", "index"} with an `X-Etcd-Index` header. Clients (etcdctl, the
// Go v2 client, locksmith, confd) match on the numbers, so they are etcd's, byte for byte.
//
// These are not in core/errors.ts on purpose: the v2 shape is not the gateway shape, and the codes
// are etcd's numbers rather than Cairn's string codes. docs/api-v2.md lists them.

/** Every v2 error code etcd 3.4 can answer, with its message. */
export const v2ErrorMessages = {
  100: 'Key not found',
  101: 'Compare failed',
  102: 'Not a file',
  104: 'Not a directory',
  105: 'Key already exists',
  107: 'Root is read only',
  108: 'Directory not empty',
  110: 'The request requires user authentication',
  200: 'Value is Required in POST form',
  201: 'PrevValue is Required in POST form',
  202: 'The given TTL in POST form is not a number',
  203: 'The given index in POST form is not a number',
  209: 'Invalid field',
  210: 'Invalid POST form',
  211: 'Value provided on refresh',
  212: 'A TTL must be provided on refresh',
  300: 'Raft Internal Error',
  301: 'During Leader Election',
  400: 'watcher is cleared due to etcd recovery',
  401: 'The event in requested index is outdated and cleared',
} as const

export type V2ErrorCode = keyof typeof v2ErrorMessages

/** Named codes, so call sites read as what went wrong. */
export const V2Code = {
  KeyNotFound: 100,
  TestFailed: 101,
  NotFile: 102,
  NotDir: 104,
  NodeExist: 105,
  RootReadOnly: 107,
  DirNotEmpty: 108,
  PrevValueRequired: 201,
  TtlNaN: 202,
  IndexNaN: 203,
  InvalidField: 209,
  InvalidForm: 210,
  RefreshValue: 211,
  RefreshTtlRequired: 212,
  RaftInternal: 300,
  LeaderElect: 301,
  EventIndexCleared: 401,
} as const satisfies Record<string, V2ErrorCode>

/** etcd's statuses; every code not listed is 400 (so 104 and 107 are 400, as etcd answers them). */
const statusOfCode: Partial<Record<V2ErrorCode, number>> = {
  100: 404,
  101: 412,
  102: 403,
  105: 412,
  108: 403,
  110: 401,
  300: 500,
  301: 500,
}

export function v2HttpStatus(code: V2ErrorCode): number {
  return statusOfCode[code] ?? 400
}

export interface V2ErrorBody {
  errorCode: number
  message: string
  cause?: string
  index: number
}

export class V2Error extends Error {
  readonly errorCode: V2ErrorCode
  override readonly cause: string
  /** The store index the error was decided at (0 for errors in the request itself). */
  index: number

  constructor(code: V2ErrorCode, cause: string, index: number) {
    super(v2ErrorMessages[code])
    this.name = 'V2Error'
    this.errorCode = code
    this.cause = cause
    this.index = index
  }

  get httpStatus(): number {
    return v2HttpStatus(this.errorCode)
  }

  /** etcd leaves out an empty cause. Field order is etcd's. */
  toBody(): V2ErrorBody {
    const body: V2ErrorBody = { errorCode: this.errorCode, message: this.message, index: this.index }
    if (this.cause === '') return body
    return { errorCode: this.errorCode, message: this.message, cause: this.cause, index: this.index }
  }
}

/** An error in the request itself: etcd reports these with index 0. */
export function requestError(code: V2ErrorCode, cause: string): V2Error {
  return new V2Error(code, cause, 0)
}
