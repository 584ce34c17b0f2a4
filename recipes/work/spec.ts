// A job's spec: what to run, how many, where it may run and what it needs. Parsed from untrusted JSON
// (a file given to `cairn work submit`, or a key someone wrote by hand) into a complete, canonical
// object; every problem is one TypeError/RangeError line naming the field. Unknown fields are refused
// so that a typo (`"replica": 3`) is not silently ignored.

import { checkName } from './layout.ts'

export type RestartPolicy = 'always' | 'on-failure' | 'never'
export const RESTART_POLICIES: readonly RestartPolicy[] = ['always', 'on-failure', 'never']

/** Abstract units a machine offers and a replica needs; what a unit means is the operator's choice. */
export interface Resources {
  cpu: number
  memory: number
}
export const RESOURCE_NAMES: ReadonlyArray<keyof Resources> = ['cpu', 'memory']

export interface Constraints {
  /** Every label here must be on the machine with this value. */
  labels: Record<string, string>
  /** Jobs that must not share a machine with this one (either side declaring it is enough). */
  conflicts: string[]
}

export interface JobSpec {
  name: string
  /** argv: the program and its arguments (no shell unless you run one). */
  command: string[]
  env: Record<string, string>
  /** Working directory of the process; the agent's when absent. */
  workingDir: string | undefined
  /** Replicas to run (ignored for a global job). */
  replicas: number
  /** One replica on every machine that satisfies the constraints. */
  global: boolean
  constraints: Constraints
  resources: Resources
  restart: RestartPolicy
}

export const REPLICAS_MAX = 1000
export const SPEC_BYTES_MAX = 64 * 1024
const ENTRIES_MAX = 256
const STRING_BYTES_MAX = 4096
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$/
const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const FIELDS = new Set(['name', 'command', 'env', 'workingDir', 'replicas', 'global', 'constraints', 'resources', 'restart'])

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function shortString(field: string, v: unknown, allowEmpty = false): string {
  if (typeof v !== 'string' || (!allowEmpty && v === '')) throw new TypeError(`${field}: expected a${allowEmpty ? '' : ' non-empty'} string, got ${JSON.stringify(v)}`)
  if (Buffer.byteLength(v) > STRING_BYTES_MAX) throw new RangeError(`${field}: longer than ${STRING_BYTES_MAX} bytes`)
  return v
}

function checkUnknown(field: string, o: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const k of Object.keys(o)) if (!known.has(k)) throw new TypeError(`${field}unknown field ${JSON.stringify(k)} (expected one of ${[...known].join(', ')})`)
}

/** A label key or value (machine labels and job constraints share the rule). */
export function checkLabel(field: string, v: unknown): string {
  if (typeof v !== 'string' || !LABEL_RE.test(v)) throw new TypeError(`${field}: expected 1-63 letters, digits, '.', '_', '/' or '-', got ${JSON.stringify(v)}`)
  return v
}

export function parseLabelMap(field: string, v: unknown): Record<string, string> {
  if (v === undefined) return {}
  if (!isObject(v)) throw new TypeError(`${field}: expected an object of label: value, got ${JSON.stringify(v)}`)
  const entries = Object.entries(v)
  if (entries.length > ENTRIES_MAX) throw new RangeError(`${field}: more than ${ENTRIES_MAX} labels`)
  const out: Record<string, string> = {}
  for (const [k, val] of entries) out[checkLabel(`${field} key`, k)] = checkLabel(`${field}.${k}`, val)
  return out
}

/** Resource amounts: each a finite number >= 0; absent ones are 0 (for a need) or the caller decides. */
export function parseResources(field: string, v: unknown): Partial<Resources> {
  if (v === undefined) return {}
  if (!isObject(v)) throw new TypeError(`${field}: expected an object such as {"cpu": 1, "memory": 256}, got ${JSON.stringify(v)}`)
  checkUnknown(`${field}: `, v, new Set(RESOURCE_NAMES))
  const out: Partial<Resources> = {}
  for (const name of RESOURCE_NAMES) {
    const n = v[name]
    if (n === undefined) continue
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0 || n > 1e12) throw new RangeError(`${field}.${name}: expected a number >= 0, got ${JSON.stringify(n)}`)
    out[name] = n
  }
  return out
}

function parseCommand(v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0) throw new TypeError(`command: expected a non-empty array of strings (program and arguments), got ${JSON.stringify(v)}`)
  if (v.length > ENTRIES_MAX) throw new RangeError(`command: more than ${ENTRIES_MAX} arguments`)
  return v.map((a, i) => shortString(`command[${i}]`, a, i > 0))
}

