// The conformance suite every Db must pass (RocksDb, MemoryDb): point reads, atomic ordered batches
// with after-write callbacks, range scans with every bound, and the consistent view of an iteration.

import { afterEach, describe, expect, it } from 'vitest'
import type { Db, KeyRange } from './db.ts'
import { iterateChunkRowsMax } from './db.ts'
import { WriteBatch } from './write-batch.ts'

export interface DbHarness {
  db: Db
  cleanup(): Promise<void>
}

const text = (s: string) => new TextEncoder().encode(s)
const str = (b: Uint8Array) => new TextDecoder().decode(b)

async function collect(db: Db, range: KeyRange): Promise<string[]> {
  const out: string[] = []
  for await (const { key, value } of db.iterate(range)) out.push(`${str(key)}=${str(value)}`)
  return out
}

function collectSync(db: Db, range: KeyRange): string[] {
  const out: string[] = []
  for (const { key, value } of db.iterateSync(range)) out.push(`${str(key)}=${str(value)}`)
  return out
}

async function putAll(db: Db, pairs: Array<[string, string]>): Promise<void> {
  const batch = new WriteBatch()
  for (const [key, value] of pairs) batch.put(text(key), text(value))
  await db.write(batch, { sync: false })
}

export function describeDbConformance(name: string, factory: () => Promise<DbHarness>): void {
  describe(`${name} (Db conformance)`, () => {
    let harness: DbHarness | undefined
    const open = async () => {
      harness = await factory()
      return harness.db
    }
    afterEach(async () => {
      await harness?.cleanup()
      harness = undefined
    })

    it('get() and getSync() return stored values and undefined for missing keys', async () => {
      const db = await open()
      await putAll(db, [['a', '1']])
      expect(str((await db.get(text('a')))!)).toBe('1')
      expect(str(db.getSync(text('a'))!)).toBe('1')
      expect(await db.get(text('b'))).toBeUndefined()
      expect(db.getSync(text('b'))).toBeUndefined()
    })

    it('write() applies ops in order, then runs afterWrite callbacks, once', async () => {
      const db = await open()
      await putAll(db, [['gone', 'x']])
      const seen: string[] = []
      const batch = new WriteBatch()
        .put(text('a'), text('1'))
        .del(text('a'))
        .del(text('b'))
        .put(text('b'), text('2'))
        .put(text('c'), text('1'))
        .put(text('c'), text('3'))
        .del(text('gone'))
        .afterWrite(() => seen.push(`after ${db.getSync(text('c')) === undefined ? 'missing' : 'stored'}`))
      await db.write(batch, { sync: true })
      expect(seen).toEqual(['after stored'])
      expect(await collect(db, {})).toEqual(['b=2', 'c=3'])
      await expect(db.write(batch, { sync: false })).rejects.toThrow(/already/)
      expect(() => batch.put(text('d'), text('4'))).toThrow(/already/)
      expect(seen).toHaveLength(1)
    })

    it('an empty batch still runs its callbacks', async () => {
      const db = await open()
      let ran = false
      await db.write(new WriteBatch().afterWrite(() => (ran = true)), { sync: true })
      expect(ran).toBe(true)
    })

    it('discardRange() deletes exactly the keys in [gte, lt)', async () => {
      const db = await open()
      await putAll(db, [['a', '1'], ['b', '2'], ['b1', '3'], ['c', '4'], ['d', '5']])
      await db.discardRange(text('b'), text('c'))
      expect(await collect(db, {})).toEqual(['a=1', 'c=4', 'd=5'])
      await db.discardRange(text('x'), text('y')) // nothing there
      await db.discardRange(text('d'), text('a')) // an empty range
      expect(collectSync(db, {})).toEqual(['a=1', 'c=4', 'd=5'])
    })

    it('iterate() and iterateSync() honour every bound, reverse and limit', async () => {
      const db = await open()
      await putAll(db, [['a', '1'], ['b', '2'], ['c', '3'], ['d', '4'], ['e', '5']])
      const cases: Array<[KeyRange, string]> = [
        [{}, 'abcde'],
        [{ gte: text('b') }, 'bcde'],
        [{ gt: text('b') }, 'cde'],
        [{ lt: text('d') }, 'abc'],
        [{ lte: text('d') }, 'abcd'],
        [{ gte: text('b'), lt: text('d') }, 'bc'],
        [{ gt: text('a'), lte: text('c'), reverse: true }, 'cb'],
        [{ reverse: true, limit: 2 }, 'ed'],
        [{ gte: text('bb'), limit: 2 }, 'cd'],
        [{ gte: text('x') }, ''],
        [{ gte: text('c'), lt: text('b') }, ''],
      ]
      for (const [range, expected] of cases) {
        const keys = (await collect(db, range)).map((pair) => pair[0]).join('')
        expect(keys, JSON.stringify(range)).toBe(expected)
        expect(collectSync(db, range).map((pair) => pair[0]).join(''), JSON.stringify(range)).toBe(expected)
      }
    })

    it('iterate() reads one consistent view taken at the call, across chunks', async () => {
      const db = await open()
      const count = iterateChunkRowsMax * 2 + 7
      const pairs: Array<[string, string]> = []
      for (let i = 0; i < count; i++) pairs.push([`k${String(i).padStart(6, '0')}`, 'old'])
      await putAll(db, pairs)
      const view = db.iterate({ gte: text('k'), lt: text('l') })
      const viewSync = db.iterateSync({ gte: text('k'), lt: text('l') })
      const batch = new WriteBatch()
      for (const [key] of pairs) batch.put(text(key), text('new'))
      batch.put(text('k000000a'), text('new')).del(text('k000001'))
      await db.write(batch, { sync: false })
      let seen = 0
      for await (const { value } of view) {
        expect(str(value)).toBe('old')
        seen++
      }
      expect(seen).toBe(count)
      expect([...viewSync].every(({ value }) => str(value) === 'old')).toBe(true)
      expect((await collect(db, { gte: text('k'), lt: text('l') })).length).toBe(count)
    })

    it('leaving an iteration early releases it, and close() then succeeds', async () => {
      const db = await open()
      await putAll(db, [['a', '1'], ['b', '2'], ['c', '3']])
      for await (const { key } of db.iterate({})) if (str(key) === 'a') break
      for (const { key } of db.iterateSync({})) if (str(key) === 'a') break
      await db.close()
      harness = { db, cleanup: harness!.cleanup }
    })
  })
}
