// A bounded window of in-flight append messages to one follower: a ring buffer of the last index
// (and byte size) of each message sent and not yet acknowledged.

export class Inflights {
  private start = 0
  private countNow = 0
  private bytesNow = 0
  private readonly indexes: number[]
  private readonly sizes: number[]

  constructor(
    readonly sizeMax: number,
    readonly bytesMax: number,
  ) {
    if (sizeMax <= 0) throw new RangeError(`inflights sizeMax must be positive, got ${sizeMax}`)
    this.indexes = new Array<number>(sizeMax).fill(0)
    this.sizes = new Array<number>(sizeMax).fill(0)
  }

  clone(): Inflights {
    const c = new Inflights(this.sizeMax, this.bytesMax)
    for (let i = 0; i < this.countNow; i++) {
      const at = (this.start + i) % this.sizeMax
      c.add(this.indexes[at]!, this.sizes[at]!)
    }
    return c
  }

  /** Records a message whose last entry is `index`. The caller checks full() first. */
  add(index: number, bytes: number): void {
    if (this.full()) throw new Error('cannot add into a full inflights window')
    const at = (this.start + this.countNow) % this.sizeMax
    this.indexes[at] = index
    this.sizes[at] = bytes
    this.countNow++
    this.bytesNow += bytes
  }

  /** Frees every message whose last index is <= `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.countNow > 0 && this.indexes[this.start]! <= index) {
      this.bytesNow -= this.sizes[this.start]!
      this.start = (this.start + 1) % this.sizeMax
      this.countNow--
    }
    if (this.countNow === 0) this.start = 0
  }

  /** Frees the oldest message: a heartbeat answer proves the follower is alive, so let one more through. */
  freeFirstOne(): void {
    if (this.countNow > 0) this.freeLE(this.indexes[this.start]!)
  }

  full(): boolean {
    return this.countNow === this.sizeMax || (this.bytesMax > 0 && this.bytesNow >= this.bytesMax)
  }

  count(): number {
    return this.countNow
  }

  reset(): void {
    this.start = 0
    this.countNow = 0
    this.bytesNow = 0
  }
}
