// v2 nodes and events as etcd writes them in JSON: field order, left-out zero fields, the remaining
// `ttl` rounded up to whole seconds, `expiration` as Go writes a UTC time.

import type { StoredNode, V2Action } from './layout.ts'

/** etcd's NodeExtern, fields in etcd's order. Absent fields are left out of the JSON. */
export interface NodeJson {
  key?: string
  value?: string
  dir?: true
  expiration?: string
  ttl?: number
  nodes?: NodeJson[]
  modifiedIndex?: number
  createdIndex?: number
}

export interface EventJson {
  action: V2Action
  node?: NodeJson
  prevNode?: NodeJson
}

/** A time as Go's time.Time marshals to JSON in UTC (RFC 3339, fraction without trailing zeros). */
export function goTimeJson(ms: number): string {
  const iso = new Date(ms).toISOString() // 2026-11-28T16:47:45.960Z
  return iso.replace(/\.(\d*?)0*Z$/, (_m, digits: string) => (digits === '' ? 'Z' : `.${digits}Z`))
}

/**
 * Seconds left, as etcd counts them: the ceiling for time still to come (1..n), truncated toward
 * zero once past (so 0 or negative for an overdue node).
 */
export function remainingTtlSeconds(expirationMs: number, nowMs: number): number {
  const leftMs = expirationMs - nowMs
  const whole = Math.trunc(leftMs / 1000) || 0 // never -0
  return leftMs % 1000 > 0 ? whole + 1 : whole
}

/** Adds expiration and ttl for a node with a TTL. */
function withTtl(json: NodeJson, node: { expirationMs?: number }, nowMs: number): void {
  if (node.expirationMs === undefined) return
  json.expiration = goTimeJson(node.expirationMs)
  const ttl = remainingTtlSeconds(node.expirationMs, nowMs)
  if (ttl !== 0) json.ttl = ttl
}

/** A node without children: a file with its value, or a directory. */
export function nodeJson(node: StoredNode, nowMs: number): NodeJson {
  const json: NodeJson = { key: node.path }
  if (node.dir) json.dir = true
  else json.value = node.value
  withTtl(json, node, nowMs)
  json.modifiedIndex = node.modifiedIndex
  json.createdIndex = node.createdIndex
  return json
}

/** A directory with its listed children (already rendered). An empty list is left out, as etcd does. */
export function dirJson(node: StoredNode | undefined, children: NodeJson[], nowMs: number): NodeJson {
  if (node === undefined) {
    // The root: no key, no indexes.
    return children.length > 0 ? { dir: true, nodes: children } : { dir: true }
  }
  const json: NodeJson = { key: node.path, dir: true }
  withTtl(json, node, nowMs)
  if (children.length > 0) json.nodes = children
  json.modifiedIndex = node.modifiedIndex
  json.createdIndex = node.createdIndex
  return json
}

/** The `node` of a delete, compareAndDelete or expire event: only key, dir and the indexes. */
export function deletedNodeJson(prev: StoredNode, index: number): NodeJson {
  const json: NodeJson = { key: prev.path }
  if (prev.dir) json.dir = true
  json.modifiedIndex = index
  json.createdIndex = prev.createdIndex
  return json
}

/** The whole event; fields in etcd's order. */
export function eventJson(action: V2Action, node: NodeJson | undefined, prevNode: NodeJson | undefined): EventJson {
  const json: EventJson = { action }
  if (node !== undefined) json.node = node
  if (prevNode !== undefined) json.prevNode = prevNode
  return json
}
