// Little helpers to write and read the compact big-endian layouts of stored records. The reader never
// reads past its end: a short or malformed record throws DecodeError, which callers turn into a
// CorruptionError naming the record.

/** Largest high word of a u64 that still gives a safe integer (numbers are exact below 2^53). */
const safeHighWordMax = 0x1f_ffff
const twoToThe32 = 0x1_0000_0000

export class DecodeError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DecodeError'
  }
}

export class ByteWriter {
  private bytes: Uint8Array
  private view: DataView
  private length = 0

  constructor(capacityBytes = 64) {
    this.bytes = new Uint8Array(capacityBytes)
    this.view = new DataView(this.bytes.buffer)
  }

  private reserve(countBytes: number): void {
    const needed = this.length + countBytes
    if (needed <= this.bytes.length) return
    const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2))
    grown.set(this.bytes.subarray(0, this.length))
    this.bytes = grown
    this.view = new DataView(grown.buffer)
  }

  u8(value: number): this {
    this.reserve(1)
    this.view.setUint8(this.length, value)
    this.length += 1
    return this
  }

  u32(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value >= twoToThe32) throw new RangeError(`expected a u32, got ${value}`)
    this.reserve(4)
    this.view.setUint32(this.length, value)
    this.length += 4
    return this
  }

  /** A non-negative safe integer as 8 bytes, big-endian, so that byte order equals numeric order. */
  u64(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`expected a non-negative safe integer, got ${value}`)
    this.reserve(8)
    this.view.setUint32(this.length, Math.floor(value / twoToThe32))
    this.view.setUint32(this.length + 4, value % twoToThe32)
    this.length += 8
    return this
  }

  raw(bytes: Uint8Array): this {
    this.reserve(bytes.length)
    this.bytes.set(bytes, this.length)
    this.length += bytes.length
    return this
  }

  /** The bytes written so far (a view; the writer must not be used afterwards). */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.length)
  }
}

export class ByteReader {
  private position = 0
  private readonly view: DataView

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  private take(countBytes: number): number {
    const at = this.position
    if (at + countBytes > this.bytes.length) {
      throw new DecodeError(`record too short: needed ${countBytes} bytes at offset ${at}, have ${this.bytes.length - at}`)
    }
    this.position += countBytes
    return at
  }

  u8(): number {
    return this.view.getUint8(this.take(1))
  }

  u32(): number {
    return this.view.getUint32(this.take(4))
  }

  u64(): number {
    const at = this.take(8)
    const high = this.view.getUint32(at)
    if (high > safeHighWordMax) throw new DecodeError(`integer at offset ${at} exceeds 2^53`)
    return high * twoToThe32 + this.view.getUint32(at + 4)
  }

  /** A copy of the next countBytes bytes, so the result does not pin the whole source buffer. */
  copy(countBytes: number): Uint8Array {
    const at = this.take(countBytes)
    // Not bytes.slice(): on a Buffer (what RocksDB returns) slice() is a view, not a copy.
    const out = new Uint8Array(countBytes)
    out.set(this.bytes.subarray(at, at + countBytes))
    return out
  }

  remainingBytes(): number {
    return this.bytes.length - this.position
  }

  /** Every record is read whole: trailing bytes mean the layout is not the one we think. */
  expectEnd(): void {
    if (this.position !== this.bytes.length) {
      throw new DecodeError(`${this.bytes.length - this.position} unexpected trailing bytes at offset ${this.position}`)
    }
  }
}
