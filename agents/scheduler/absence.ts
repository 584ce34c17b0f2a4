// How long each machine has been missing, as this scheduler has seen it. A machine that still has
// assignments or statuses but no presence key is "absent" from the first read that missed it. A
// newly elected scheduler starts with no history, so it gives every missing machine a whole grace
// period again: a scheduler failover never shortens anybody's grace.

import type { Absence } from '../../recipes/work/decide.ts'
import type { MachineInfo } from '../../recipes/work/machine.ts'

export class AbsenceTracker {
  private readonly absent = new Map<string, Absence>()
  /** Stop timeouts announced by machines, remembered after they vanish. */
  private readonly stopTimeoutMs = new Map<string, number>()

  /** Updates from one read; returns the absent machines that still hold work. */
  update(present: ReadonlyMap<string, MachineInfo>, referenced: Iterable<string>, nowMs: number): ReadonlyMap<string, Absence> {
    for (const [id, m] of present) {
      this.absent.delete(id)
      this.stopTimeoutMs.set(id, m.stopTimeoutMs)
    }
    const missing = new Set([...referenced].filter((id) => !present.has(id)))
    for (const id of missing) {
      if (!this.absent.has(id)) this.absent.set(id, { sinceMs: nowMs, stopTimeoutMs: this.stopTimeoutMs.get(id) ?? 0 })
    }
    for (const id of [...this.absent.keys()]) if (!missing.has(id)) this.absent.delete(id)
    for (const id of [...this.stopTimeoutMs.keys()]) if (!present.has(id) && !missing.has(id)) this.stopTimeoutMs.delete(id)
    return this.absent
  }

  /** When the next grace period runs out (ms since 1970), or undefined. */
  nextExpiry(graceMs: number): number | undefined {
    let next: number | undefined
    for (const a of this.absent.values()) {
      const at = a.sinceMs + Math.max(graceMs, a.stopTimeoutMs)
      if (next === undefined || at < next) next = at
    }
    return next
  }
}
