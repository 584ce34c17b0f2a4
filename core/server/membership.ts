// Runtime reconfiguration: add, remove, update and promote members, with etcd's guard rails.
// Only the leader knows who is reachable and how far a learner has caught up, so these calls are
// served by the leader (the API forwards them there). One change at a time: Raft refuses a second
// while the first is unapplied, and we say so clearly instead of timing out.

import { CairnError, InvalidArgumentError } from '../errors.ts'
import type { ConfChange, ConfChangeSingle } from '../raft/types.ts'
import { hashId } from './ids.ts'
import { encodeMemberContext } from './member.ts'
import type { Member } from './member.ts'
import type { MemberInfo } from './registry.ts'

/** A learner may be promoted once it has this share of the leader's committed log (etcd: 90%). */
export const LEARNER_READY_RATIO = 0.9
export const LEARNERS_MAX = 1

export class Membership {
  private sequence = 0

  constructor(
    private readonly member: Member,
    private readonly strictReconfigCheck: boolean,
  ) {}

  list(): MemberInfo[] {
    return this.member.registry.list()
  }

  async add(peerUrls: string[], isLearner: boolean): Promise<{ member: MemberInfo; members: MemberInfo[] }> {
    const urls = normalizeUrls(peerUrls)
    this.requireLeader()
    const members = this.list()
    for (const m of members) {
      if (m.peerUrls.some((u) => urls.includes(u))) throw new CairnError('PeerUrlExists')
    }
    if (isLearner && members.filter((m) => m.isLearner).length >= LEARNERS_MAX) throw new CairnError('TooManyLearners')
    if (!isLearner && this.strictReconfigCheck) {
      // A new voter counts toward the quorum at once but is not running yet: the members that are
      // reachable now must still make a quorum of the larger cluster.
      const voters = this.voters()
      const started = voters.filter((id) => this.reachable(id)).length
      const after = voters.length + 1
      // Growing a single member to two is how every cluster grows from one (and how a restored
      // snapshot is turned back into a cluster): allowed, as etcd allows it.
      const growingFromOne = started === 1 && after === 2
      if (!growingFromOne && started < Math.floor(after / 2) + 1) {
        this.member.logger.warn({ reachability: this.reachability() }, 'refusing to add a voter: not enough started members')
        throw new CairnError('MemberNotEnoughStarted', `${started} of ${voters.length} voters reachable (${this.reachability()})`)
      }
      const unstarted = members.filter((m) => !m.isLearner && m.clientUrls.length === 0 && m.id !== this.member.id)
      if (unstarted.length > 0) throw new CairnError('Unhealthy', `member ${unstarted[0]!.id.toString(16)} has not started yet`)
    }
    const id = hashId('member', urls.join(','), String(Date.now()), String(this.sequence++))
    await this.change({ type: isLearner ? 'add-learner' : 'add-voter', nodeId: id }, { id, peerUrls: urls })
    const added = this.member.registry.get(id) ?? { id, name: '', peerUrls: urls, clientUrls: [], isLearner }
    return { member: added, members: this.list() }
  }

  async remove(id: number): Promise<MemberInfo[]> {
    this.requireLeader()
    const target = this.member.registry.get(id)
    if (!target) throw new CairnError('MemberNotFound')
    if (!target.isLearner && this.strictReconfigCheck) {
      const remaining = this.voters().filter((v) => v !== id)
      const started = remaining.filter((v) => this.reachable(v)).length
      if (remaining.length > 0 && started < Math.floor(remaining.length / 2) + 1) throw new CairnError('MemberNotEnoughStarted')
    }
    await this.change({ type: 'remove', nodeId: id }, undefined)
    return this.list()
  }

  async promote(id: number): Promise<MemberInfo[]> {
    this.requireLeader()
    const target = this.member.registry.get(id)
    if (!target) throw new CairnError('MemberNotFound')
    if (!target.isLearner) throw new CairnError('MemberNotLearner')
    const progress = this.member.raftStatus().progress?.get(id)
    const committed = this.member.committedIndex()
    if (!progress || progress.match < committed * LEARNER_READY_RATIO) {
      throw new CairnError('LearnerNotReady', `learner has ${progress?.match ?? 0} of ${committed} entries`)
    }
    await this.change({ type: 'add-voter', nodeId: id }, { id, peerUrls: target.peerUrls })
    return this.list()
  }

  async update(id: number, peerUrls: string[]): Promise<MemberInfo[]> {
    const urls = normalizeUrls(peerUrls)
    const target = this.member.registry.get(id)
    if (!target) throw new CairnError('MemberNotFound')
    for (const m of this.list()) {
      if (m.id !== id && m.peerUrls.some((u) => urls.includes(u))) throw new CairnError('PeerUrlExists')
    }
    const outcome = await this.member.propose({ updateMember: { id, peerUrls: urls } })
    if (outcome.status === 'refused') throw outcome.error
    return this.list()
  }

  private async change(single: ConfChangeSingle, info: { id: number; peerUrls: string[] } | undefined): Promise<void> {
    const requestKey = `cc-${this.member.id}-${Date.now()}-${this.sequence++}`
    const cc: ConfChange = {
      transition: 'auto',
      changes: [single],
      context: encodeMemberContext({ id: info?.id ?? single.nodeId, peerUrls: info?.peerUrls ?? [], requestKey }),
    }
    if (this.member.hasPendingConfChange()) {
      throw new CairnError('Unhealthy', 'another membership change is in progress; retry when it is applied')
    }
    await this.member.proposeConfChange(cc, requestKey)
  }

  private voters(): number[] {
    return this.member.currentConfState().voters
  }

  private reachable(id: number): boolean {
    if (id === this.member.id) return true
    const pr = this.member.raftStatus().progress?.get(id)
    return pr?.recentActive === true || this.member.peerConnected(id)
  }

  private reachability(): string {
    const progress = this.member.raftStatus().progress
    return this.voters()
      .map((id) => `${id.toString(16)}:${id === this.member.id ? 'self' : `active=${progress?.get(id)?.recentActive} link=${this.member.peerConnected(id)}`}`)
      .join(' ')
  }

  private requireLeader(): void {
    if (!this.member.isLeader()) throw new CairnError('NotLeader')
  }
}

function normalizeUrls(peerUrls: string[]): string[] {
  if (!Array.isArray(peerUrls) || peerUrls.length === 0) throw new CairnError('MemberBadUrls', 'peerURLs must list at least one URL')
  return peerUrls.map((raw) => {
    if (typeof raw !== 'string') throw new InvalidArgumentError('peerURLs must be strings')
    let u: URL
    try {
      u = new URL(raw)
    } catch {
      throw new CairnError('MemberBadUrls', `${raw} is not a URL`)
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || !u.port || u.pathname !== '/') {
      throw new CairnError('MemberBadUrls', `${raw} must be http(s)://host:port`)
    }
    return u.origin
  })
}
