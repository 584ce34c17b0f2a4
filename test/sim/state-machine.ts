// The replicated state machine each simulated node applies committed entries to: a map of
// registers (key -> the value last written and the log index that wrote it) plus a fingerprint
// chained over every applied entry, so two nodes at the same applied index agree on the whole
// history iff their fingerprints agree. Snapshots serialise all of it.

import type { ConfState, Entry } from '../../core/raft/types.ts'
import { emptyConfState } from '../../core/raft/types.ts'

const PUT_KIND = 1
const PUT_HEADER_BYTES = 6
export const KEY_COUNT_MAX = 256
const VALUE_ID_MAX = 0xffffffff

export interface Put {
  key: number
  /** Unique per run: every client write carries a value never written before. */
  valueId: number
}

export interface Register {
  valueId: number
  /** Log index of the entry that wrote this value. */
  index: number
}

export interface Fingerprint {
  a: number
  b: number
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`state-machine: ${message}`)
}

export function encodePut(put: Put, paddingBytes: number): Uint8Array {
  assert(put.key >= 0 && put.key < KEY_COUNT_MAX, `key out of range: ${put.key}`)
  assert(put.valueId > 0 && put.valueId <= VALUE_ID_MAX, `value id out of range: ${put.valueId}`)
  const data = new Uint8Array(PUT_HEADER_BYTES + paddingBytes)
  data[0] = PUT_KIND
  data[1] = put.key
  new DataView(data.buffer).setUint32(2, put.valueId, true)
  for (let i = PUT_HEADER_BYTES; i < data.length; i++) data[i] = (put.valueId + i) & 0xff
  return data
}

/** Undefined for an empty entry (a new leader's no-op); throws on anything else malformed. */
export function decodePut(data: Uint8Array): Put | undefined {
  if (data.byteLength === 0) return undefined
  assert(data.byteLength >= PUT_HEADER_BYTES && data[0] === PUT_KIND, `malformed entry of ${data.byteLength} bytes`)
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  return { key: data[1]!, valueId: view.getUint32(2, true) }
}

/** FNV-1a with a caller-chosen basis: two bases give two independent 32-bit hashes. */
export function hashBytes(data: Uint8Array, basis: number): number {
  let h = basis >>> 0
  for (let i = 0; i < data.length; i++) {
    h ^= data[i]!
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

function mix(h: number, x: number): number {
  let z = (h ^ Math.imul(x >>> 0, 0x9e3779b1)) >>> 0
  z = Math.imul(z ^ (z >>> 15), 0x85ebca77)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae3d)
  return (z ^ (z >>> 16)) >>> 0
}

const BASIS_A = 0x811c9dc5
const BASIS_B = 0x2545f491

/** The fingerprint after applying `entry` on top of `previous`. */
export function chainFingerprint(previous: Fingerprint, entry: Entry): Fingerprint {
  const typeCode = entry.type === 'normal' ? 1 : 2
  let a = mix(previous.a, entry.index)
  a = mix(a, entry.term)
  a = mix(a, typeCode)
  a = mix(a, hashBytes(entry.data, BASIS_A))
  let b = mix(previous.b ^ 0x5bd1e995, entry.index)
  b = mix(b, entry.term)
  b = mix(b, typeCode)
  b = mix(b, hashBytes(entry.data, BASIS_B))
  return { a, b }
}

export function sameFingerprint(x: Fingerprint, y: Fingerprint): boolean {
  return x.a === y.a && x.b === y.b
}

interface SnapshotImage {
  applied: number
  fingerprint: Fingerprint
  registers: Array<[number, number, number]>
  confState: ConfState
}

export class KvStateMachine {
  applied = 0
  fingerprint: Fingerprint = { a: 0, b: 0 }
  readonly registers = new Map<number, Register>()
  confState: ConfState = emptyConfState()

  /** Applies the next entry; returns the put it carried, if any. Conf changes are the driver's job. */
  apply(entry: Entry): Put | undefined {
    assert(entry.index === this.applied + 1, `apply out of order: entry ${entry.index} after applied ${this.applied}`)
    this.applied = entry.index
    this.fingerprint = chainFingerprint(this.fingerprint, entry)
    if (entry.type !== 'normal') return undefined
    const put = decodePut(entry.data)
    if (put !== undefined) this.registers.set(put.key, { valueId: put.valueId, index: entry.index })
    return put
  }

  read(key: number): Register | undefined {
    return this.registers.get(key)
  }

  encode(): Uint8Array {
    const registers: Array<[number, number, number]> = []
    for (const [key, r] of this.registers) registers.push([key, r.valueId, r.index])
    registers.sort((x, y) => x[0] - y[0])
    const image: SnapshotImage = {
      applied: this.applied,
      fingerprint: this.fingerprint,
      registers,
      confState: this.confState,
    }
    return new TextEncoder().encode(JSON.stringify(image))
  }

  /** Rebuilds a state machine from snapshot data; an empty buffer is the empty machine at index 0. */
  static decode(data: Uint8Array): KvStateMachine {
    const machine = new KvStateMachine()
    if (data.byteLength === 0) return machine
    const image = JSON.parse(new TextDecoder().decode(data)) as SnapshotImage
    assert(Number.isSafeInteger(image.applied) && image.applied >= 0, `snapshot with bad applied ${image.applied}`)
    machine.applied = image.applied
    machine.fingerprint = { a: image.fingerprint.a, b: image.fingerprint.b }
    for (const [key, valueId, index] of image.registers) {
      assert(index <= image.applied, `register written at ${index} beyond applied ${image.applied}`)
      machine.registers.set(key, { valueId, index })
    }
    machine.confState = image.confState
    return machine
  }
}
