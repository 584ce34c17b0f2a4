// Prometheus metrics for one member (prom-client: a well-kept implementation of the text format,
// histograms and registries — not worth writing by hand).

import { Counter, Gauge, Histogram, Registry } from 'prom-client'

export interface MetricsSource {
  hasLeader(): boolean
  leaderChanges(): number
  proposalsPending(): number
  watchers(): number
  appliedIndex(): number
  committedIndex(): number
  revision(): number
  dbSizeBytes(): number
  /** The keyspace's size as the backend quota counts it, and the quota. */
  dbSizeInUseBytes?(): number
  quotaBackendBytes?(): number
  peersConnected(): number
  peerRoundTrips(): Map<number, number>
}

export class Metrics {
  readonly registry = new Registry()
  private readonly requestSeconds = new Histogram({
    name: 'cairn_http_request_duration_seconds',
    help: 'Client API request latency by path',
    labelNames: ['path'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  })
  readonly fsyncSeconds = new Histogram({
    name: 'cairn_disk_wal_fsync_duration_seconds',
    help: 'Latency of synced Raft log writes',
    buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1],
    registers: [this.registry],
  })
  readonly applySeconds = new Histogram({
    name: 'cairn_server_apply_duration_seconds',
    help: 'Latency of applying one batch of committed entries',
    buckets: [0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1],
    registers: [this.registry],
  })
  readonly proposalsCommitted = new Counter({ name: 'cairn_server_proposals_committed_total', help: 'Entries applied', registers: [this.registry] })
  readonly proposalsFailed = new Counter({ name: 'cairn_server_proposals_failed_total', help: 'Proposals refused or timed out', registers: [this.registry] })

  constructor(source: MetricsSource) {
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read())
        },
      })
    gauge('cairn_server_has_leader', 'Whether a leader is known (1) or not (0)', () => (source.hasLeader() ? 1 : 0))
    gauge('cairn_server_leader_changes_seen_total', 'Leader changes seen by this member', () => source.leaderChanges())
    gauge('cairn_server_proposals_pending', 'Proposals waiting to be applied', () => source.proposalsPending())
    gauge('cairn_mvcc_watchers', 'Active watchers', () => source.watchers())
    gauge('cairn_server_applied_index', 'Applied Raft index', () => source.appliedIndex())
    gauge('cairn_server_committed_index', 'Committed Raft index', () => source.committedIndex())
    gauge('cairn_mvcc_revision', 'Current keyspace revision', () => source.revision())
    gauge('cairn_mvcc_db_total_size_in_bytes', 'Size of the member database on disk', () => source.dbSizeBytes())
    if (source.dbSizeInUseBytes) {
      const read = source.dbSizeInUseBytes.bind(source)
      gauge('cairn_mvcc_db_total_size_in_use_in_bytes', 'Keyspace size as --quota-backend-bytes counts it', read)
    }
    if (source.quotaBackendBytes) gauge('cairn_server_quota_backend_bytes', 'The backend quota (--quota-backend-bytes)', source.quotaBackendBytes.bind(source))
    gauge('cairn_network_peers_connected', 'Peers with an open outbound link', () => source.peersConnected())
    new Gauge({
      name: 'cairn_network_peer_round_trip_time_seconds',
      help: 'Round-trip time of the last ping on the link to each peer',
      labelNames: ['to'],
      registers: [this.registry],
      collect() {
        this.reset()
        for (const [id, seconds] of source.peerRoundTrips()) this.set({ to: id.toString(16) }, seconds)
      },
    })
  }

  observeRequest(path: string, seconds: number): void {
    this.requestSeconds.observe({ path }, seconds)
  }

  render(): Promise<string> {
    return this.registry.metrics()
  }
}
