import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Message, MessageType } from '../raft/types.ts'
import { PeerFrameError } from './peer-codec.ts'
import { decodeMessages, encodeMessages } from './raft-wire.ts'

const types: MessageType[] = ['app', 'app-resp', 'vote', 'vote-resp', 'prevote', 'prevote-resp', 'heartbeat', 'heartbeat-resp', 'transfer-leader', 'timeout-now', 'read-index', 'read-index-resp', 'prop']
const num = fc.oneof(fc.nat(300), fc.maxSafeNat())

const messageArb: fc.Arbitrary<Message> = fc
  .record({
    type: fc.constantFrom(...types),
    to: num,
    from: num,
    term: num,
    logTerm: num,
    index: fc.nat(1_000_000),
    commit: num,
    reject: fc.boolean(),
    rejectHint: num,
    context: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: undefined }),
    entries: fc.array(fc.record({ type: fc.constantFrom('normal' as const, 'conf-change' as const), data: fc.uint8Array({ maxLength: 300 }) }), { maxLength: 5 }),
  })
  .map(({ context, entries, ...m }) => {
    // Appends carry consecutive entries with terms between logTerm and the message's term.
    const term = Math.max(m.term, m.logTerm)
    const out: Message = { ...m, term, entries: entries.map((e, k) => ({ ...e, term, index: m.index + 1 + k })) }
    if (context !== undefined) out.context = context
    return out
  })

const plain = (m: Message) => ({ ...m, context: m.context && [...m.context], entries: m.entries.map((e) => ({ ...e, data: [...e.data] })) })

describe('raft wire format', () => {
  it('round-trips any list of messages', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { maxLength: 6 }), (messages) => {
        expect(decodeMessages(encodeMessages(messages)).map(plain)).toEqual(messages.map(plain))
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses truncated frames, trailing bytes and unknown versions with PeerFrameError', () => {
    fc.assert(
      fc.property(fc.array(messageArb, { minLength: 1, maxLength: 3 }), fc.nat(), (messages, cut) => {
        const frame = encodeMessages(messages)
        const at = cut % frame.length
        expect(() => decodeMessages(frame.subarray(0, at))).toThrow(PeerFrameError)
        expect(() => decodeMessages(Buffer.concat([frame, Buffer.from([0])]))).toThrow(PeerFrameError)
        expect(() => decodeMessages(Buffer.concat([Buffer.from([1]), frame.subarray(1)]))).toThrow(PeerFrameError)
      }),
      { numRuns: 300 },
    )
  })

  it('refuses an append whose entries do not follow its index', () => {
    const m: Message = { type: 'app', to: 2, from: 1, term: 2, logTerm: 2, index: 5, commit: 0, reject: false, rejectHint: 0, entries: [{ term: 2, index: 7, type: 'normal', data: new Uint8Array() }] }
    expect(() => decodeMessages(encodeMessages([m]))).toThrow(/does not follow/)
  })

  it('never sends a snapshot message in a frame', () => {
    const snap = { type: 'snap', to: 2, from: 1, term: 1, logTerm: 0, index: 0, commit: 0, reject: false, rejectHint: 0, entries: [] } as Message
    expect(() => encodeMessages([snap])).toThrow(/not sent in peer frames/)
  })
})
