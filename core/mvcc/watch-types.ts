// Watch requests and responses, mirroring etcd's WatchCreateRequest and WatchResponse.

import type { HistoryRead, StoreListener } from './store.ts'
import type { Event, ResponseHeader } from './types.ts'

export const watchFilterTypes = ['NOPUT', 'NODELETE'] as const
export type WatchFilterType = (typeof watchFilterTypes)[number]

export interface WatchCreateRequest {
  key: Uint8Array
  /** As in RangeRequest: absent = the key, "\0" = every key >= key, else [key, rangeEnd). */
  rangeEnd?: Uint8Array
  /** First revision to report; 0 or absent = the next revision to be written. */
  startRevision?: number
  /** Ask for periodic empty responses while nothing happens (see WatchHub.notifyProgress). */
  progressNotify?: boolean
  filters?: WatchFilterType[]
  prevKv?: boolean
}

export interface WatchResponse {
  /** For events: the hub's revision when they were queued (>= the events' revisions). */
  header: ResponseHeader
  watchId: number
  created: boolean
  canceled: boolean
  /** Set (with canceled) when the watcher asked for history that has been compacted. */
  compactRevision: number
  cancelReason: string
  /** All events of one or more whole revisions, in revision order; empty for a progress notice. */
  events: Event[]
}

/** What the hub needs from the keyspace; MvccStore provides it. */
export interface WatchSource {
  currentRevision(): number
  compactRevision(): number
  readHistory(fromRevision: number, maxEvents?: number): Promise<HistoryRead>
  subscribe(listener: StoreListener): () => void
}