function parseEnv(v: unknown): Record<string, string> {
  if (v === undefined) return {}
  if (!isObject(v)) throw new TypeError(`env: expected an object of NAME: value, got ${JSON.stringify(v)}`)
  const entries = Object.entries(v)
  if (entries.length > ENTRIES_MAX) throw new RangeError(`env: more than ${ENTRIES_MAX} variables`)
  const out: Record<string, string> = {}
  for (const [k, val] of entries) {
    if (!ENV_NAME_RE.test(k)) throw new TypeError(`env: expected variable names such as HTTP_PORT, got ${JSON.stringify(k)}`)
    out[k] = shortString(`env.${k}`, val, true)
  }
  return out
}

function parseConstraints(v: unknown): Constraints {
  if (v === undefined) return { labels: {}, conflicts: [] }
  if (!isObject(v)) throw new TypeError(`constraints: expected an object with labels and/or conflicts, got ${JSON.stringify(v)}`)
  checkUnknown('constraints: ', v, new Set(['labels', 'conflicts']))
  const conflicts = v.conflicts ?? []
  if (!Array.isArray(conflicts)) throw new TypeError(`constraints.conflicts: expected an array of job names, got ${JSON.stringify(conflicts)}`)
  if (conflicts.length > ENTRIES_MAX) throw new RangeError(`constraints.conflicts: more than ${ENTRIES_MAX} jobs`)
  return {
    labels: parseLabelMap('constraints.labels', v.labels),
    conflicts: [...new Set(conflicts.map((c, i) => checkName(`constraints.conflicts[${i}]`, c)))].sort(),
  }
}

/** Validates a decoded JSON value as a job spec; throws TypeError/RangeError with one line. */
export function parseJobSpec(v: unknown): JobSpec {
  if (!isObject(v)) throw new TypeError(`job spec: expected a JSON object, got ${Array.isArray(v) ? 'an array' : JSON.stringify(v)}`)
  checkUnknown('job spec: ', v, FIELDS)
  const name = checkName('name', v.name)
  const global = v.global ?? false
  if (typeof global !== 'boolean') throw new TypeError(`global: expected true or false, got ${JSON.stringify(global)}`)
  const replicas = v.replicas ?? 1
  if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 0 || replicas > REPLICAS_MAX) {
    throw new RangeError(`replicas: expected a whole number in [0, ${REPLICAS_MAX}], got ${JSON.stringify(replicas)}`)
  }
  if (global && v.replicas !== undefined) throw new TypeError('replicas: a global job runs one replica per machine; give either global or replicas')
  const restart = v.restart ?? 'always'
  if (!RESTART_POLICIES.includes(restart as RestartPolicy)) throw new TypeError(`restart: expected one of ${RESTART_POLICIES.join(', ')}, got ${JSON.stringify(restart)}`)
  const constraints = parseConstraints(v.constraints)
  if (constraints.conflicts.includes(name)) throw new TypeError(`constraints.conflicts: a job cannot conflict with itself (${name})`)
  const need = parseResources('resources', v.resources)
  return {
    name,
    command: parseCommand(v.command),
    env: parseEnv(v.env),
    workingDir: v.workingDir === undefined ? undefined : shortString('workingDir', v.workingDir),
    replicas: global ? 0 : replicas,
    global,
    constraints,
    resources: { cpu: need.cpu ?? 0, memory: need.memory ?? 0 },
    restart: restart as RestartPolicy,
  }
}

/** Parses the text of a spec (a file, a key's value); one-line errors, including for bad JSON. */
export function parseJobSpecText(text: string): JobSpec {
  if (Buffer.byteLength(text) > SPEC_BYTES_MAX) throw new RangeError(`job spec: larger than ${SPEC_BYTES_MAX} bytes`)
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw new TypeError(`job spec: not valid JSON (${(e as Error).message.split('\n')[0]})`)
  }
  return parseJobSpec(v)
}

/** The canonical JSON of a spec (what is stored; parseJobSpecText gives it back unchanged). */
export function encodeJobSpec(spec: JobSpec): string {
  const o: Record<string, unknown> = { name: spec.name, command: spec.command, env: spec.env }
  if (spec.workingDir !== undefined) o.workingDir = spec.workingDir
  if (spec.global) o.global = true
  else o.replicas = spec.replicas
  o.constraints = spec.constraints
  o.resources = spec.resources
  o.restart = spec.restart
  return JSON.stringify(o)
}

/** Replica names a job wants, for a non-global job: "0" … "replicas-1". */
export function replicaNames(spec: JobSpec): string[] {
  return Array.from({ length: spec.replicas }, (_, i) => String(i))
}
