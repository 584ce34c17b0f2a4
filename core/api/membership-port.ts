// Membership changes for the v2 API, served by the same code as the v3 endpoints (which forward to
// the leader when this member is not it).

import type { Member } from '../server/member.ts'
import type { ClusterMember, MembershipPort } from './v2/cluster-http.ts'
import { routeV3 } from './v3-routes.ts'
import type { RouteContext } from './v3-routes.ts'

export function v3MembershipPort(member: Member, ctx?: RouteContext): MembershipPort {
  return {
    async add(peerUrls: string[]): Promise<ClusterMember> {
      const r = (await routeV3('/v3/cluster/member/add', { peerURLs: peerUrls }, member, ctx)) as {
        member: { ID: string; name?: string; peerURLs?: string[]; clientURLs?: string[] }
      }
      return { id: Number(r.member.ID), name: r.member.name ?? '', peerUrls: r.member.peerURLs ?? [], clientUrls: r.member.clientURLs ?? [] }
    },
    async remove(id: number): Promise<void> {
      await routeV3('/v3/cluster/member/remove', { ID: String(id) }, member, ctx)
    },
    async update(id: number, peerUrls: string[]): Promise<void> {
      await routeV3('/v3/cluster/member/update', { ID: String(id), peerURLs: peerUrls }, member, ctx)
    },
  }
}
