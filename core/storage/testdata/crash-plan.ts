// The deterministic write sequence of the crash test. Step n's write depends only on n and on what the
// store holds, so the test can replay the steps on a MemoryLogStore and find the one step after which
// the reopened RocksDB store looks exactly the same. Every kind of batch is in the mix: appends with
// a hard state, tail overwrites, snapshots (local and from a leader) and compactions; synced and not.

import type { LogStore } from '../log-store.ts'
import type { ConfState, Entry } from '../../raft/types.ts'

/** The child stops here if it is never killed; bounds the test's work either way. */
export const crashStepsMax = 20_000

const confState: ConfState = { voters: [1, 2, 3], learners: [], votersOutgoing: [], learnersNext: [], autoLeave: false }

/** Bytes that differ by step and index, of a size that varies by step (64 bytes to ~1.5 KiB). */
function payload(step: number, index: number, sizeBytes: number): Uint8Array {
  const out = new Uint8Array(sizeBytes)
  for (let i = 0; i < sizeBytes; i++) out[i] = (step * 31 + index * 7 + i) & 0xff
  return out
}

function makeEntries(first: number, count: number, term: number, step: number): Entry[] {
  const out: Entry[] = []
  for (let index = first; index < first + count; index++) {
    out.push({ index, term, type: 'normal', data: payload(step, index, 64 + ((step * 37 + index) % 1500)) })
  }
  return out
}

export async function runCrashStep(store: LogStore, step: number): Promise<void> {
  const last = store.lastIndex()
  const { hardState } = store.initialState()
  const snapshotIndex = store.snapshot().metadata.index
  const sync = step % 2 === 0
  if (step % 97 === 0) {
    // A leader's snapshot, ahead of the whole log: replaces it.
    const index = last + 10
    const snapshot = { metadata: { index, term: step, confState }, data: payload(step, index, 3000) }
    const hs = { term: step, vote: 2, commit: index }
    await store.save({ snapshot, entries: makeEntries(index + 1, 3, step, step), hardState: hs }, true)
  } else if (step % 29 === 0 && hardState.commit > snapshotIndex) {
    await store.createSnapshot(hardState.commit, confState, payload(step, hardState.commit, 2000))
  } else if (step % 31 === 0 && snapshotIndex >= store.firstIndex()) {
    await store.compact(Math.max(store.firstIndex(), snapshotIndex - 5))
  } else if (step % 7 === 0 && last - 2 > Math.max(hardState.commit, snapshotIndex)) {
    // A new leader replaces the uncommitted tail with entries of its own term.
    const hs = { term: step, vote: 3, commit: hardState.commit }
    await store.save({ entries: makeEntries(last - 1, 4, step, step), hardState: hs }, sync)
  } else {
    const count = 1 + (step % 5)
    const hs = { term: step, vote: 1, commit: Math.max(hardState.commit, last + count - 3) }
    await store.save({ entries: makeEntries(last + 1, count, step, step), hardState: hs }, sync)
  }
}
