// The payload of a normal Raft entry: who proposed it (so the proposing member can answer its
// client) and what to apply. Entries come from disk and peers, so decoding validates the envelope;
// the request itself is validated again by the keyspace when applied.

import { Packr } from 'msgpackr'
import type { ApplyRequest } from '../mvcc/requests.ts'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })

/** Requests the member itself handles (not the keyspace). */
export type MemberRequest =
  | { publish: { id: number; name: string; clientUrls: string[] } }
  | { leaseCheckpoint: { id: number } }
  | { updateMember: { id: number; peerUrls: string[] } }

export interface EntryPayload {
  /** Proposer's member ID, a nonce of its current run, and a sequence number: unique per proposal. */
  proposer: number
  /** Distinguishes the proposer's runs: its sequence numbers start over when it restarts. */
  run: number
  seq: number
  request: ApplyRequest | MemberRequest
}

export function encodePayload(p: EntryPayload): Uint8Array {
  return packr.pack([p.proposer, p.seq, p.request, p.run])
}

export class PayloadError extends Error {
  override name = 'PayloadError'
}

export function decodePayload(data: Uint8Array): EntryPayload {
  let v: unknown
  try {
    v = packr.unpack(data)
  } catch (e) {
    throw new PayloadError(`undecodable entry payload: ${(e as Error).message}`)
  }
  if (!Array.isArray(v) || v.length !== 4) throw new PayloadError('entry payload must be [proposer, seq, request, run]')
  const [proposer, seq, request, run] = v as [unknown, unknown, unknown, unknown]
  if (typeof proposer !== 'number' || typeof seq !== 'number' || typeof run !== 'number' || typeof request !== 'object' || request === null) {
    throw new PayloadError('entry payload has the wrong shape')
  }
  return { proposer, run, seq, request: request as ApplyRequest | MemberRequest }
}

export function isMemberRequest(r: ApplyRequest | MemberRequest): r is MemberRequest {
  return 'publish' in r || 'leaseCheckpoint' in r || 'updateMember' in r
}
