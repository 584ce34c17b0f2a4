// Maintenance: the member's status, health and version, and the cluster's alarms.

import { decodeHeader, decodeObject, decodeStrings, int } from './codec.ts'
import type { CallOptions, Transport } from './transport.ts'
import type { AlarmInfo, AlarmsResult, HealthResult, ResponseHeader, StatusResult } from './types.ts'

export class Maintenance {
  constructor(private readonly transport: Transport) {}

  /** Status of the member the client is talking to (its ID is in header.memberId). */
  async status(opts: CallOptions = {}): Promise<StatusResult> {
    const o = decodeObject(await this.transport.call('/v3/maintenance/status', {}, true, opts), 'status response')
    return {
      header: decodeHeader(o.header),
      version: typeof o.version === 'string' ? o.version : '',
      dbSize: int(o.dbSize, 'dbSize'),
      dbSizeInUse: int(o.dbSizeInUse, 'dbSizeInUse'),
      leader: int(o.leader, 'leader'),
      raftIndex: int(o.raftIndex, 'raftIndex'),
      raftTerm: int(o.raftTerm, 'raftTerm'),
      raftAppliedIndex: int(o.raftAppliedIndex, 'raftAppliedIndex'),
      isLearner: o.isLearner === true,
      errors: decodeStrings(o.errors, 'errors'),
    }
  }

  /**
   * A consistent backup of the keyspace from one member, streamed while writes go on (Cairn's backup
   * file: `cairn snapshot status|restore` read it). `timeoutMs` bounds reaching a member; `signal`
   * ends the stream.
   */
  async snapshot(opts: CallOptions = {}): Promise<AsyncIterable<Uint8Array>> {
    const { body } = await this.transport.download('/v3/maintenance/snapshot', opts)
    return body as unknown as AsyncIterable<Uint8Array>
  }

  /** Every active alarm of the cluster (etcdctl alarm list). */
  async alarmList(opts: CallOptions = {}): Promise<AlarmsResult> {
    return decodeAlarms(await this.transport.call('/v3/maintenance/alarm', { action: 'GET', memberID: '0', alarm: 'NONE' }, true, opts))
  }

  /**
   * Clears alarms through the log (etcdctl alarm disarm): the given one, or every active alarm.
   * Answers the alarms that were cleared. Writes over the quota raise NOSPACE again, so free space
   * first (delete keys, compact).
   */
  async alarmDisarm(alarm?: AlarmInfo, opts: CallOptions = {}): Promise<AlarmsResult> {
    const targets = alarm ? [alarm] : (await this.alarmList(opts)).alarms
    let last: AlarmsResult | undefined
    const cleared: AlarmInfo[] = []
    for (const a of targets) {
      const body = { action: 'DEACTIVATE', memberID: String(a.memberId), alarm: a.alarm }
      // Deactivating is idempotent, so a retry after an unknown outcome is safe.
      last = decodeAlarms(await this.transport.call('/v3/maintenance/alarm', body, true, opts))
      cleared.push(...last.alarms)
    }
    return { header: last?.header ?? (await this.alarmList(opts)).header, alarms: cleared }
  }

  /**
   * etcd's Defragment: answers once history freed by compaction has been deleted from the member's
   * keyspace (RocksDB reclaims the files by itself, in the background).
   */
  async defragment(opts: CallOptions = {}): Promise<{ header: ResponseHeader }> {
    return { header: decodeHeader(decodeObject(await this.transport.call('/v3/maintenance/defragment', {}, true, opts), 'defragment response').header) }
  }

  /** GET /health: healthy when the member knows a leader and can serve a linearizable read. */
  async health(opts: CallOptions = {}): Promise<HealthResult> {
    const o = decodeObject(await this.transport.call('/health', undefined, true, opts, 'GET'), 'health response')
    return { health: o.health === true || o.health === 'true', reason: typeof o.reason === 'string' ? o.reason : '' }
  }

  /** GET /version. */
  async version(opts: CallOptions = {}): Promise<{ etcdserver: string; etcdcluster: string; [k: string]: string }> {
    const o = decodeObject(await this.transport.call('/version', undefined, true, opts, 'GET'), 'version response')
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(o)) if (typeof v === 'string') out[k] = v
    return { etcdserver: out.etcdserver ?? '', etcdcluster: out.etcdcluster ?? '', ...out }
  }
}

function decodeAlarms(v: unknown): AlarmsResult {
  const o = decodeObject(v, 'alarm response')
  const alarms = Array.isArray(o.alarms) ? o.alarms : []
  return {
    header: decodeHeader(o.header),
    alarms: alarms.map((x) => {
      const a = decodeObject(x, 'alarm member')
      return { memberId: int(a.memberID, 'memberID'), alarm: a.alarm === 'CORRUPT' || a.alarm === 2 ? 'CORRUPT' : 'NOSPACE' }
    }),
  }
}
