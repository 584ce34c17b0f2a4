// Latency histogram in microseconds, log-linear: exact below 256 µs, then 128 sub-buckets per power
// of two (under 0.8 % error). Fixed size, no allocation per sample, mergeable across worker threads
// by adding the count arrays.

const LINEAR_MAX = 256
const SUB_BUCKETS = 128
const SHIFTS_MAX = 23 // 2^31 µs ≈ 35 minutes
export const HISTOGRAM_BUCKETS = LINEAR_MAX + SHIFTS_MAX * SUB_BUCKETS

export class Histogram {
  readonly counts: Float64Array
  count = 0
  sumUs = 0
  maxUs = 0
  minUs = Number.POSITIVE_INFINITY

  constructor(counts?: Float64Array) {
    this.counts = counts ?? new Float64Array(HISTOGRAM_BUCKETS)
    if (counts) this.recount()
  }

  recordMs(ms: number): void {
    this.recordUs(Math.round(ms * 1000))
  }

  recordUs(us: number): void {
    const v = us < 0 ? 0 : us
    this.counts[bucketOf(v)]! += 1
    this.count++
    this.sumUs += v
    if (v > this.maxUs) this.maxUs = v
    if (v < this.minUs) this.minUs = v
  }

  merge(other: Histogram): void {
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) this.counts[i]! += other.counts[i]!
    this.count += other.count
    this.sumUs += other.sumUs
    this.maxUs = Math.max(this.maxUs, other.maxUs)
    this.minUs = Math.min(this.minUs, other.minUs)
  }

  /** Latency in ms at quantile q in [0, 1]; NaN when empty. */
  quantileMs(q: number): number {
    if (this.count === 0) return Number.NaN
    if (q >= 1) return this.maxUs / 1000
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(bucketMidUs(i), this.maxUs) / 1000
    }
    return this.maxUs / 1000
  }

  meanMs(): number {
    return this.count === 0 ? Number.NaN : this.sumUs / this.count / 1000
  }

  toJSON(): { counts: number[]; sumUs: number; maxUs: number; minUs: number } {
    return { counts: Array.from(this.counts), sumUs: this.sumUs, maxUs: this.maxUs, minUs: this.minUs }
  }

  static fromTransfer(t: { counts: Float64Array | number[]; sumUs: number; maxUs: number; minUs: number }): Histogram {
    const h = new Histogram(Float64Array.from(t.counts))
    h.sumUs = t.sumUs
    h.maxUs = t.maxUs
    h.minUs = t.minUs
    return h
  }

  private recount(): void {
    let n = 0
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) n += this.counts[i]!
    this.count = n
  }
}

export function bucketOf(us: number): number {
  if (us < LINEAR_MAX) return us | 0
  const v = Math.min(us, 0x7fffffff) | 0 // 35 minutes: longer is clamped
  const exponent = 31 - Math.clz32(v) // ≥ 8
  const shift = exponent - 7 // in [1, 23]
  const mantissa = v >>> shift // in [128, 255]
  return LINEAR_MAX + (shift - 1) * SUB_BUCKETS + (mantissa - SUB_BUCKETS)
}

function bucketLowUs(i: number): number {
  if (i < LINEAR_MAX) return i
  const shift = Math.floor((i - LINEAR_MAX) / SUB_BUCKETS) + 1
  const mantissa = ((i - LINEAR_MAX) % SUB_BUCKETS) + SUB_BUCKETS
  return mantissa * 2 ** shift
}

function bucketMidUs(i: number): number {
  if (i < LINEAR_MAX) return i
  const shift = Math.floor((i - LINEAR_MAX) / SUB_BUCKETS) + 1
  return bucketLowUs(i) + 2 ** shift / 2
}

export interface LatencySummary {
  count: number
  p50: number
  p90: number
  p99: number
  p999: number
  max: number
  mean: number
}

export function summarize(h: Histogram): LatencySummary {
  const r = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : Number.NaN)
  return {
    count: h.count,
    p50: r(h.quantileMs(0.5)),
    p90: r(h.quantileMs(0.9)),
    p99: r(h.quantileMs(0.99)),
    p999: r(h.quantileMs(0.999)),
    max: r(h.maxUs / 1000),
    mean: r(h.meanMs()),
  }
}
