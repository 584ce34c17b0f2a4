import { describe, expect, test } from 'vitest'
import { keyBytesMax, txnDepthMax, valueBytesMax } from './limits.ts'
import type { ApplyRequest, RequestOp, TxnRequest } from './requests.ts'
import { b, expectCode, TestStore } from './testing/helpers.ts'
import { validateApplyRequest, validateRangeRequest } from './validate.ts'

const limits = { txnOpsMax: 128 }

function codeOf(request: ApplyRequest): string | undefined {
  try {
    validateApplyRequest(request, limits)
    return undefined
  } catch (error) {
    return (error as { code?: string }).code
  }
}

const put = (key: string, value = 'v'): RequestOp => ({ requestPut: { key: b(key), value: b(value) } })
const del = (key: string, rangeEnd?: Uint8Array): RequestOp => ({
  requestDeleteRange: rangeEnd === undefined ? { key: b(key) } : { key: b(key), rangeEnd },
})
const nested = (txn: TxnRequest): RequestOp => ({ requestTxn: txn })
const txnCode = (txn: TxnRequest) => codeOf({ txn })

describe('validation of keys, values and numbers', () => {
  test('empty keys are refused with EmptyKey everywhere', () => {
    expect(codeOf({ put: { key: new Uint8Array(0), value: b('v') } })).toBe('EmptyKey')
    expect(codeOf({ deleteRange: { key: new Uint8Array(0) } })).toBe('EmptyKey')
    expect(txnCode({ compare: [{ key: new Uint8Array(0), target: 'VERSION', result: 'EQUAL' }] })).toBe('EmptyKey')
    expect(txnCode({ success: [{ requestRange: { key: new Uint8Array(0) } }] })).toBe('EmptyKey')
    expect(() => validateRangeRequest({ key: new Uint8Array(0) })).toThrow(expect.objectContaining({ code: 'EmptyKey' }))
  })

  test('oversized keys and values are refused with KeyTooLarge / ValueTooLarge', () => {
    expect(codeOf({ put: { key: new Uint8Array(keyBytesMax), value: b('v') } })).toBeUndefined()
    expect(codeOf({ put: { key: new Uint8Array(keyBytesMax + 1), value: b('v') } })).toBe('KeyTooLarge')
    expect(codeOf({ put: { key: b('k'), value: new Uint8Array(valueBytesMax + 1) } })).toBe('ValueTooLarge')
    expect(codeOf({ deleteRange: { key: b('k'), rangeEnd: new Uint8Array(keyBytesMax + 1) } })).toBe('KeyTooLarge')
  })

  test('negative or fractional numbers are refused with InvalidArgument', () => {
    expect(() => validateRangeRequest({ key: b('k'), limit: -1 })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
    expect(() => validateRangeRequest({ key: b('k'), revision: -3 })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
    expect(() => validateRangeRequest({ key: b('k'), minModRevision: 1.5 })).toThrow(expect.objectContaining({ code: 'InvalidArgument' }))
    expect(codeOf({ put: { key: b('k'), lease: -1 } })).toBe('InvalidArgument')
    expect(codeOf({ compaction: { revision: -1 } })).toBe('InvalidArgument')
    expect(codeOf({ leaseGrant: { id: 0, ttl: 5 } })).toBe('InvalidArgument')
    expect(codeOf({ leaseGrant: { id: 2 ** 53, ttl: 5 } })).toBe('InvalidArgument')
    expect(codeOf({ leaseGrant: { id: 1, ttl: -5 } })).toBe('InvalidArgument')
  })

  test('unknown enum values are refused', () => {
    expect(() => validateRangeRequest({ key: b('k'), sortOrder: 'UP' as never })).toThrow(expect.objectContaining({ code: 'InvalidSortOption' }))
    expect(() => validateRangeRequest({ key: b('k'), sortTarget: 7 as never })).toThrow(expect.objectContaining({ code: 'InvalidSortOption' }))
    expect(txnCode({ compare: [{ key: b('k'), target: 'SIZE' as never, result: 'EQUAL' }] })).toBe('InvalidArgument')
    expect(txnCode({ compare: [{ key: b('k'), target: 'VALUE', result: 'ABOUT' as never }] })).toBe('InvalidArgument')
  })

  test('ignore_value with a value and ignore_lease with a lease are refused as etcd does', () => {
    expect(codeOf({ put: { key: b('k'), value: b('v'), ignoreValue: true } })).toBe('ValueProvided')
    expect(codeOf({ put: { key: b('k'), lease: 3, ignoreLease: true } })).toBe('LeaseProvided')
  })

  test('a request must set exactly one known field', () => {
    expect(codeOf({} as never)).toBe('InvalidArgument')
    expect(codeOf({ put: { key: b('k') }, deleteRange: { key: b('k') } } as never)).toBe('InvalidArgument')
    expect(codeOf({ watch: {} } as never)).toBe('InvalidArgument')
    expect(codeOf({ put: { key: 'k' } } as never)).toBe('InvalidArgument')
  })
})

describe('validation of txns', () => {
  test('malformed operations in nested txns are refused', () => {
    expect(txnCode({ success: [{} as never] })).toBe('InvalidArgument')
    expect(txnCode({ success: [nested({ failure: [{ requestPut: { key: b('a') }, requestRange: { key: b('a') } } as never] })] })).toBe(
      'InvalidArgument',
    )
    expect(txnCode({ success: 'all' as never })).toBe('InvalidArgument')
    let deep: TxnRequest = { success: [put('x')] }
    for (let i = 0; i <= txnDepthMax; i++) deep = { success: [nested(deep)] }
    expect(txnCode(deep)).toBe('InvalidArgument')
  })

  test('too many operations in any list, at any depth, are refused with TooManyOps', () => {
    const many = Array.from({ length: 129 }, (_, i) => put(`k${i}`))
    expect(txnCode({ success: many })).toBe('TooManyOps')
    expect(txnCode({ failure: many })).toBe('TooManyOps')
    expect(txnCode({ compare: Array.from({ length: 129 }, () => ({ key: b('k'), target: 'VERSION' as const, result: 'EQUAL' as const })) })).toBe(
      'TooManyOps',
    )
    expect(txnCode({ success: [nested({ success: many })] })).toBe('TooManyOps')
  })

  test("duplicate keys follow etcd's rules", () => {
    expect(txnCode({ success: [put('a'), put('a')] })).toBe('DuplicateKey')
    expect(txnCode({ success: [del('a', b('c')), put('b')] })).toBe('DuplicateKey')
    expect(txnCode({ success: [put('b'), del('b')] })).toBe('DuplicateKey')
    // Deletes may overlap each other; a put outside every delete is fine.
    expect(txnCode({ success: [del('a', b('c')), del('b'), put('c')] })).toBeUndefined()
    // The two branches of one nested txn are exclusive.
    expect(txnCode({ success: [nested({ success: [put('a')], failure: [put('a')] })] })).toBeUndefined()
    // ... but the key may not also be written beside it.
    expect(txnCode({ success: [put('a'), nested({ success: [put('a')] })] })).toBe('DuplicateKey')
    expect(txnCode({ success: [nested({ failure: [put('a')] }), nested({ success: [put('a')] })] })).toBe('DuplicateKey')
    expect(txnCode({ success: [del('a'), nested({ failure: [put('a')] })] })).toBe('DuplicateKey')
    expect(txnCode({ success: [nested({ success: [del('a')] }), put('a')] })).toBe('DuplicateKey')
    // success and failure of the top txn are checked separately.
    expect(txnCode({ success: [put('a')], failure: [put('a')] })).toBeUndefined()
    // As in etcd, a delete with range_end "\0" conflicts with nothing.
    expect(txnCode({ success: [del('a', new Uint8Array([0])), put('b')] })).toBeUndefined()
  })
})

describe('bad input through apply writes nothing', () => {
  test('a refused entry leaves keys and revision untouched and counts as applied', async () => {
    const t = await TestStore.create()
    await t.put('a', '1')
    expect(await t.refused({ txn: { success: [put('x'), put('y', 'z'), put('x')] } })).toBe('DuplicateKey')
    expect(await t.refused({ put: { key: new Uint8Array(keyBytesMax + 1), value: b('v') } })).toBe('KeyTooLarge')
    expect(await t.keys()).toEqual(['a'])
    expect(t.store.currentRevision()).toBe(2)
    expect(t.store.appliedIndex()).toBe(3)
  })

  test('range outside apply rejects bad input with typed errors', async () => {
    const t = await TestStore.create()
    await expectCode(t.store.range({ key: new Uint8Array(0) }), 'EmptyKey')
    await expectCode(t.store.range({ key: b('a'), limit: -2 }), 'InvalidArgument')
    await expectCode(t.store.range({ key: b('a'), revision: 5 }), 'FutureRevision')
  })
})

// Found by test/fuzz/decoders.test.ts: entries come from peers and from disk, and a request part that is
// not an object (or an object whose toString is not a function) made validation throw a TypeError, which
// apply() takes for a storage failure — every member applying the entry stopped, and stopped again on
// restart when it replayed it.
describe('validateApplyRequest() refuses hostile shapes with InvalidArgument, never a TypeError', () => {
  const hostile: unknown[] = [
    { put: null },
    { put: [] },
    { deleteRange: 7 },
    { txn: { success: [{ requestPut: null }] } },
    { txn: { compare: [null] } },
    { compaction: null },
    { leaseGrant: null },
    { leaseRevoke: null },
    { alarm: 'x' },
    { put: { key: { toString: 0 } } },
    { put: { key: b('k'), value: Object.create(null) as unknown } },
    { put: { key: b('k'), lease: { valueOf: 1 } } },
  ]
  test.each(hostile.map((h) => [JSON.stringify(h) ?? String(h), h]))('%s', async (_name, request) => {
    expect(codeOf(request as ApplyRequest)).toBe('InvalidArgument')
    const t = await TestStore.create()
    expect(await t.refused(request as ApplyRequest)).toBe('InvalidArgument')
    await t.put('still', 'usable')
  })
})
