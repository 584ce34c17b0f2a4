import { describe, expect, it } from 'vitest'
import { REFUSAL_LOG_INTERVAL_MS, RefusalLog } from './listener.ts'

describe('RefusalLog', () => {
  it('logs the first refusal of a host for a reason, then at most once per interval with the count left out', () => {
    const log = new RefusalLog()
    expect(log.admit('10.0.0.1:5000', 'untrusted', 0)).toBe(0)
    expect(log.admit('10.0.0.1:5001', 'untrusted', 100)).toBeUndefined()
    expect(log.admit('10.0.0.1:5002', 'untrusted', 200)).toBeUndefined()
    // Another reason or another host is news.
    expect(log.admit('10.0.0.1:5003', 'plain http', 300)).toBe(0)
    expect(log.admit('10.0.0.2:5000', 'untrusted', 300)).toBe(0)
    expect(log.admit('10.0.0.1:5004', 'untrusted', REFUSAL_LOG_INTERVAL_MS)).toBe(2)
    expect(log.admit('10.0.0.1:5005', 'untrusted', REFUSAL_LOG_INTERVAL_MS + 1)).toBeUndefined()
  })
})
