// Which of the member lists a joining member got from its peers to believe. Each peer answers from its
// own registry, so a peer that has not applied the latest membership changes (lagging, restarting, or
// removed without knowing it) may still list a removed member under the joiner's peer URLs; taking that
// member's ID would leave the newcomer refused by every up-to-date member. The list of the peer that has
// applied the most entries is the most current one.

import type { MemberInfo } from './registry.ts'

export interface MembersAnswer {
  members: MemberInfo[]
  clusterId: number
  /** The answering peer's applied index (0 when it did not say). */
  appliedIndex: number
}

export function mostCurrentAnswer(answers: ReadonlyArray<MembersAnswer | { error: string }>): MembersAnswer | undefined {
  let best: MembersAnswer | undefined
  for (const a of answers) {
    if ('error' in a) continue
    if (best === undefined || a.appliedIndex > best.appliedIndex) best = a
  }
  return best
}
