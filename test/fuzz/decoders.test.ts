// Decoders of outside input, called directly with random and mutated input: the peer frame decoder
// (MessagePack from other members), the log entry payload and the keyspace's request validation
// (entries come from peers and from disk), and the snapshot reader (streams from the leader, backup
// files). Each either answers a well-formed value or throws its own typed error — never a TypeError,
// a RangeError or a crash — and a damaged snapshot never leaves a half-restored store that opens.
// Bounded run counts with fixed seeds: a few seconds in all.

import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { afterAll, describe, expect, it } from 'vitest'
import { CairnError, CorruptDataError } from '../../core/errors.ts'
import { MemoryBackend } from '../../core/mvcc/memory-backend.ts'
import { MvccStore } from '../../core/mvcc/store.ts'
import { validateApplyRequest } from '../../core/mvcc/validate.ts'
import type { Message } from '../../core/raft/types.ts'
import { decodePayload, encodePayload, PayloadError } from '../../core/server/entry-codec.ts'
import { decodeSnapshotHeader, encodeFrame, fromMessage, PeerFrameError } from '../../core/server/peer-codec.ts'
import { decodeMessages, encodeMessages, RAFT_WIRE_VERSION } from '../../core/server/raft-wire.ts'
import { ConfigError } from '../../core/server/options.ts'
import { parseServeOptions } from '../../core/server/options.ts'
import { restoreSnapshotFile, SHA256_BYTES, verifySnapshotFile } from '../../core/server/snapshot-file.ts'
import { createHash } from 'node:crypto'

const packr = new Packr({ useRecords: false, mapsAsObjects: true })
const seed = (n: number) => Number(process.env.FUZZ_SEED ?? n)
const utf8 = (s: string) => new TextEncoder().encode(s)

/** A byte-level mutation: flip, overwrite, cut, insert or duplicate. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
)
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let out = Uint8Array.from(input)
  for (const m of mutations) {
    if (out.length === 0) break
    const at = m.at % out.length
    if (m.kind === 'flip') out[at] = out[at]! ^ (1 << m.bit)
    else if (m.kind === 'set') out[at] = m.value
    else if (m.kind === 'cut') out = out.slice(0, at)
    else if (m.kind === 'insert') out = Uint8Array.from([...out.subarray(0, at), ...m.bytes, ...out.subarray(at)])
    else out = Uint8Array.from([...out.subarray(0, at), ...out.subarray(at + m.length)])
  }
  return out
}

// ---- peer frames ----

const validMessages: Message[] = [
  { type: 'app', to: 2, from: 1, term: 3, logTerm: 3, index: 10, commit: 9, reject: false, rejectHint: 0, entries: [
    { term: 3, index: 11, type: 'normal', data: encodePayload({ proposer: 1, run: 5, seq: 1, request: { put: { key: utf8('k'), value: utf8('v') } } }) },
    { term: 3, index: 12, type: 'conf-change', data: utf8('{}') },
  ] },
  { type: 'heartbeat', to: 2, from: 1, term: 3, logTerm: 0, index: 0, commit: 9, reject: false, rejectHint: 0, entries: [], context: utf8('ctx') },
  { type: 'vote-resp', to: 1, from: 2, term: 4, logTerm: 0, index: 0, commit: 0, reject: true, rejectHint: 7, entries: [] },
  { type: 'snap', to: 3, from: 1, term: 3, logTerm: 0, index: 0, commit: 0, reject: false, rejectHint: 0, entries: [],
    snapshot: { metadata: { index: 100, term: 3, confState: { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false } }, data: new Uint8Array() } },
]
const validFrames = [...validMessages.filter((m) => m.type !== 'snap').map((m) => encodeMessages([m])), encodeMessages(validMessages.filter((m) => m.type !== 'snap'))]

/** What the transport does with a frame: decode and validate its messages. */
function decodePeerFrame(bytes: Uint8Array): Message[] {
  return decodeMessages(bytes)
}

function expectWellFormed(m: Message): void {
  for (const n of [m.to, m.from, m.term, m.logTerm, m.index, m.commit, m.rejectHint]) expect(Number.isSafeInteger(n) && n >= 0).toBe(true)
  for (const e of m.entries) {
    expect(Number.isSafeInteger(e.index) && Number.isSafeInteger(e.term)).toBe(true)
    expect(e.data).toBeInstanceOf(Uint8Array)
  }
}

