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
  /** Proposer's member ID and sequence number: unique per proposal. */
  proposer: number
  seq: number
  request: ApplyRequest | MemberRequest
}

export function encodePayload(p: EntryPayload): Uint8Array {
  return packr.pack([p.proposer, p.seq, p.request])
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
  if (!Array.isArray(v) || v.length !== 3) throw new PayloadError('entry payload must be [proposer, seq, request]')
  const [proposer, seq, request] = v as [unknown, unknown, unknown]
  if (typeof proposer !== 'number' || typeof seq !== 'number' || typeof request !== 'object' || request === null) {
    throw new PayloadError('entry payload has the wrong shape')
  }
  return { proposer, seq, request: request as ApplyRequest | MemberRequest }
}

export function isMemberRequest(r: ApplyRequest | MemberRequest): r is MemberRequest {
  return 'publish' in r || 'leaseCheckpoint' in r || 'updateMember' in r
}
