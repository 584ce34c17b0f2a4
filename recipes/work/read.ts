// Reading the work keyspace: the whole /cairn/work/ prefix in one linearizable range (so jobs,
// machines, assignments and statuses are one consistent picture at one revision), decoded. Used by
// the scheduler and by `cairn work ls|status|machines`. A key that cannot be decoded is reported, not
// fatal: a bad job spec written by hand must not stop the scheduler from serving the other jobs.

import type { Client } from '../../core/client/index.ts'
import { toText } from '../../core/client/index.ts'
import { parseAssignment } from './assignment.ts'
import type { JobEntry, PlacedAssignment, Placement } from './decide.ts'
import { ASSIGN_PREFIX, JOBS_PREFIX, MACHINES_PREFIX, parseNameKey, parseReplicaKey, STATUS_PREFIX, WORK_PREFIX } from './layout.ts'
import { parseMachineInfo } from './machine.ts'
import type { MachineInfo } from './machine.ts'
import { parseJobSpecText } from './spec.ts'
import { parseStatus } from './status.ts'
import type { ReplicaStatus } from './status.ts'

export interface StatusEntry extends Placement {
  /** Undefined when the value could not be decoded. */
  status: ReplicaStatus | undefined
}

export interface World {
  /** Revision of the read. */
  revision: number
  jobs: Map<string, JobEntry>
  machines: Map<string, MachineInfo>
  assignments: PlacedAssignment[]
  statuses: StatusEntry[]
  /** Keys that could not be decoded, with why. */
  bad: Array<{ key: string; error: string }>
}

/** Reads and decodes the work keyspace. */
export async function readWorld(client: Client, signal?: AbortSignal): Promise<World> {
  const r = await client.get(WORK_PREFIX, { prefix: true, ...(signal ? { signal } : {}) })
  const world: World = { revision: r.header.revision, jobs: new Map(), machines: new Map(), assignments: [], statuses: [], bad: [] }
  for (const kv of r.kvs) {
    const key = toText(kv.key)
    try {
      decodeInto(world, key, toText(kv.value), kv.modRevision)
    } catch (e) {
      world.bad.push({ key, error: (e as Error).message })
    }
  }
  return world
}

function decodeInto(world: World, key: string, value: string, modRevision: number): void {
  if (key.startsWith(JOBS_PREFIX)) {
    const name = parseNameKey(JOBS_PREFIX, key)
    if (name === undefined) throw new TypeError('not a job key')
    const spec = parseJobSpecText(value)
    if (spec.name !== name) throw new TypeError(`spec name ${JSON.stringify(spec.name)} differs from the key`)
    world.jobs.set(name, { spec, revision: modRevision })
  } else if (key.startsWith(MACHINES_PREFIX)) {
    const id = parseNameKey(MACHINES_PREFIX, key)
    if (id === undefined) throw new TypeError('not a machine key')
    world.machines.set(id, parseMachineInfo(id, value))
  } else if (key.startsWith(ASSIGN_PREFIX)) {
    const ref = parseReplicaKey(ASSIGN_PREFIX, key)
    if (ref === undefined) throw new TypeError('not an assignment key')
    let revision = -1
    try {
      revision = parseAssignment(value).revision
    } catch {
      // An unreadable assignment is still an assignment (it holds its replica); -1 gets it rewritten.
    }
    world.assignments.push({ ...ref, revision })
  } else if (key.startsWith(STATUS_PREFIX)) {
    const ref = parseReplicaKey(STATUS_PREFIX, key)
    if (ref === undefined) throw new TypeError('not a status key')
    let status: ReplicaStatus | undefined
    try {
      status = parseStatus(value)
    } catch {
      // Still a status: the replica may run there.
    }
    world.statuses.push({ ...ref, status })
  }
}
