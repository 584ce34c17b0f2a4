// The simulator's only source of randomness: xoshiro128** seeded through splitmix32.
//
// Every random choice of a run (fault mix, delays, crashes, client actions, and the election
// timeouts handed to each Raft node) is drawn from a Prng derived from the seed, so one seed
// replays one run exactly. Math.random is never used under test/sim.

const UINT32_RANGE = 4294967296

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(`prng: ${message}`)
}

/** One step of splitmix32: a good mixer for turning a small seed into well spread state words. */
function splitmix32(state: number): { state: number; value: number } {
  const next = (state + 0x9e3779b9) | 0
  let z = next
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  z = z ^ (z >>> 16)
  return { state: next, value: z >>> 0 }
}

function rotateLeft(x: number, bits: number): number {
  return ((x << bits) | (x >>> (32 - bits))) >>> 0
}

export class Prng {
  private s0 = 0
  private s1 = 0
  private s2 = 0
  private s3 = 0

  /** `seed` is any safe integer; its high and low 32 bits are both mixed in. */
  constructor(seed: number) {
    assert(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative safe integer, got ${seed}`)
    const low = seed >>> 0
    const high = Math.floor(seed / UINT32_RANGE) >>> 0
    let state = low ^ Math.imul(high, 0x27d4eb2f)
    const words: number[] = []
    for (let i = 0; i < 4; i++) {
      const step = splitmix32(state)
      state = step.state
      words.push(step.value)
    }
    this.s0 = words[0]!
    this.s1 = words[1]!
    this.s2 = words[2]!
    this.s3 = words[3]!
    // xoshiro's state must never be all zero.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1
  }

  /** Uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotateLeft(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0
    const t = (this.s1 << 9) >>> 0
    this.s2 = (this.s2 ^ this.s0) >>> 0
    this.s3 = (this.s3 ^ this.s1) >>> 0
    this.s1 = (this.s1 ^ this.s2) >>> 0
    this.s0 = (this.s0 ^ this.s3) >>> 0
    this.s2 = (this.s2 ^ t) >>> 0
    this.s3 = rotateLeft(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextUint32() / UINT32_RANGE
  }

  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    assert(Number.isSafeInteger(min) && Number.isSafeInteger(max), `int bounds must be integers: ${min}, ${max}`)
    assert(min <= max, `int: min ${min} > max ${max}`)
    const span = max - min + 1
    assert(span <= UINT32_RANGE, `int: span ${span} too large`)
    return min + Math.floor(this.float() * span)
  }

  /** True with probability p. chance(0) is always false and consumes no randomness. */
  chance(p: number): boolean {
    assert(p >= 0 && p <= 1, `chance: probability out of range: ${p}`)
    if (p === 0) return false
    return this.float() < p
  }

  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty list')
    return items[this.int(0, items.length - 1)]!
  }

  /** Picks an index with probability proportional to its weight. */
  weighted(weights: readonly number[]): number {
    let total = 0
    for (const w of weights) {
      assert(w >= 0, `negative weight ${w}`)
      total += w
    }
    assert(total > 0, 'weighted: all weights are zero')
    let x = this.float() * total
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!
      if (x < 0) return i
    }
    return weights.length - 1
  }

  /** Fisher-Yates, in place. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(0, i)
      const tmp = items[i]!
      items[i] = items[j]!
      items[j] = tmp
    }
    return items
  }

  /** An independent stream: seeded from this one, so it is itself determined by the seed. */
  fork(): Prng {
    return new Prng(this.nextUint32() * 2048 + (this.nextUint32() >>> 21))
  }
}
