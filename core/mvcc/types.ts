// The data model: etcd's mvccpb.KeyValue and mvccpb.Event as plain objects. Field names are the
// camelCase form of etcd's protobuf names (create_revision → createRevision), so the JSON layer maps
// them mechanically. Revisions, versions and lease IDs are safe integers (< 2^53).

export interface KeyValue {
  key: Uint8Array
  /** Revision of the last creation of this key (a delete ends a generation; the next put starts one). */
  createRevision: number
  /** Revision of the last change. */
  modRevision: number
  /** 1 on creation, +1 per change; a delete resets it (the key is gone). */
  version: number
  value: Uint8Array
  /** The lease the key is attached to, 0 for none. */
  lease: number
}

export type EventType = 'PUT' | 'DELETE'

/**
 * One change to one key. For a DELETE, `kv` carries only the key and the deleting revision (as etcd
 * sends it). `prevKv` is the key's state just before the change, absent if the key did not exist.
 */
export interface Event {
  type: EventType
  kv: KeyValue
  prevKv?: KeyValue
}

/** All events of one revision, in the order the operations ran. Never empty. */
export interface RevisionEvents {
  revision: number
  events: Event[]
}

/** The revision part of etcd's ResponseHeader; the server adds cluster_id, member_id and raft_term. */
export interface ResponseHeader {
  revision: number
}
