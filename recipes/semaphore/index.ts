// The reboot semaphore (locksmith's layout and value), with optional holder liveness.

export { Semaphore, SemaphoreFullError, NotHolderError, SemaphoreConflictError, OPERATION_TIMEOUT_MS_DEFAULT } from './semaphore.ts'
export type { SemaphoreOptions, SemaphoreSnapshot, SemaphoreStatus } from './semaphore.ts'
export {
  KEY_PREFIX,
  decideLock,
  decidePrune,
  decideSetMax,
  decideUnlock,
  encodeValue,
  holderKey,
  livenessMarkerKey,
  parseValue,
  queryEscape,
  semaphoreDir,
  semaphoreKey,
} from './value.ts'
export type { SemaphoreValue, LockDecision, UnlockDecision } from './value.ts'
