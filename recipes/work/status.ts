// What an agent reports for each replica it runs, under status/<machine>/<job>#<replica>, bound to
// its lease (a dead machine's status vanishes with it). A status key also means "a process may still
// be running here": the scheduler places a replica nowhere else while one exists.

export type ReplicaState = 'starting' | 'running' | 'exited' | 'failed'
export const REPLICA_STATES: readonly ReplicaState[] = ['starting', 'running', 'exited', 'failed']

export interface ReplicaStatus {
  state: ReplicaState
  /** 0 when no process runs. */
  pid: number
  /** Exit code of the last run (null: none yet, or killed by a signal). */
  exitCode: number | null
  /** Signal that ended the last run, if any. */
  signal: string | null
  restarts: number
  /** When the state was entered (ms since 1970). */
  since: number
  /** The assignment revision this run is for. */
  revision: number
  /** Why, for failed (e.g. the program could not be started). */
  message?: string
}

export function encodeStatus(s: ReplicaStatus): string {
  return JSON.stringify(s)
}

/** Decodes a status record; throws TypeError for a malformed one. */
export function parseStatus(text: string): ReplicaStatus {
  const v = JSON.parse(text) as Partial<ReplicaStatus>
  if (typeof v !== 'object' || v === null || !REPLICA_STATES.includes(v.state as ReplicaState)) throw new TypeError('status: bad state')
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : 0)
  const out: ReplicaStatus = {
    state: v.state as ReplicaState,
    pid: num(v.pid),
    exitCode: typeof v.exitCode === 'number' ? v.exitCode : null,
    signal: typeof v.signal === 'string' ? v.signal : null,
    restarts: num(v.restarts),
    since: num(v.since),
    revision: num(v.revision),
  }
  if (typeof v.message === 'string') out.message = v.message
  return out
}