function peerDecodeProperty(bytes: Uint8Array): void {
  let messages: Message[]
  try {
    messages = decodePeerFrame(bytes)
  } catch (e) {
    if (!(e instanceof PeerFrameError)) throw new Error(`decoder threw ${(e as Error).name}: ${(e as Error).message}`)
    return
  }
  messages.forEach(expectWellFormed)
}

describe('peer frame decoder under hostile input', () => {
  it('random bytes are refused with PeerFrameError or decode to well-formed messages', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), peerDecodeProperty), { numRuns: 3000, seed: seed(1) })
  })

  it('random bodies behind a valid frame header are refused with PeerFrameError or decode to well-formed messages', () => {
    const body = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 300 }))
    fc.assert(fc.property(body, ([count, rest]) => peerDecodeProperty(Uint8Array.from([RAFT_WIRE_VERSION, count, ...rest]))), { numRuns: 3000, seed: seed(2) })
  })

  it('mutated valid frames are refused with PeerFrameError or decode to well-formed messages', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: validFrames.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (i, ms) => {
        peerDecodeProperty(mutate(validFrames[i]!, ms))
      }),
      { numRuns: 3000, seed: seed(3) },
    )
  })

  it('snapshot stream headers (snap message and member list): mutated or random, refused with PeerFrameError', () => {
    const members = [{ id: 1, name: 'a', peerUrls: ['http://a:1'], clientUrls: ['http://a:2'], isLearner: false }, { id: 2, name: '', peerUrls: [], clientUrls: [], isLearner: true }]
    const header = encodeFrame({ message: fromMessage(validMessages[3]!), members })
    const input = fc.oneof(
      fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => mutate(header, ms)),
      fc.anything({ maxDepth: 4, withTypedArray: true }).map((v) => packr.pack({ message: fromMessage(validMessages[3]!), members: v })),
      fc.anything({ maxDepth: 4, withTypedArray: true }).map((v) => packr.pack(v)),
    )
    fc.assert(
      fc.property(input, (bytes) => {
        try {
          const h = decodeSnapshotHeader(bytes)
          expectWellFormed(h.message)
          for (const m of h.members) expect(Number.isSafeInteger(m.id) && m.id > 0 && typeof m.name === 'string').toBe(true)
        } catch (e) {
          if (!(e instanceof PeerFrameError)) throw new Error(`decodeSnapshotHeader threw ${(e as Error).name}: ${(e as Error).message}`)
        }
      }),
      { numRuns: 2000, seed: seed(10) },
    )
  })

  it('snapshot header messages with hostile field values are refused', () => {
    const hostile = fc.constantFrom<unknown>(-1, 2 ** 53, 1.5, Number.NaN, Infinity, '1', null, [], {}, true, new Uint8Array(3), '__proto__')
    const fields = ['type', 'to', 'from', 'term', 'logTerm', 'index', 'commit', 'rejectHint', 'entries', 'snapshot', 'context']
    const members = [{ id: 1, name: 'a', peerUrls: [], clientUrls: [], isLearner: false }]
    fc.assert(
      fc.property(fc.constantFrom(...fields), hostile, (f, v) => {
        try {
          expectWellFormed(decodeSnapshotHeader(encodeFrame({ message: { ...fromMessage(validMessages[3]!), [f]: v }, members })).message)
        } catch (e) {
          if (!(e instanceof PeerFrameError)) throw new Error(`decodeSnapshotHeader threw ${(e as Error).name}: ${(e as Error).message}`)
        }
      }),
      { numRuns: 1000, seed: seed(4) },
    )
  })

  it('peer frame numbers past 2^53 and over-long varints are refused', () => {
    const big = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10] // 2^53
    const long = [0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]
    // The same frame with good numbers decodes: only the bad field makes it fail.
    expect(decodePeerFrame(Uint8Array.from([RAFT_WIRE_VERSION, 1, 1, 0, 2, 1, 3, 3, 10, 9, 0, 0]))).toHaveLength(1)
    for (const bad of [big, long]) {
      for (let field = 0; field < 7; field++) {
        const numbers = [2, 1, 3, 3, 10, 9, 0].map((n) => [n])
        numbers[field] = bad
        const frame = Uint8Array.from([RAFT_WIRE_VERSION, 1, 1, 0, ...numbers.flat(), 0])
        expect(() => decodePeerFrame(frame)).toThrow(PeerFrameError)
      }
    }
  })
})

