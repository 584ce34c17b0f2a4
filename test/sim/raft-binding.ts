// The one place the simulator touches the Raft core's constructor and codec. Everything else in
// test/sim drives a SimRaft, the structural subset of RawNode it needs.

import type { RaftConfig } from '../../core/raft/config.ts'
import { decodeConfChange, encodeConfChange } from '../../core/raft/confchange-codec.ts'
import type { Ready } from '../../core/raft/ready.ts'
import { RawNode } from '../../core/raft/rawnode.ts'
import type { ConfChange, ConfState, HardState, Message, NodeId, SoftState } from '../../core/raft/types.ts'

export interface SimProgress {
  match: number
  next: number
  state: string
}

export interface SimStatus {
  id: NodeId
  hardState: HardState
  softState: SoftState
  applied: number
  config: ConfState
  progress: ReadonlyMap<NodeId, SimProgress> | undefined
}

export interface SimRaft {
  tick(): void
  campaign(): void
  propose(data: Uint8Array): void
  proposeConfChange(change: ConfChange): void
  applyConfChange(change: ConfChange): ConfState
  step(message: Message): void
  readIndex(context: Uint8Array): void
  transferLeader(to: NodeId): void
  reportUnreachable(id: NodeId): void
  reportSnapshot(id: NodeId, ok: boolean): void
  hasReady(): boolean
  ready(): Ready
  advance(ready: Ready): void
  status(): SimStatus
}

export function createRaft(config: RaftConfig): SimRaft {
  return new RawNode(config)
}

export function encodeChange(change: ConfChange): Uint8Array {
  return encodeConfChange(change)
}

export function decodeChange(data: Uint8Array): ConfChange {
  return decodeConfChange(data)
}
