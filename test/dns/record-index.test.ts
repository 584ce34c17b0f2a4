// The label tree: puts, deletes (with pruning), invalid values, lease reference counts, wildcard matching.

import { describe, expect, it } from 'vitest'
import { RecordIndex } from '../../recipes/dns/record-index.ts'

describe('RecordIndex', () => {
  it('put() indexes by labels; delete() prunes empty branches so a deleted name is NXDOMAIN again', () => {
    const ix = new RecordIndex()
    expect(ix.put('/skydns/local/skydns/a/b/c', '{"host":"10.0.0.1"}', 0, 2)).toBe('indexed')
    expect(ix.exists(['local', 'skydns', 'a', 'b'])).toBe(true)
    ix.delete('/skydns/local/skydns/a/b/c')
    expect(ix.size).toBe(0)
    expect(ix.exists(['local', 'skydns', 'a'])).toBe(false)
    expect(ix.match(['local'])).toEqual([])
  })

  it('keys outside the prefix are ignored; invalid values drop the old record and are remembered', () => {
    const ix = new RecordIndex('/skydns/')
    expect(ix.put('/other/local/x', '{}', 0, 2)).toBe('ignored')
    expect(ix.put('/skydnsx/local/x', '{}', 0, 2)).toBe('ignored')
    expect(ix.put('/skydns/local/skydns/x', '{"host":"10.0.0.1"}', 0, 3)).toBe('indexed')
    expect(ix.put('/skydns/local/skydns/x', '{"port":"80"}', 0, 4)).toBe('invalid')
    expect(ix.size).toBe(0)
    expect(ix.invalid.get('/skydns/local/skydns/x')).toMatch(/port/)
    expect(ix.invalidCount).toBe(1)
    ix.delete('/skydns/local/skydns/x')
    expect(ix.invalidCount).toBe(0)
  })

  it('a key whose name cannot go on the wire is not a record', () => {
    const ix = new RecordIndex()
    expect(ix.put(`/skydns/local/${'x'.repeat(64)}`, '{"host":"10.0.0.1"}', 0, 2)).toBe('invalid')
    expect(ix.put(`/skydns/${Array(60).fill('abcd').join('/')}`, '{"host":"10.0.0.1"}', 0, 2)).toBe('invalid')
    expect(ix.size).toBe(0)
  })

  it('counts the keys on each lease', () => {
    const ix = new RecordIndex()
    ix.put('/skydns/a/x', '{}', 5, 2)
    ix.put('/skydns/a/y', '{}', 5, 3)
    ix.put('/skydns/a/y', '{}', 6, 4)
    expect(ix.leases().sort()).toEqual([5, 6])
    ix.delete('/skydns/a/x')
    expect(ix.leases()).toEqual([6])
  })

  it('lookup(): wildcards at any level, shallowest records first, capped', () => {
    const ix = new RecordIndex()
    for (const k of ['a/x/1', 'a/y/1', 'b/x/1', 'a/x', 'a/x/1/deep']) ix.put(`/skydns/local/${k}`, '{}', 0, 2)
    expect(ix.lookup(['local', '*', 'x']).records.map((r) => r.name)).toEqual(['x.a.local.', '1.x.a.local.', '1.x.b.local.', 'deep.1.x.a.local.'])
    expect(ix.lookup(['local', 'any', 'any', '1']).records).toHaveLength(4)
    expect(ix.lookup(['local'], 2)).toMatchObject({ capped: true })
    expect(ix.lookup(['local', 'a', 'x', '1', 'deep', 'deeper']).records).toEqual([])
  })
})