// ---- log entry payloads and the requests inside them ----

const validRequests: unknown[] = [
  { put: { key: utf8('a'), value: utf8('1'), lease: 0, prevKv: true } },
  { deleteRange: { key: utf8('a'), rangeEnd: utf8('b') } },
  { txn: { compare: [{ result: 'EQUAL', target: 'VALUE', key: utf8('a'), value: utf8('1') }], success: [{ requestPut: { key: utf8('a') } }], failure: [{ requestTxn: { success: [{ requestRange: { key: utf8('a') } }] } }] } },
  { compaction: { revision: 1 } },
  { leaseGrant: { id: 5, ttl: 10 } },
  { leaseRevoke: { id: 5 } },
  { alarm: { action: 'ACTIVATE', memberId: 1, alarm: 'NOSPACE' } },
  { auth: { userAdd: { name: 'u', passwordHash: 'h', noPassword: false } } },
  { auth: { roleGrantPermission: { name: 'r', perm: { permType: 'READ', key: utf8('a'), rangeEnd: utf8('b') } } } },
  { guarded: { user: 'u', userRevision: 1, request: { txn: { success: [{ requestPut: { key: utf8('a') } }] } } } },
]

/** Any value in place of any part of a valid request. */
function replaceAt(value: unknown, path: number[], replacement: unknown): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null || value instanceof Uint8Array) return replacement
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
  if (entries.length === 0) return replacement
  const [head, ...rest] = path
  const k = head! % entries.length
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...value }
  ;(copy as Record<string, unknown>)[entries[k]![0]] = replaceAt(entries[k]![1], rest, replacement)
  return copy
}

const anyValue = fc.oneof(
  fc.anything({ maxDepth: 3, withTypedArray: true }),
  fc.constantFrom<unknown>(null, undefined, -1, 2 ** 53, 1.5, Number.NaN, '', 'x', [], {}, [null], new Uint8Array(40_000), { length: 5 }),
)

describe('entry payload decoding and request validation under hostile input', () => {
  it('any request shape is refused with a CairnError or validates', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: validRequests.length - 1 }), fc.array(fc.nat(), { maxLength: 5 }), anyValue, (i, path, v) => {
        const request = replaceAt(validRequests[i], path, v)
        try {
          validateApplyRequest(request as never, { txnOpsMax: 128 })
        } catch (e) {
          if (!(e instanceof CairnError)) throw new Error(`validation threw ${(e as Error).name}: ${(e as Error).message} for ${String(JSON.stringify(request))}`)
        }
      }),
      { numRuns: 3000, seed: seed(5) },
    )
  })

  it('a store applying a hostile entry refuses it and stays usable', async () => {
    const store = await MvccStore.open(new MemoryBackend())
    let index = 0
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: validRequests.length - 1 }), fc.array(fc.nat(), { maxLength: 5 }), anyValue, async (i, path, v) => {
        const outcome = await store.apply(++index, replaceAt(validRequests[i], path, v) as never)
        expect(outcome.status === 'applied' || outcome.status === 'refused').toBe(true)
        // An alarm the hostile entry happened to raise would refuse the next entries: clear it.
        for (const a of store.alarmList()) await store.apply(++index, { alarm: { action: 'DEACTIVATE', ...a } })
      }),
      { numRuns: 1500, seed: seed(6) },
    )
    expect((await store.apply(++index, { put: { key: utf8('still'), value: utf8('ok') } })).status).toBe('applied')
  })

  it('mutated payloads are refused with PayloadError or decode to an envelope', () => {
    const payloads = validRequests.map((request, seq) => encodePayload({ proposer: 1, run: 2, seq, request: request as never }))
    fc.assert(
      fc.property(fc.integer({ min: 0, max: payloads.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (i, ms) => {
        try {
          const p = decodePayload(mutate(payloads[i]!, ms))
          expect(typeof p.request === 'object' && p.request !== null).toBe(true)
        } catch (e) {
          if (!(e instanceof PayloadError)) throw new Error(`decodePayload threw ${(e as Error).name}: ${(e as Error).message}`)
        }
      }),
      { numRuns: 2000, seed: seed(7) },
    )
  })
})

