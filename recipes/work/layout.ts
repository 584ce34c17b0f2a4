// The key layout of work assignment (a contract: see docs/work.md). Everything lives under one prefix
// so that the scheduler reads the whole picture in one consistent range, and each agent watches only
// its own `assign/<machine>/` prefix (fleet woke every agent on every change).
//
//   /cairn/work/jobs/<job>                       desired work (JSON JobSpec)
//   /cairn/work/machines/<machine>               presence (JSON MachineInfo), bound to the agent's lease
//   /cairn/work/assign/<machine>/<job>#<replica> written only by the elected scheduler, fenced
//   /cairn/work/status/<machine>/<job>#<replica> what runs (JSON ReplicaStatus), bound to the agent's lease
//   /cairn/work/scheduler/<lease hex>            the scheduler election

export const WORK_PREFIX = '/cairn/work/'
export const JOBS_PREFIX = `${WORK_PREFIX}jobs/`
export const MACHINES_PREFIX = `${WORK_PREFIX}machines/`
export const ASSIGN_PREFIX = `${WORK_PREFIX}assign/`
export const STATUS_PREFIX = `${WORK_PREFIX}status/`
export const ELECTION_NAME = `${WORK_PREFIX}scheduler`

/** Job and machine names: one path segment, no `#` (it separates job from replica), DNS-label-like. */
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/
export const NAME_LENGTH_MAX = 63

/** Throws TypeError naming `what` unless `name` is a valid job or machine name. */
export function checkName(what: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new TypeError(
      `${what}: expected 1-${NAME_LENGTH_MAX} letters, digits, '.', '_' or '-' (starting with a letter or digit), got ${JSON.stringify(name)}`,
    )
  }
  return name
}

/** One replica of a job: `web#0`, or for a global job the machine it belongs to (`agentd#m1`). */
export interface ReplicaRef {
  job: string
  replica: string
}

export function replicaId(r: ReplicaRef): string {
  return `${r.job}#${r.replica}`
}

export function jobKey(job: string): string {
  return JOBS_PREFIX + job
}

export function machineKey(machine: string): string {
  return MACHINES_PREFIX + machine
}

export function assignPrefixOf(machine: string): string {
  return `${ASSIGN_PREFIX}${machine}/`
}

export function assignKey(machine: string, r: ReplicaRef): string {
  return assignPrefixOf(machine) + replicaId(r)
}

export function statusPrefixOf(machine: string): string {
  return `${STATUS_PREFIX}${machine}/`
}

export function statusKey(machine: string, r: ReplicaRef): string {
  return statusPrefixOf(machine) + replicaId(r)
}

/** `<machine>/<job>#<replica>` below an assign or status prefix; undefined for a key of another shape. */
export function parseReplicaKey(prefix: string, key: string): ({ machine: string } & ReplicaRef) | undefined {
  if (!key.startsWith(prefix)) return undefined
  const rest = key.slice(prefix.length)
  const m = /^([^/]+)\/([^/#]+)#([^/#]+)$/.exec(rest)
  if (!m || !NAME_RE.test(m[1]!) || !NAME_RE.test(m[2]!) || !NAME_RE.test(m[3]!)) return undefined
  return { machine: m[1]!, job: m[2]!, replica: m[3]! }
}

/** The name after a one-level prefix (`jobs/`, `machines/`); undefined for anything else. */
export function parseNameKey(prefix: string, key: string): string | undefined {
  if (!key.startsWith(prefix)) return undefined
  const name = key.slice(prefix.length)
  return NAME_RE.test(name) ? name : undefined
}
