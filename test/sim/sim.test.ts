import { describe, expect, it } from 'vitest'
import { BUG_NAMES, runSeed, STEPS_DEFAULT } from './simulation.ts'
import type { BugName, RunResult } from './simulation.ts'

const CLEAN_SEEDS = 40
/** Each planted bug must be caught well within the first seeds (the CLI proves it over 500). */
const BUG_SEEDS_MAX = 60

function run(seed: number, bug: BugName | undefined, steps = STEPS_DEFAULT): RunResult {
  return runSeed({ seed, steps, bug, trace: undefined })
}

describe('simulator', () => {
  it(`runSeed() finds no violation in seeds 1..${CLEAN_SEEDS}`, () => {
    const failures: string[] = []
    let acked = 0
    for (let seed = 1; seed <= CLEAN_SEEDS; seed++) {
      const result = run(seed, undefined)
      acked += result.workload.acked
      if (result.violation !== undefined) failures.push(`seed ${seed}: ${result.violation.message}`)
    }
    expect(failures).toEqual([])
    // The seeds did real work: writes acknowledged through crashes and partitions.
    expect(acked).toBeGreaterThan(CLEAN_SEEDS * 10)
  })

  it('runSeed() replays a seed exactly', () => {
    for (const seed of [7, 8]) {
      const a = run(seed, undefined, 1500)
      const b = run(seed, undefined, 1500)
      expect(b).toEqual(a)
    }
  })

  for (const bug of BUG_NAMES) {
    it(`runSeed() catches the planted bug ${bug}`, () => {
      let caught: RunResult | undefined
      for (let seed = 1; seed <= BUG_SEEDS_MAX && caught === undefined; seed++) {
        const result = run(seed, bug)
        if (result.violation !== undefined) caught = result
      }
      expect(caught?.violation).toBeDefined()
    })
  }
})
