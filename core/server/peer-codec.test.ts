import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { message } from '../raft/types.ts'
import { decodeFrame, decodeSnapshotHeader, encodeFrame, fromMessage, PeerFrameError, toMessage } from './peer-codec.ts'

describe('peer codec', () => {
  it('round-trips a raft message with entries and context', () => {
    const m = message({
      type: 'app',
      to: 2,
      from: 1,
      term: 5,
      logTerm: 4,
      index: 10,
      commit: 9,
      entries: [{ term: 5, index: 11, type: 'normal', data: new Uint8Array([1, 2, 3]) }],
      context: new Uint8Array([9]),
    })
    const back = toMessage(decodeFrame(encodeFrame(fromMessage(m))))
    const plain = (b: Uint8Array | undefined) => (b ? Array.from(b) : b)
    expect({ ...back, entries: [], context: plain(back.context) }).toEqual({ ...m, entries: [], context: [9] })
    expect(back.entries.map((e) => ({ ...e, data: plain(e.data) }))).toEqual([{ term: 5, index: 11, type: 'normal', data: [1, 2, 3] }])
    expect(back.entries[0]!.data).toBeInstanceOf(Uint8Array)
  })

  it('refuses local message types, bad numbers and missing snapshots', () => {
    expect(() => toMessage({ type: 'hup', to: 1, from: 2, term: 0 })).toThrow(PeerFrameError)
    expect(() => toMessage({ type: 'app', to: -1, from: 2, term: 0 })).toThrow(/to must be/)
    expect(() => toMessage({ type: 'snap', to: 1, from: 2, term: 3 })).toThrow(/snap without snapshot/)
    expect(() => toMessage({ type: 'app', to: 1, from: 2, term: 1, entries: [{ type: 'x' }] })).toThrow(/type is unknown/)
  })

  it('never throws anything but PeerFrameError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
        try {
          toMessage(decodeFrame(raw))
        } catch (e) {
          expect(e).toBeInstanceOf(PeerFrameError)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

// Found while fuzzing the snapshot path: the member list in a snapshot header went unchecked into the
// registry, so `members: [null]` (or an entry without a numeric id) made restoring the snapshot throw a
// TypeError inside the member's Raft loop, which stopped the member.
describe('decodeSnapshotHeader()', () => {
  const snap = fromMessage(
    message({
      type: 'snap',
      to: 2,
      from: 1,
      term: 3,
      snapshot: { metadata: { index: 9, term: 3, confState: { voters: [1, 2], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array() },
    }),
  )
  const member = { id: 1, name: 'a', peerUrls: ['http://a:1'], clientUrls: [], isLearner: false }

  it('accepts a snap message with a well-formed member list', () => {
    const h = decodeSnapshotHeader(encodeFrame({ message: snap, members: [member] }))
    expect(h.members).toEqual([member])
    expect(h.message.snapshot?.metadata.index).toBe(9)
  })

  it.each([
    ['null member', [null]],
    ['id missing', [{ ...member, id: undefined }]],
    ['id 0', [{ ...member, id: 0 }]],
    ['name not a string', [{ ...member, name: 5 }]],
    ['URLs not strings', [{ ...member, peerUrls: [1] }]],
    ['not a list', { 0: member }],
  ])('refuses %s with PeerFrameError', (_name, members) => {
    expect(() => decodeSnapshotHeader(encodeFrame({ message: snap, members }))).toThrow(PeerFrameError)
  })

  it('refuses a header that is not a snap message', () => {
    expect(() => decodeSnapshotHeader(encodeFrame(null))).toThrow(PeerFrameError)
    expect(() => decodeSnapshotHeader(encodeFrame({ message: { ...snap, type: 'app' }, members: [] }))).toThrow(PeerFrameError)
  })
})

describe('toMessage() on appends', () => {
  const app = (entries: { index: number; term: number }[]) =>
    fromMessage(message({ type: 'app', from: 1, to: 2, term: 5, index: 10, logTerm: 4, entries: entries.map((e) => ({ ...e, type: 'normal' as const, data: new Uint8Array() })) }))

  it('accepts entries that follow the index with non-decreasing terms up to the leader term', () => {
    expect(toMessage(app([{ index: 11, term: 4 }, { index: 12, term: 5 }])).entries).toHaveLength(2)
  })

  it.each([
    ['a gap', [{ index: 11, term: 4 }, { index: 13, term: 4 }]],
    ['not after the index', [{ index: 10, term: 4 }]],
    ['a term going down', [{ index: 11, term: 5 }, { index: 12, term: 4 }]],
    ['a term below the previous entry', [{ index: 11, term: 3 }]],
    ['a term past the leader', [{ index: 11, term: 6 }]],
  ])('refuses %s', (_name, entries) => {
    expect(() => toMessage(app(entries))).toThrow(PeerFrameError)
  })
})
