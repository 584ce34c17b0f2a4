// Membership: list, add (voter or learner), remove, update peer URLs, promote a learner.

import { decodeHeader, decodeList, decodeMember, decodeObject } from './codec.ts'
import type { CallOptions, Transport } from './transport.ts'
import { normalizeEndpoint } from './transport.ts'
import type { MemberAddResult, MemberListResult } from './types.ts'

function checkId(id: number): void {
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`member ID: expected a positive integer, got ${id}`)
}

function checkUrls(urls: string[]): string[] {
  if (urls.length === 0) throw new TypeError('peer URLs: expected at least one URL')
  return urls.map((u) => {
    normalizeEndpoint(u)
    return u
  })
}

export class Cluster {
  constructor(private readonly transport: Transport) {}

  async memberList(opts: CallOptions = {}): Promise<MemberListResult> {
    return this.members(await this.transport.call('/v3/cluster/member/list', {}, true, opts))
  }

  async memberAdd(peerUrls: string[], opts: CallOptions & { isLearner?: boolean } = {}): Promise<MemberAddResult> {
    const body: Record<string, unknown> = { peerURLs: checkUrls(peerUrls) }
    if (opts.isLearner) body.isLearner = true
    const o = decodeObject(await this.transport.call('/v3/cluster/member/add', body, false, opts), 'member add response')
    return { ...this.members(o), member: decodeMember(o.member) }
  }

  async memberRemove(id: number, opts: CallOptions = {}): Promise<MemberListResult> {
    checkId(id)
    return this.members(await this.transport.call('/v3/cluster/member/remove', { ID: String(id) }, false, opts))
  }

  async memberUpdate(id: number, peerUrls: string[], opts: CallOptions = {}): Promise<MemberListResult> {
    checkId(id)
    const body = { ID: String(id), peerURLs: checkUrls(peerUrls) }
    return this.members(await this.transport.call('/v3/cluster/member/update', body, false, opts))
  }

  async memberPromote(id: number, opts: CallOptions = {}): Promise<MemberListResult> {
    checkId(id)
    return this.members(await this.transport.call('/v3/cluster/member/promote', { ID: String(id) }, false, opts))
  }

  private members(raw: unknown): MemberListResult {
    const o = decodeObject(raw, 'member response')
    return { header: decodeHeader(o.header), members: decodeList(o.members, 'members').map(decodeMember) }
  }
}
