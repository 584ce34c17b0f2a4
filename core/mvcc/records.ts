// Encoding of the values stored under the layout's keys (see layout.ts). Each record starts with a
// format byte so a later layout can be told apart.

import { CorruptDataError } from '../errors.ts'
import { Reader, Writer } from './codec.ts'
import type { Event, KeyValue } from './types.ts'

const recordFormat = 1
const eventPut = 0
const eventDelete = 1

function checkFormat(reader: Reader, location: string): void {
  const format = reader.byte()
  if (format !== recordFormat) throw new CorruptDataError(location, `unknown record format ${format}`)
}

function writeKeyValueFields(writer: Writer, kv: KeyValue): void {
  writer.varint(kv.createRevision).varint(kv.modRevision).varint(kv.version).varint(kv.lease)
}

function readKeyValue(reader: Reader, key: Uint8Array, value: (r: Reader) => Uint8Array): KeyValue {
  const createRevision = reader.varint()
  const modRevision = reader.varint()
  const version = reader.varint()
  const lease = reader.varint()
  return { key, createRevision, modRevision, version, value: value(reader), lease }
}

/** 'k' record: the key lives in the storage key, the value runs to the end of the record. */
export function encodeKeyValueRecord(kv: KeyValue): Uint8Array {
  const writer = new Writer(kv.value.length + 24).byte(recordFormat)
  writeKeyValueFields(writer, kv)
  return writer.raw(kv.value).finish()
}

export function decodeKeyValueRecord(key: Uint8Array, record: Uint8Array): KeyValue {
  const reader = new Reader(record, 'keyspace record')
  checkFormat(reader, 'keyspace record')
  return readKeyValue(reader, key, (r) => r.rest())
}

/** 'h' record: one event with the key's previous state, so reads at past revisions can undo it. */
export function encodeEventRecord(event: Event): Uint8Array {
  const prev = event.prevKv
  const writer = new Writer(event.kv.key.length + event.kv.value.length + (prev?.value.length ?? 0) + 48)
  writer.byte(recordFormat).byte(event.type === 'PUT' ? eventPut : eventDelete).bytes(event.kv.key)
  if (event.type === 'PUT') {
    writeKeyValueFields(writer, event.kv)
    writer.bytes(event.kv.value)
  } else {
    writer.varint(event.kv.modRevision)
  }
  if (prev === undefined) return writer.byte(0).finish()
  writer.byte(1)
  writeKeyValueFields(writer, prev)
  return writer.bytes(prev.value).finish()
}

export function decodeEventRecord(record: Uint8Array): Event {
  const reader = new Reader(record, 'history record')
  checkFormat(reader, 'history record')
  const type = reader.byte()
  const key = reader.bytes()
  let kv: KeyValue
  if (type === eventPut) {
    kv = readKeyValue(reader, key, (r) => r.bytes())
  } else if (type === eventDelete) {
    kv = { key, createRevision: 0, modRevision: reader.varint(), version: 0, value: new Uint8Array(0), lease: 0 }
  } else {
    throw new CorruptDataError('history record', `unknown event type ${type}`)
  }
  const hasPrev = reader.byte()
  const event: Event = { type: type === eventPut ? 'PUT' : 'DELETE', kv }
  if (hasPrev === 1) event.prevKv = readKeyValue(reader, key, (r) => r.bytes())
  else if (hasPrev !== 0) throw new CorruptDataError('history record', `bad previous-value flag ${hasPrev}`)
  reader.end()
  return event
}

export interface LeaseRecord {
  ttl: number
}

export function encodeLeaseRecord(lease: LeaseRecord): Uint8Array {
  return new Writer(12).byte(recordFormat).varint(lease.ttl).finish()
}

export function decodeLeaseRecord(record: Uint8Array): LeaseRecord {
  const reader = new Reader(record, 'lease record')
  checkFormat(reader, 'lease record')
  const ttl = reader.varint()
  reader.end()
  return { ttl }
}

export function encodeNumber(value: number): Uint8Array {
  return new Writer(8).uint64(value).finish()
}

export function decodeNumber(record: Uint8Array, location: string): number {
  const reader = new Reader(record, location)
  const value = reader.uint64()
  reader.end()
  return value
}
