// The pure parts of the recipes: the semaphore's value and state changes, the lock queue's decision
// step, the failpoint switch and the manual clock.

import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ManualClock } from '../../recipes/clock.ts'
import { decideQueue, encodeToken, failpointEnabled } from '../../recipes/lock/index.ts'
import type { QueueState } from '../../recipes/lock/index.ts'
import {
  decideLock,
  decidePrune,
  decideSetMax,
  decideUnlock,
  encodeValue,
  holderKey,
  parseValue,
  queryEscape,
  semaphoreKey,
} from '../../recipes/semaphore/index.ts'

describe('semaphore value', () => {
  it('parseValue() reads locksmith\'s value, holders null included, and refuses garbage', () => {
    expect(parseValue('{"semaphore":1,"max":1,"holders":null}')).toEqual({ semaphore: 1, max: 1, holders: [] })
    expect(parseValue('{"semaphore":-1,"max":2,"holders":["a","b","c"]}')).toEqual({ semaphore: -1, max: 2, holders: ['a', 'b', 'c'] })
    expect(() => parseValue('nope')).toThrow(TypeError)
    expect(() => parseValue('{"semaphore":"1"}')).toThrow(/integer "semaphore"/)
    expect(() => parseValue('{"semaphore":1,"max":1,"holders":[1]}')).toThrow(/holders/)
  })

  it('encodeValue() writes the fields in locksmith\'s order', () => {
    expect(encodeValue({ holders: ['a'], max: 2, semaphore: 1 } as never)).toBe('{"semaphore":1,"max":2,"holders":["a"]}')
  })

  it('decideLock() takes a slot, is idempotent for a holder, refuses at 0 or below', () => {
    expect(decideLock({ semaphore: 1, max: 1, holders: [] }, 'a')).toEqual({ kind: 'take', next: { semaphore: 0, max: 1, holders: ['a'] } })
    expect(decideLock({ semaphore: 0, max: 1, holders: ['a'] }, 'a')).toEqual({ kind: 'already-holder' })
    expect(decideLock({ semaphore: 0, max: 1, holders: ['a'] }, 'b')).toEqual({ kind: 'full', semaphore: 0 })
    expect(decideLock({ semaphore: -2, max: 0, holders: ['a', 'b'] }, 'c')).toEqual({ kind: 'full', semaphore: -2 })
  })

  it('decideUnlock() gives the slot back; decideSetMax() moves by the difference', () => {
    expect(decideUnlock({ semaphore: 0, max: 1, holders: ['a'] }, 'a')).toEqual({ kind: 'release', next: { semaphore: 1, max: 1, holders: [] } })
    expect(decideUnlock({ semaphore: 0, max: 1, holders: ['a'] }, 'b')).toEqual({ kind: 'not-holder' })
    expect(decideSetMax({ semaphore: 0, max: 2, holders: ['a', 'b'] }, 1)).toEqual({ semaphore: -1, max: 1, holders: ['a', 'b'] })
    expect(decideSetMax({ semaphore: 1, max: 1, holders: [] }, 5)).toEqual({ semaphore: 5, max: 5, holders: [] })
  })

  it('decidePrune() removes only marked holders whose key is gone', () => {
    const v = { semaphore: 0, max: 3, holders: ['dead', 'alive', 'unmarked'] }
    const r = decidePrune(v, new Set(['dead', 'alive']), new Set(['alive']))
    expect(r.pruned).toEqual(['dead'])
    expect(r.next).toEqual({ semaphore: 1, max: 3, holders: ['alive', 'unmarked'] })
    expect(decidePrune(v, new Set(), new Set()).pruned).toEqual([])
  })

  it('queryEscape() matches Go url.QueryEscape; keys follow locksmith\'s layout', () => {
    expect(queryEscape('a b/c?d=e&f~g.h-i_j')).toBe('a+b%2Fc%3Fd%3De%26f~g.h-i_j')
    expect(queryEscape('é')).toBe('%C3%A9')
    expect(semaphoreKey()).toBe('coreos.com/updateengine/rebootlock/semaphore')
    expect(semaphoreKey('')).toBe('coreos.com/updateengine/rebootlock/semaphore')
    expect(semaphoreKey('web')).toBe('coreos.com/updateengine/rebootlock/groups/web/semaphore')
    expect(holderKey('m 1', 'web')).toBe('coreos.com/updateengine/rebootlock/groups/web/holders/m+1')
  })
})

