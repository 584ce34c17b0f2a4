// The counters /v2/stats/store answers, kept by this member's v2 API (etcd's are kept by each
// member's v2 store too, so they differ between members in etcd as well).

import type { WriteOperation } from './request.ts'

type Counted = 'get' | WriteOperation['type'] | 'expire'

const names: Record<Exclude<Counted, 'expire'>, [string, string]> = {
  get: ['getsSuccess', 'getsFail'],
  set: ['setsSuccess', 'setsFail'],
  delete: ['deleteSuccess', 'deleteFail'],
  update: ['updateSuccess', 'updateFail'],
  create: ['createSuccess', 'createFail'],
  compareAndSwap: ['compareAndSwapSuccess', 'compareAndSwapFail'],
  compareAndDelete: ['compareAndDeleteSuccess', 'compareAndDeleteFail'],
}

export class V2Stats {
  private readonly counts = new Map<string, number>()
  /** v2 watches waiting right now. */
  watchers = 0

  count(what: Counted, succeeded: boolean): void {
    const name = what === 'expire' ? 'expireCount' : names[what][succeeded ? 0 : 1]
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1)
  }

  /** etcd's JSON, fields in etcd's order. */
  toJson(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [success, fail] of Object.values(names)) {
      out[success] = this.counts.get(success) ?? 0
      out[fail] = this.counts.get(fail) ?? 0
    }
    out.expireCount = this.counts.get('expireCount') ?? 0
    out.watchers = this.watchers
    return out
  }
}
