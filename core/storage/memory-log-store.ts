// The in-memory twin of RocksLogStore: the same planning, validation and tail, with nothing stored.
// For Raft and server tests and the simulator; "durable" here means "until the process ends".

import type { ConfState } from '../raft/types.ts'
import type { LogChange } from './log-change.ts'
import { LogTail, emptyLogTailState } from './log-tail.ts'
import { MirroredLogStore } from './mirrored-log-store.ts'
import type { WriteBatch } from './write-batch.ts'

export class MemoryLogStore extends MirroredLogStore {
  constructor() {
    super(new LogTail(emptyLogTailState()))
  }

  protected override async persist(_change: LogChange, _sync: boolean): Promise<void> {}

  protected override stageConfStateRecord(_batch: WriteBatch, _confState: ConfState, _index: number): void {}
}
