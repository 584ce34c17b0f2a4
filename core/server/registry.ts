// The cluster's membership as the member keeps it: who the members are (IDs, names, URLs), which IDs
// were removed (never reused: IDs are random, so the peer transport refuses those and accepts any
// other member of the cluster, as etcd does), and this member's own identity. Stored under the 'c' prefix of the member's Db; changed only by applying
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
const REMOVED_PREFIX = Uint8Array.of(ownerPrefix.cluster, 0x72) // 'c' 'r'

function idKey(prefix: Uint8Array, id: number): Uint8Array {
  const key = new Uint8Array(prefix.length + 8)
  key.set(prefix)
  new DataView(key.buffer).setFloat64(prefix.length, id)
  return key
}

const memberKey = (id: number) => idKey(MEMBER_PREFIX, id)
const removedKey = (id: number) => idKey(REMOVED_PREFIX, id)

export class Registry {
  private readonly members = new Map<number, MemberInfo>()
  private readonly removed = new Set<number>()

  private constructor(private readonly db: Db) {}

  static async open(db: Db): Promise<Registry> {
    const r = new Registry(db)
    for await (const { value } of db.iterate(prefixRange(MEMBER_PREFIX))) {
      const m = packr.unpack(value) as MemberInfo
      r.members.set(m.id, m)
    }
    for await (const { key } of db.iterate(prefixRange(REMOVED_PREFIX))) {
      r.removed.add(new DataView(key.buffer, key.byteOffset, key.byteLength).getFloat64(REMOVED_PREFIX.length))
    }
    return r
  }

  /** Whether `id` was a member of this cluster and was removed. */
  isRemoved(id: number): boolean {
    return this.removed.has(id)
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
    batch.put(removedKey(id), new Uint8Array())
    batch.afterWrite(() => {
      this.members.delete(id)
      this.removed.add(id)
    })
  }

  /**
   * Replaces the whole registry (after restoring a snapshot, which is newer than what we hold): a
   * member we know that the snapshot's list lacks was removed meanwhile.
   */
  stageReplaceAll(batch: WriteBatch, members: MemberInfo[]): void {
    const kept = new Set(members.map((m) => m.id))
    const gone = [...this.members.keys()].filter((id) => !kept.has(id))
    for (const id of this.members.keys()) batch.del(memberKey(id))
    for (const id of gone) batch.put(removedKey(id), new Uint8Array())
    for (const m of members) batch.put(memberKey(m.id), packr.pack(m))
    batch.afterWrite(() => {
      this.members.clear()
      for (const m of members) this.members.set(m.id, { ...m })
      for (const id of gone) this.removed.add(id)
    })
  }
}
