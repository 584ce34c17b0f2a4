// v2 watches (`wait=true`): the first event at or after an index that concerns a path, served from
// the store's history through the watch hub — so `waitIndex` reaches back to the last compaction,
// not just etcd's last 1000 events.
//
// Each v2 write is one revision holding the node key's own change and what tells which write it was:
// the action mark in the node's record, or the action record for a write that deleted the node (see
// layout.ts). Revisions with neither (v3 writes, expiry index upkeep) are not v2 events and are skipped.

import type { Event } from '../../mvcc/types.ts'
import { actionKeyText, decodeActionRecord, decodeNode, decodeNodeAction, historyRange, nodeKey, pathOfKey, text } from './layout.ts'
import type { ActionRecord } from './layout.ts'
import { deletedNodeJson, eventJson, nodeJson } from './node-json.ts'
import type { EventJson } from './node-json.ts'
import { isHiddenFrom, isWithin } from './path.ts'
import type { V2Backend } from './store.ts'

export interface V2Event {
  index: number
  record: ActionRecord
  /** The node was a directory before (a deleted or expired directory takes its subtree with it). */
  prevWasDir: boolean
  json: EventJson
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

/** The v2 event of one revision's v3 events (in the hub's order), or undefined if it has none. */
export function eventOfRevision(index: number, events: Event[]): V2Event | undefined {
  const found = markedNode(events) ?? byActionRecord(events)
  if (found === undefined) return undefined
  const { record, change } = found
  const prev = change.prevKv === undefined ? undefined : decodeNode(record.path, change.prevKv)
  const prevNode = prev === undefined ? undefined : nodeJson(prev, record.timeMs)
  if (change.type === 'DELETE') {
    if (prev === undefined) return undefined
    return { index, record, prevWasDir: prev.dir, json: eventJson(record.action, deletedNodeJson(prev, index), prevNode) }
  }
  const node = nodeJson(decodeNode(record.path, change.kv), record.timeMs)
  return { index, record, prevWasDir: prev?.dir === true, json: eventJson(record.action, node, prevNode) }
}

/** A write that left a node behind: the node key's put whose record carries the action mark. */
function markedNode(events: Event[]): { record: ActionRecord; change: Event } | undefined {
  for (const e of events) {
    const path = e.type === 'PUT' ? pathOfKey(e.kv.key) : undefined
    if (path === undefined) continue
    const by = decodeNodeAction(e.kv.value)
    if (by !== undefined) return { record: { ...by, path }, change: e }
  }
  return undefined
}

/** A write that deleted a node (or any write of a store from before the mark): the action record. */
function byActionRecord(events: Event[]): { record: ActionRecord; change: Event } | undefined {
  const action = events.find((e) => e.type === 'PUT' && text(e.kv.key) === actionKeyText)
  const record = action === undefined ? undefined : decodeActionRecord(action.kv.value)
  if (record === undefined) return undefined
  const key = nodeKey(record.path)
  const change = events.find((e) => sameBytes(e.kv.key, key))
  return change === undefined ? undefined : { record, change }
}

export interface WatchSpec {
  path: string
  recursive: boolean
}

/**
 * Whether a watcher on `spec` is told of `event`: changes to the path itself; with `recursive`,
 * changes below it unless they pass through a hidden component; and the deletion or expiry of a
 * directory above it. Refreshes are never reported.
 */
export function watchMatches(spec: WatchSpec, event: V2Event): boolean {
  if (event.record.refresh) return false
  const key = event.record.path
  if (key === spec.path) return true
  if (spec.recursive && isWithin(key, spec.path) && !isHiddenFrom(spec.path, key)) return true
  const removesSubtree = event.record.action === 'delete' || event.record.action === 'expire'
  return removesSubtree && event.prevWasDir && isWithin(spec.path, key)
}

/** Splits a response's events (whole revisions, in order) into revisions. */
export function byRevision(events: Event[]): { revision: number; events: Event[] }[] {
  const out: { revision: number; events: Event[] }[] = []
  for (const e of events) {
    const revision = e.kv.modRevision
    const last = out[out.length - 1]
    if (last !== undefined && last.revision === revision) last.events.push(e)
    else out.push({ revision, events: [e] })
  }
  return out
}

export type WatchEnd = 'stopped' | 'compacted' | 'closed'

/**
 * Calls `deliver` with each matching event from index `since` on, until it returns false, the
 * signal aborts, or the history falls below the compaction ('compacted').
 */
export async function watchEvents(
  backend: V2Backend,
  spec: WatchSpec,
  since: number,
  deliver: (event: V2Event) => boolean,
  signal: AbortSignal,
): Promise<WatchEnd> {
  if (signal.aborted) return 'stopped'
  let watcher
  try {
    watcher = backend.watch({ ...historyRange, startRevision: since, prevKv: true })
  } catch {
    return 'closed' // the hub is closed: the member is stopping
  }
  const abort = () => watcher.cancel('client went away')
  signal.addEventListener('abort', abort, { once: true })
  try {
    for await (const response of watcher) {
      if (response.canceled) return response.compactRevision > 0 ? 'compacted' : signal.aborted ? 'stopped' : 'closed'
      for (const { revision, events } of byRevision(response.events)) {
        const event = eventOfRevision(revision, events)
        if (event !== undefined && watchMatches(spec, event) && !deliver(event)) return 'stopped'
      }
    }
    return 'closed'
  } finally {
    signal.removeEventListener('abort', abort)
    watcher.cancel()
  }
}
