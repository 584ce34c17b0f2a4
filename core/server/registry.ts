// The cluster's membership as the member keeps it: who the members are (IDs, names, URLs) and this
// member's own identity. Stored under the 'c' prefix of the member's Db; changed only by applying
// committed entries (conf changes, publish requests), so every member holds the same registry.

import { Packr } from 'msgpackr'
import type { Db } from '../storage/index.ts'
import { WriteBatch, prefixRange } from '../storage/index.ts'
import { ownerPrefix } from '../storage/keys.ts'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

export interface MemberInfo {
  id: number
  name: string
  peerUrls: string[]
  clientUrls: string[]
  isLearner: boolean
}

export interface Identity {
  memberId: number
  clusterId: number
  name: string
}

const IDENTITY_KEY = Uint8Array.of(ownerPrefix.cluster, 0x69) // 'c' 'i'
const MEMBER_PREFIX = Uint8Array.of(ownerPrefix.cluster, 0x6d) // 'c' 'm'

function memberKey(id: number): Uint8Array {
  const key = new Uint8Array(MEMBER_PREFIX.length + 8)
  key.set(MEMBER_PREFIX)
  new DataView(key.buffer).setFloat64(MEMBER_PREFIX.length, id)
  return key
}

export class Registry {
  private readonly members = new Map<number, MemberInfo>()

  private constructor(private readonly db: Db) {}

  static async open(db: Db): Promise<Registry> {
    const r = new Registry(db)
    for await (const { value } of db.iterate(prefixRange(MEMBER_PREFIX))) {
      const m = packr.unpack(value) as MemberInfo
      r.members.set(m.id, m)
    }
    return r
  }

  identity(): Identity | undefined {
    const raw = this.db.getSync(IDENTITY_KEY)
    return raw ? (packr.unpack(raw) as Identity) : undefined
  }

  async saveIdentity(identity: Identity): Promise<void> {
    const batch = new WriteBatch()
    batch.put(IDENTITY_KEY, packr.pack(identity))
    await this.db.write(batch, { sync: true })
  }

  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id)
  }

  get(id: number): MemberInfo | undefined {
    return this.members.get(id)
  }

  /** Stages a member's record into `batch`; the in-memory view changes once the batch is written. */
  stagePut(batch: WriteBatch, m: MemberInfo): void {
    batch.put(memberKey(m.id), packr.pack(m))
    batch.afterWrite(() => this.members.set(m.id, { ...m }))
  }

  stageRemove(batch: WriteBatch, id: number): void {
    batch.del(memberKey(id))
    batch.afterWrite(() => this.members.delete(id))
  }

  /** Replaces the whole registry (after restoring a snapshot). */
  stageReplaceAll(batch: WriteBatch, members: MemberInfo[]): void {
    for (const id of this.members.keys()) batch.del(memberKey(id))
    for (const m of members) batch.put(memberKey(m.id), packr.pack(m))
    batch.afterWrite(() => {
      this.members.clear()
      for (const m of members) this.members.set(m.id, { ...m })
    })
  }
}
