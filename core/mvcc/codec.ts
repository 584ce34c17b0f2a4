// A minimal binary codec for stored records and snapshot frames. Numbers in record bodies are
// unsigned LEB128 varints (most revisions are small); numbers inside storage keys are fixed 8-byte
// big-endian so that byte order equals numeric order. Every read is bounds-checked: a short or
// malformed record is reported as CorruptDataError, never read past.

import { CorruptDataError } from '../errors.ts'

const twoPow32 = 2 ** 32

export function writeUint64BigEndian(target: Uint8Array, offset: number, value: number): void {
  const high = Math.floor(value / twoPow32)
  const low = value >>> 0
  target[offset] = high >>> 24
  target[offset + 1] = high >>> 16
  target[offset + 2] = high >>> 8
  target[offset + 3] = high
  target[offset + 4] = low >>> 24
  target[offset + 5] = low >>> 16
  target[offset + 6] = low >>> 8
  target[offset + 7] = low
}

export function readUint64BigEndian(source: Uint8Array, offset: number): number {
  const high = ((source[offset]! << 24) | (source[offset + 1]! << 16) | (source[offset + 2]! << 8) | source[offset + 3]!) >>> 0
  const low = ((source[offset + 4]! << 24) | (source[offset + 5]! << 16) | (source[offset + 6]! << 8) | source[offset + 7]!) >>> 0
  return high * twoPow32 + low
}

export class Writer {
  private buffer: Uint8Array
  private length = 0

  constructor(capacityBytes = 64) {
    this.buffer = new Uint8Array(capacityBytes)
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes))
    grown.set(this.buffer.subarray(0, this.length))
    this.buffer = grown
  }

  byte(value: number): this {
    this.reserve(1)
    this.buffer[this.length++] = value
    return this
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(value: number): this {
    this.reserve(8)
    let rest = value
    while (rest >= 0x80) {
      this.buffer[this.length++] = (rest % 0x80) | 0x80
      rest = Math.floor(rest / 0x80)
    }
    this.buffer[this.length++] = rest
    return this
  }

  uint32(value: number): this {
    this.reserve(4)
    this.buffer[this.length++] = value >>> 24
    this.buffer[this.length++] = value >>> 16
    this.buffer[this.length++] = value >>> 8
    this.buffer[this.length++] = value
    return this
  }

  uint64(value: number): this {
    this.reserve(8)
    writeUint64BigEndian(this.buffer, this.length, value)
    this.length += 8
    return this
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length)
    this.buffer.set(bytes, this.length)
    this.length += bytes.length
    return this
  }

  /** Length-prefixed bytes. */
  bytes(bytes: Uint8Array): this {
    return this.varint(bytes.length).raw(bytes)
  }

  finish(): Uint8Array {
    return this.buffer.slice(0, this.length)
  }
}

export class Reader {
  private offset = 0

  constructor(
    private readonly source: Uint8Array,
    private readonly location: string,
  ) {}

  private fail(reason: string): never {
    throw new CorruptDataError(this.location, `${reason} at byte ${this.offset} of ${this.source.length}`)
  }

  get done(): boolean {
    return this.offset === this.source.length
  }

  byte(): number {
    if (this.offset >= this.source.length) this.fail('truncated')
    return this.source[this.offset++]!
  }

  varint(): number {
    let value = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const b = this.byte()
      value += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) this.fail('varint out of range')
        return value
      }
      scale *= 0x80
    }
    return this.fail('varint too long')
  }

  uint32(): number {
    if (this.offset + 4 > this.source.length) this.fail('truncated')
    const s = this.source
    const o = this.offset
    this.offset += 4
    return ((s[o]! << 24) | (s[o + 1]! << 16) | (s[o + 2]! << 8) | s[o + 3]!) >>> 0
  }

  uint64(): number {
    if (this.offset + 8 > this.source.length) this.fail('truncated')
    const value = readUint64BigEndian(this.source, this.offset)
    this.offset += 8
    if (!Number.isSafeInteger(value)) this.fail('uint64 out of range')
    return value
  }

  raw(length: number): Uint8Array {
    if (this.offset + length > this.source.length) this.fail('truncated')
    const out = this.source.subarray(this.offset, this.offset + length)
    this.offset += length
    return out
  }

  bytes(): Uint8Array {
    return this.raw(this.varint())
  }

  rest(): Uint8Array {
    return this.raw(this.source.length - this.offset)
  }

  end(): void {
    if (!this.done) this.fail('trailing bytes')
  }
}
