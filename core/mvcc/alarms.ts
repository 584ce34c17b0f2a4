// Alarms as replicated state, as etcd keeps them: a member raises NOSPACE when its keyspace passes
// the quota, and every member applies the alarm from the log, so all of them refuse the same entries.
// While NOSPACE is active, entries that need space (puts, txns with puts, lease grants) are refused
// with NoSpace — etcd's "capped" applier; reads, deletes, compaction, lease revokes and alarm changes
// go through. While CORRUPT is active every keyspace change is refused (etcd's corrupt applier).
//
// The table is small (one record per member and alarm type) and kept in memory; its records live
// under the 'A' prefix, are written in the same batch as the entry's applied index and travel in
// snapshots with the rest of the keyspace.

import { CairnError, CorruptDataError } from '../errors.ts'
import type { BackendOp, KvBackend } from './backend.ts'
import { entriesOf } from './backend.ts'
import { readUint64BigEndian, writeUint64BigEndian } from './codec.ts'
import { prefixAlarm, prefixBounds } from './layout.ts'
import type { AlarmMember, AlarmRequest, AlarmResponse, AlarmType, ApplyRequest, RequestOp } from './requests.ts'

const recordFormat = 1
/** Stored type byte of each alarm; NONE is never stored. */
const typeCode: Record<Exclude<AlarmType, 'NONE'>, number> = { NOSPACE: 1, CORRUPT: 2 }

function alarmKey(memberId: number, alarm: Exclude<AlarmType, 'NONE'>): Uint8Array {
  const key = new Uint8Array(10)
  key[0] = prefixAlarm
  writeUint64BigEndian(key, 1, memberId)
  key[9] = typeCode[alarm]
  return key
}

function decodeAlarmKey(key: Uint8Array): AlarmMember {
  if (key.length !== 10) throw new CorruptDataError('alarm record', `key of ${key.length} bytes`)
  const code = key[9]
  const alarm = code === 1 ? 'NOSPACE' : code === 2 ? 'CORRUPT' : undefined
  if (alarm === undefined) throw new CorruptDataError('alarm record', `unknown alarm type ${code}`)
  return { memberId: readUint64BigEndian(key, 1), alarm }
}

/** The active alarms, in (member, type) order. Immutable: a change makes a new table. */
export class AlarmTable {
  private constructor(readonly members: readonly AlarmMember[]) {}

  static readonly empty = new AlarmTable([])

  /** Reads the table from the backend (at open, and after a snapshot restore). */
  static async load(backend: KvBackend): Promise<AlarmTable> {
    const members: AlarmMember[] = []
    for await (const { key, value } of entriesOf(backend.iterate(prefixBounds(prefixAlarm)))) {
      if (value[0] !== recordFormat) throw new CorruptDataError('alarm record', `unknown record format ${value[0]}`)
      members.push(decodeAlarmKey(key))
    }
    return new AlarmTable(members)
  }

  has(alarm: Exclude<AlarmType, 'NONE'>): boolean {
    return this.members.some((m) => m.alarm === alarm)
  }

  /** etcd's AlarmStore.Get: every alarm for NONE, else those of that type. */
  list(alarm: AlarmType = 'NONE'): AlarmMember[] {
    return this.members.filter((m) => alarm === 'NONE' || m.alarm === alarm).map((m) => ({ ...m }))
  }

  private find(memberId: number, alarm: AlarmType): AlarmMember | undefined {
    return this.members.find((m) => m.memberId === memberId && m.alarm === alarm)
  }

  /**
   * What an alarm entry does: the response, the backend ops to write with the entry, and the table
   * after it. Deterministic, like every apply step.
   */
  apply(request: AlarmRequest, revision: number): { response: AlarmResponse; ops: BackendOp[]; table: AlarmTable } {
    const header = { revision }
    const { action, memberId, alarm } = request
    if (action === 'GET' || alarm === 'NONE') {
      const alarms = action === 'GET' ? this.list(alarm) : []
      return { response: { header, alarms }, ops: [], table: this }
    }
    const existing = this.find(memberId, alarm)
    if (action === 'ACTIVATE') {
      // As etcd: activating an active alarm answers the alarm and changes nothing.
      if (existing) return { response: { header, alarms: [{ ...existing }] }, ops: [], table: this }
      const added: AlarmMember = { memberId, alarm }
      const members = [...this.members, added].sort((a, b) => a.memberId - b.memberId || typeCode[a.alarm] - typeCode[b.alarm])
      const ops: BackendOp[] = [{ type: 'put', key: alarmKey(memberId, alarm), value: Uint8Array.of(recordFormat) }]
      return { response: { header, alarms: [{ ...added }] }, ops, table: new AlarmTable(members) }
    }
    if (!existing) return { response: { header, alarms: [] }, ops: [], table: this }
    const ops: BackendOp[] = [{ type: 'del', key: alarmKey(memberId, alarm) }]
    return { response: { header, alarms: [{ ...existing }] }, ops, table: new AlarmTable(this.members.filter((m) => m !== existing)) }
  }

  /**
   * The refusal an entry gets while alarms are active, or undefined if it may be applied. Alarm and
   * auth changes always go through (etcd's capped and corrupt appliers refuse only keyspace changes).
   */
  refusal(request: ApplyRequest): CairnError | undefined {
    if (this.members.length === 0 || 'alarm' in request || 'auth' in request) return undefined
    if (this.has('CORRUPT')) return new CairnError('Corrupt')
    if (this.has('NOSPACE') && needsSpace(request)) return new CairnError('NoSpace')
    return undefined
  }
}

/**
 * Entries that may grow the keyspace: puts, txns with a put on any branch, lease grants (etcd's list);
 * a guarded write (auth on) is judged by the write it carries.
 */
export function needsSpace(request: ApplyRequest): boolean {
  if ('guarded' in request) return needsSpace(request.guarded.request)
  if ('put' in request || 'leaseGrant' in request) return true
  if ('txn' in request) return txnHasPut(request.txn)
  return false
}

function txnHasPut(txn: { success?: RequestOp[]; failure?: RequestOp[] }): boolean {
  for (const op of [...(txn.success ?? []), ...(txn.failure ?? [])]) {
    if ('requestPut' in op) return true
    if ('requestTxn' in op && txnHasPut(op.requestTxn)) return true
  }
  return false
}
