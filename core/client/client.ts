// The Cairn client: one object for KV, transactions, watches, leases, membership and maintenance,
// talking to a set of endpoints with failover (see transport.ts for the retry rules).

import { Auth } from './auth.ts'
import type { Bytes } from './bytes.ts'
import { Cluster } from './cluster.ts'
import { KV } from './kv.ts'
import type { Txn } from './kv.ts'
import { Lease } from './lease.ts'
import { Maintenance } from './maintenance.ts'
import { Transport } from './transport.ts'
import type { CallOptions, TransportOptions } from './transport.ts'
import type { CompactResult, DeleteOptions, DeleteResult, PutOptions, PutResult, RangeOptions, RangeResult } from './types.ts'
import { WatchManager } from './watch.ts'
import type { Watch, WatchOptions } from './watch.ts'

export type ClientOptions = TransportOptions

export class Client {
  readonly transport: Transport
  readonly kv: KV
  readonly lease: Lease
  readonly cluster: Cluster
  readonly maintenance: Maintenance
  readonly auth: Auth
  private readonly watches: WatchManager

  constructor(opts: ClientOptions) {
    this.transport = new Transport(opts)
    this.kv = new KV(this.transport)
    this.lease = new Lease(this.transport)
    this.cluster = new Cluster(this.transport)
    this.maintenance = new Maintenance(this.transport)
    this.auth = new Auth(this.transport)
    this.watches = new WatchManager(this.transport)
  }

  get(key: Bytes, opts: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    return this.kv.get(key, opts)
  }

  put(key: Bytes, value: Bytes, opts: PutOptions & CallOptions = {}): Promise<PutResult> {
    return this.kv.put(key, value, opts)
  }

  delete(key: Bytes, opts: DeleteOptions & CallOptions = {}): Promise<DeleteResult> {
    return this.kv.delete(key, opts)
  }

  compact(revision: number, opts: CallOptions & { physical?: boolean } = {}): Promise<CompactResult> {
    return this.kv.compact(revision, opts)
  }

  txn(): Txn {
    return this.kv.txn()
  }

  /** Watches a key or range; iterate the result with `for await`. */
  watch(key: Bytes, opts: WatchOptions = {}): Watch {
    return this.watches.watch(key, opts)
  }

  /** Ends every watch. In-flight calls finish on their own; keep-alive loops are stopped by their owners. */
  close(): void {
    this.watches.close()
  }
}
