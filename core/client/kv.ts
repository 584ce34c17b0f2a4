// Key-value calls: range, put, delete, compaction and transactions.

import type { Bytes } from './bytes.ts'
import { decodeDelete, decodeHeader, decodeObject, decodePut, decodeRange, decodeTxn, encodeDelete, encodePut, encodeRange } from './codec.ts'
import type { CallOptions, Transport } from './transport.ts'
import type { Comparison, TxnOp } from './txn.ts'
import { encodeTxnBody, isReadOnly } from './txn.ts'
import type { CompactResult, DeleteOptions, DeleteResult, PutOptions, PutResult, RangeOptions, RangeResult, TxnResult } from './types.ts'

export class KV {
  constructor(private readonly transport: Transport) {}

  /** Reads one key, or a range (`prefix`, `fromKey` or `end`). A missing key gives an empty `kvs`. */
  async get(key: Bytes, opts: RangeOptions & CallOptions = {}): Promise<RangeResult> {
    return decodeRange(await this.transport.call('/v3/kv/range', encodeRange(key, opts), true, opts))
  }

  /** Writes a key. Not repeated when its outcome is unknown (OutcomeUnknownError). */
  async put(key: Bytes, value: Bytes, opts: PutOptions & CallOptions = {}): Promise<PutResult> {
    return decodePut(await this.transport.call('/v3/kv/put', encodePut(key, value, opts), false, opts))
  }

  /** Deletes a key or a range. Not repeated when its outcome is unknown. */
  async delete(key: Bytes, opts: DeleteOptions & CallOptions = {}): Promise<DeleteResult> {
    return decodeDelete(await this.transport.call('/v3/kv/deleterange', encodeDelete(key, opts), false, opts))
  }

  /** Discards history before `revision`. `physical` waits until the space is reclaimed. */
  async compact(revision: number, opts: CallOptions & { physical?: boolean } = {}): Promise<CompactResult> {
    if (!Number.isSafeInteger(revision) || revision <= 0) throw new RangeError(`revision: expected a positive integer, got ${revision}`)
    const body: Record<string, unknown> = { revision: String(revision) }
    if (opts.physical) body.physical = true
    const o = decodeObject(await this.transport.call('/v3/kv/compaction', body, false, opts), 'compaction response')
    return { header: decodeHeader(o.header) }
  }

  txn(): Txn {
    return new Txn(this.transport)
  }
}

/** A transaction being built: `.if(...).then(...).else(...).commit()`. */
export class Txn {
  private readonly compares: Comparison[] = []
  private readonly success: TxnOp[] = []
  private readonly failure: TxnOp[] = []

  constructor(private readonly transport: Transport) {}

  /** Conditions, all of which must hold for the `then` branch to run. */
  if(...compares: Comparison[]): this {
    this.compares.push(...compares)
    return this
  }

  then(...ops: TxnOp[]): this {
    this.success.push(...ops)
    return this
  }

  else(...ops: TxnOp[]): this {
    this.failure.push(...ops)
    return this
  }

  /** The request body, as sent to /v3/kv/txn. */
  toJSON(): Record<string, unknown> {
    return encodeTxnBody(this.compares, this.success, this.failure)
  }

  /** Runs the transaction. Only a read-only transaction is repeated when its outcome is unknown. */
  async commit(opts: CallOptions = {}): Promise<TxnResult> {
    const safe = isReadOnly(this.success) && isReadOnly(this.failure)
    return decodeTxn(await this.transport.call('/v3/kv/txn', this.toJSON(), safe, opts))
  }
}
