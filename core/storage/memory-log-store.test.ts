import { describeLogStoreConformance } from './log-store-conformance.ts'
import { MemoryLogStore } from './memory-log-store.ts'
import type { WriteBatch } from './write-batch.ts'

describeLogStoreConformance('MemoryLogStore', async () => ({
  store: new MemoryLogStore(),
  async writeBatch(batch: WriteBatch) {
    batch.claim()
    batch.runAfterWrite()
  },
  async cleanup() {},
}))
