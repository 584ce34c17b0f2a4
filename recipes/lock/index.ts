// Locks with fencing tokens, and the sessions (kept-alive leases) they are bound to.

export { Lock, LockHold, AlreadyQueuedError } from './lock.ts'
export type { LockOptions, AcquireOptions } from './lock.ts'
export { Session, SessionLostError, SESSION_TTL_SECONDS_DEFAULT } from './session.ts'
export type { SessionOptions } from './session.ts'
export { Ownership, LockLostError, ReleasedError } from './ownership.ts'
export { guardedTxn, guardedPut, fencedPut, fenceKeyOf, encodeToken } from './fence.ts'
export type { Fenced, FencedPutResult } from './fence.ts'
export { decideQueue } from './decide.ts'
export type { QueueState, QueueAction } from './decide.ts'
export { enqueue, waitTurn, keyFor } from './queue.ts'
export { FAILPOINTS, failpointEnabled } from './failpoints.ts'
export type { Failpoint } from './failpoints.ts'
