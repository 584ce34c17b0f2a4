// Errors the Raft core reports to its driver. Operating conditions, not programmer errors.

export class RaftError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
    this.name = 'RaftError'
  }
}

export const errProposalDropped = () => new RaftError('ProposalDropped', 'raft proposal dropped')
export const errCompacted = () => new RaftError('Compacted', 'requested index is unavailable due to compaction')
export const errSnapOutOfDate = () => new RaftError('SnapshotOutOfDate', 'requested index is older than the existing snapshot')
export const errUnavailable = () => new RaftError('Unavailable', 'requested entry at index is unavailable')
export const errSnapshotTemporarilyUnavailable = () =>
  new RaftError('SnapshotTemporarilyUnavailable', 'snapshot is temporarily unavailable')