// ---- snapshot streams and files ----

async function sampleSnapshot(): Promise<Uint8Array> {
  const store = await MvccStore.open(new MemoryBackend())
  let index = 0
  for (let i = 0; i < 40; i++) await store.apply(++index, { put: { key: utf8(`key/${i % 13}`), value: utf8('v'.repeat(i * 7)) } })
  await store.apply(++index, { leaseGrant: { id: 9, ttl: 30 } })
  await store.apply(++index, { put: { key: utf8('leased'), value: utf8('x'), lease: 9 } })
  await store.apply(++index, { deleteRange: { key: utf8('key/3') } })
  await store.apply(++index, { compaction: { revision: 10 } })
  await store.apply(++index, { alarm: { action: 'ACTIVATE', memberId: 4, alarm: 'NOSPACE' } })
  const chunks: Uint8Array[] = []
  for await (const c of (await store.snapshot()).chunks) chunks.push(c)
  return Buffer.concat(chunks)
}

/** Feeds the bytes in uneven chunks, as a network or a file would. */
async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size)
}

describe('snapshot reader under damaged input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-snapfuzz-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('a damaged stream is refused with CorruptDataError and the half-restored store refuses to open', async () => {
    const good = await sampleSnapshot()
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 4096 }), async (ms, size) => {
        const bad = mutate(good, ms)
        if (Buffer.from(bad).equals(Buffer.from(good))) return
        const backend = new MemoryBackend()
        const error = await MvccStore.restore(backend, chunked(bad, size)).then(
          () => undefined,
          (e: unknown) => e,
        )
        if (!(error instanceof CorruptDataError)) throw new Error(`restore of a damaged stream gave ${String(error)}`)
        const reopened = await MvccStore.open(backend).then(
          () => undefined,
          (e: unknown) => e,
        )
        // The store is marked as half-restored: it never opens with part of the snapshot.
        expect(reopened).toBeInstanceOf(CorruptDataError)
      }),
      { numRuns: 400, seed: seed(8) },
    )
  })

  it('a damaged backup file is refused by verifySnapshotFile with CorruptDataError', async () => {
    const body = await sampleSnapshot()
    const good = Buffer.concat([body, createHash('sha256').update(body).digest()])
    expect(good.length).toBeGreaterThan(SHA256_BYTES)
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        const bad = mutate(good, ms)
        if (Buffer.from(bad).equals(good)) return
        const file = join(dir, `f${n++}.snap`)
        writeFileSync(file, bad)
        const error = await verifySnapshotFile(file).then(
          () => undefined,
          (e: unknown) => e,
        )
        rmSync(file)
        if (!(error instanceof CorruptDataError) && !(error instanceof ConfigError)) throw new Error(`verify of a damaged file gave ${String(error)}`)
      }),
      { numRuns: 150, seed: seed(9) },
    )
  })

  it('cairn snapshot restore of a damaged file refuses before it writes anything', async () => {
    const body = await sampleSnapshot()
    const good = Buffer.concat([body, createHash('sha256').update(body).digest()])
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), async (ms) => {
        const bad = mutate(good, ms)
        if (Buffer.from(bad).equals(good)) return
        const file = join(dir, `r${n}.snap`)
        const dataDir = join(dir, `restored-${n++}`)
        writeFileSync(file, bad)
        const serve = parseServeOptions({ name: 'r', dataDir, initialCluster: 'r=http://127.0.0.1:2380' })
        const error = await restoreSnapshotFile({ file, serve, bootstrap: () => Promise.reject(new Error('must not bootstrap')) }).then(
          () => undefined,
          (e: unknown) => e,
        )
        rmSync(file)
        if (!(error instanceof CorruptDataError) && !(error instanceof ConfigError)) throw new Error(`restore of a damaged file gave ${String(error)}`)
        expect(!existsSync(dataDir) || readdirSync(dataDir).length === 0).toBe(true)
      }),
      { numRuns: 60, seed: seed(18) },
    )
  })
})
