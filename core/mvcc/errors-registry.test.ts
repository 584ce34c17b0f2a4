import { readFileSync } from 'node:fs'
import { describe, expect, test } from 'vitest'
import {
  CairnError,
  CompactedError,
  errorCodes,
  errorDefinitions,
  errorFromEtcdBody,
  GrpcCode,
  LeaseNotFoundError,
  NoLeaderError,
  RequestTooLargeError,
} from '../errors.ts'

describe('error registry (core/errors.ts)', () => {
  test('every code has its own message', () => {
    const messages = errorCodes.map((code) => errorDefinitions[code].message)
    expect(new Set(messages).size).toBe(messages.length)
  })

  test('keyspace errors carry etcd gateway codes, messages and HTTP statuses', () => {
    const compacted = new CompactedError(7)
    expect(compacted).toMatchObject({ code: 'Compacted', grpcCode: GrpcCode.OutOfRange, httpStatus: 400, compactRevision: 7 })
    expect(compacted.toEtcdBody()).toEqual({
      error: 'etcdserver: mvcc: required revision has been compacted',
      code: 11,
      message: 'etcdserver: mvcc: required revision has been compacted',
    })
    expect(new LeaseNotFoundError(3)).toMatchObject({ grpcCode: 5, httpStatus: 404, message: 'etcdserver: requested lease not found' })
    expect(new RequestTooLargeError()).toMatchObject({ httpStatus: 400, message: 'etcdserver: request is too large' })
    expect(new NoLeaderError()).toMatchObject({ httpStatus: 503, retryable: true, message: 'etcdserver: no leader' })
    expect(new CairnError('TooManyOps').message).toBe('etcdserver: too many operations in txn request')
    expect(new CairnError('DuplicateKey').message).toBe('etcdserver: duplicate key given in txn request')
    expect(new CairnError('EmptyKey').message).toBe('etcdserver: key is not provided')
  })

  test('a Cairn-only error appends its detail in the gateway body', () => {
    expect(new CairnError('KeyTooLarge', 'key of 9 bytes').toEtcdBody().message).toBe('cairn: key is too large: key of 9 bytes')
  })

  test('every error survives the trip through the gateway body', () => {
    for (const code of errorCodes) {
      const back = errorFromEtcdBody(new CairnError(code, 'why').toEtcdBody())
      expect(back.code, code).toBe(code)
    }
    expect(errorFromEtcdBody({ code: 2, message: 'something else' }).code).toBe('InvalidArgument')
  })

  test('docs/mvcc.md lists every code', () => {
    const docs = readFileSync(new URL('../../docs/mvcc.md', import.meta.url), 'utf8')
    const missing = errorCodes.filter((code) => !docs.includes(`\`${code}\``))
    expect(missing).toEqual([])
  })
})
