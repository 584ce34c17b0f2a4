import { describe, expect, it } from 'vitest'
import { mostCurrentAnswer } from './join-answer.ts'

const member = (id: number, url: string) => ({ id, name: '', peerUrls: [url], clientUrls: [], isLearner: false })

describe('mostCurrentAnswer', () => {
  it("takes the list of the peer that applied the most, whatever order the answers came in", () => {
    // n3 was removed (id 7) and added again (id 9) at the same URL; one peer has not applied that yet.
    const stale = { members: [member(1, 'http://a'), member(7, 'http://c')], clusterId: 5, appliedIndex: 40 }
    const current = { members: [member(1, 'http://a'), member(9, 'http://c')], clusterId: 5, appliedIndex: 52 }
    expect(mostCurrentAnswer([stale, current])).toBe(current)
    expect(mostCurrentAnswer([current, stale])).toBe(current)
    expect(mostCurrentAnswer([{ error: 'http://b: fetch failed' }, stale])).toBe(stale)
  })

  it('has nothing to offer when no peer answered', () => {
    expect(mostCurrentAnswer([{ error: 'x' }, { error: 'y' }])).toBeUndefined()
    expect(mostCurrentAnswer([])).toBeUndefined()
  })
})
