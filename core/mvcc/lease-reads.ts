// Reads of the lease table from views the store opened.

import type { BackendIterator } from './backend.ts'
import { entriesOf } from './backend.ts'
import { keyOfLeaseAttachmentKey, leaseIdOfLeaseKey } from './layout.ts'
import { decodeLeaseRecord } from './records.ts'

export interface LeaseInfo {
  id: number
  /** Granted TTL in seconds. */
  ttl: number
}

/** Keys of a view of one lease's attachments, in key order. */
export async function readAttachedKeys(attachments: BackendIterator): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = []
  for await (const entry of entriesOf(attachments)) keys.push(keyOfLeaseAttachmentKey(entry.key).slice())
  return keys
}

/** Every lease of a view of the lease records. */
export async function readLeaseList(grants: BackendIterator): Promise<LeaseInfo[]> {
  const leases: LeaseInfo[] = []
  for await (const entry of entriesOf(grants)) {
    leases.push({ id: leaseIdOfLeaseKey(entry.key), ttl: decodeLeaseRecord(entry.value).ttl })
  }
  return leases
}
