// Leader election over lease-bound keys, with fencing tokens.

export { Election, Leadership, NotLeaderError } from './election.ts'
export type { ElectionOptions, LeaderInfo } from './election.ts'
