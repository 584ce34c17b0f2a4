import { describe, expect, it } from 'vitest'
import { KeyedLock } from '../../core/api/v2/keyed-lock.ts'

describe('KeyedLock', () => {
  it('runs sections of one key one at a time, in order, and other keys alongside', async () => {
    const lock = new KeyedLock()
    const log: string[] = []
    const section = (name: string, ms: number) => async () => {
      log.push(`start ${name}`)
      await new Promise((r) => setTimeout(r, ms))
      log.push(`end ${name}`)
      return name
    }
    const full = () => new Error('full')
    const results = await Promise.all([lock.run('a', section('a1', 20), full), lock.run('a', section('a2', 1), full), lock.run('b', section('b1', 1), full)])
    expect(results).toEqual(['a1', 'a2', 'b1'])
    expect(log.indexOf('end a1')).toBeLessThan(log.indexOf('start a2'))
    expect(log.indexOf('start b1')).toBeLessThan(log.indexOf('end a1'))
    expect(lock.size).toBe(0)
  })

  it('releases the key when a section throws', async () => {
    const lock = new KeyedLock()
    await expect(lock.run('k', () => Promise.reject(new Error('boom')), () => new Error('full'))).rejects.toThrow('boom')
    expect(await lock.run('k', async () => 'next', () => new Error('full'))).toBe('next')
    expect(lock.size).toBe(0)
  })
})