describe('lock queue decision', () => {
  const base: QueueState = {
    myRevision: 10,
    own: { createRevision: 10, lease: 7 },
    leaseId: 7,
    sessionLost: false,
    predecessor: undefined,
    skipRecheck: false,
  }
  const pred = { key: new TextEncoder().encode('l/5'), createRevision: 5 }

  it('decideQueue() holds when first, waits on the predecessor otherwise', () => {
    expect(decideQueue(base)).toEqual({ kind: 'hold' })
    expect(decideQueue({ ...base, predecessor: pred })).toEqual({ kind: 'wait', key: pred.key })
  })

  it('decideQueue() gives up when its key or session is gone (etcd#11456), unless the failpoint skips the check', () => {
    expect(decideQueue({ ...base, own: undefined }).kind).toBe('lost')
    expect(decideQueue({ ...base, sessionLost: true }).kind).toBe('lost')
    expect(decideQueue({ ...base, own: { createRevision: 12, lease: 7 } }).kind).toBe('lost')
    expect(decideQueue({ ...base, own: { createRevision: 10, lease: 8 } }).kind).toBe('lost')
    expect(decideQueue({ ...base, own: undefined, skipRecheck: true })).toEqual({ kind: 'hold' })
  })
})

describe('failpoints and helpers', () => {
  afterEach(() => {
    delete process.env.CAIRN_FAILPOINTS
  })

  it('failpointEnabled() reads CAIRN_FAILPOINTS at each call', () => {
    expect(failpointEnabled('skip-lease-recheck')).toBe(false)
    process.env.CAIRN_FAILPOINTS = 'other, skip-lease-recheck'
    expect(failpointEnabled('skip-lease-recheck')).toBe(true)
  })

  it('encodeToken() sorts as numbers do', () => {
    expect(encodeToken(9) < encodeToken(10)).toBe(true)
    expect(() => encodeToken(0)).toThrow(RangeError)
  })

  it('ManualClock wakes sleepers in order as time advances', async () => {
    const clock = new ManualClock(1000)
    const woke: number[] = []
    void clock.sleep(50).then(() => woke.push(clock.now()))
    void clock.sleep(10).then(() => woke.push(clock.now()))
    await clock.advance(20)
    expect(woke).toEqual([1010])
    await clock.advance(100)
    expect(woke).toEqual([1010, 1050])
    expect(clock.now()).toBe(1120)
  })
})

describe('layering', () => {
  const root = new URL('../..', import.meta.url).pathname
  /** Every relative import of the .ts files under dir, resolved against the repository root. */
  function importsUnder(dir: string): Array<{ file: string; target: string }> {
    const out: Array<{ file: string; target: string }> = []
    for (const name of readdirSync(join(root, dir))) {
      if (!name.endsWith('.ts')) continue
      const text = readFileSync(join(root, dir, name), 'utf8')
      for (const m of text.matchAll(/(?:from\s+|import\()'(\.[^']+)'/g)) {
        out.push({ file: `${dir}/${name}`, target: relative(root, join(root, dir, m[1]!)) })
      }
    }
    return out
  }

  it('recipes import only core/client and other recipes', () => {
    const bad = ['recipes/semaphore', 'recipes/lock', 'recipes/election']
      .flatMap(importsUnder)
      .filter((i) => !i.target.startsWith('core/client/') && !i.target.startsWith('recipes/'))
    expect(bad).toEqual([])
  })

  it('the reboot agent imports only recipes and core/client (and the CLI\'s shared connection flags)', () => {
    // Every agent takes the same TLS and credential flags as the CLI; core/cli/ctl/context.ts is the
    // one place that turns them into Client options, so the agents import that module and nothing
    // else of the CLI.
    const bad = importsUnder('agents/rebootd').filter(
      (i) =>
        !i.target.startsWith('core/client/') &&
        !i.target.startsWith('recipes/') &&
        !i.target.startsWith('agents/rebootd/') &&
        i.target !== 'core/cli/ctl/context.ts',
    )
    expect(bad).toEqual([])
  })
})
