// An assignment's value: the job spec it was made for and the job key's revision. Carrying the spec
// lets an agent run its work while watching only its own assign prefix (never the jobs), and the
// revision tells it when the spec changed and the replica must be restarted.

import { encodeJobSpec, parseJobSpec } from './spec.ts'
import type { JobSpec } from './spec.ts'

export interface Assignment {
  spec: JobSpec
  /** Mod revision of the job key the spec was read from. */
  revision: number
}

export function encodeAssignment(a: Assignment): string {
  return `{"revision":${a.revision},"spec":${encodeJobSpec(a.spec)}}`
}

/** Decodes an assignment; throws TypeError/RangeError for a malformed one. */
export function parseAssignment(text: string): Assignment {
  const v = JSON.parse(text) as { revision?: unknown; spec?: unknown }
  if (typeof v !== 'object' || v === null) throw new TypeError('assignment: expected a JSON object')
  if (typeof v.revision !== 'number' || !Number.isSafeInteger(v.revision) || v.revision < 0) throw new TypeError('assignment: bad revision')
  return { revision: v.revision, spec: parseJobSpec(v.spec) }
}
