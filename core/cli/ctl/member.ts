// `cairn member list|add|remove|update|promote`, as etcdctl's (member IDs in hex).

import { Command } from 'commander'
import type { MemberListResult } from '../../client/index.ts'
import { action, badArgs, call, CliExit, clientOf, contextOf, Exit, out } from './context.ts'
import type { Context } from './context.ts'
import { goQuote, headerJson, hexSpace16, MEMBER_HEADER, memberJson, memberRows, printJson, renderTable } from './format.ts'

function memberIdArg(arg: string | undefined): number {
  if (arg === undefined) throw badArgs('member ID is not provided')
  if (!/^[0-9a-fA-F]+$/.test(arg)) throw badArgs(`bad member ID arg (strconv.ParseUint: parsing "${arg}": invalid syntax), expecting ID in Hex`)
  const id = Number.parseInt(arg, 16)
  if (!Number.isSafeInteger(id)) throw badArgs(`bad member ID arg (strconv.ParseUint: parsing "${arg}": value out of range), expecting ID in Hex`)
  return id
}

function peerUrls(v: string | undefined): string[] {
  const urls = (v ?? '')
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '')
  if (urls.length === 0) throw badArgs('member peer urls not provided')
  return urls
}

function noTable(ctx: Context): void {
  if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
}

function listJson(r: MemberListResult): Record<string, unknown> {
  return { header: headerJson(r.header), members: r.members.map(memberJson) }
}

const q = (s: string) => goQuote(Buffer.from(s))

function list(): Command {
  return new Command('list')
    .description('Lists all members in the cluster')
    .action(
      action(async (_flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd)
        const r = await call(clientOf(ctx).cluster.memberList())
        if (ctx.writeOut === 'json') printJson(listJson(r))
        else if (ctx.writeOut === 'table') out(renderTable(MEMBER_HEADER, memberRows(r.members)))
        else for (const row of memberRows(r.members)) out(row.join(', ') + '\n')
      }),
    )
}

function add(): Command {
  return new Command('add')
    .description('Adds a member into the cluster')
    .argument('[memberName]', 'name of the new member')
    .option('--peer-urls <urls>', 'comma separated peer URLs for the new member')
    .option('--learner', 'indicates if the new member is raft learner')
    .action(
      action(async (name: string | undefined, flags: { peerUrls?: string; learner?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        if (name === undefined) throw badArgs('member name not provided')
        const urls = peerUrls(flags.peerUrls)
        noTable(ctx)
        const r = await call(clientOf(ctx).cluster.memberAdd(urls, flags.learner ? { isLearner: true } : {}))
        if (ctx.writeOut === 'json') {
          printJson({ header: headerJson(r.header), member: memberJson(r.member), members: r.members.map(memberJson) })
          return
        }
        out(`Member ${hexSpace16(r.member.id)} added to cluster ${hexSpace16(r.header.clusterId)}\n`)
        const conf: string[] = []
        for (const m of r.members) for (const u of m.peerUrls) conf.push(`${m.id === r.member.id ? name : m.name}=${u}`)
        out('\n')
        out(`CAIRN_NAME=${q(name)}\n`)
        out(`CAIRN_INITIAL_CLUSTER=${q(conf.join(','))}\n`)
        out(`CAIRN_INITIAL_ADVERTISE_PEER_URLS=${q(urls.join(','))}\n`)
        out(`CAIRN_INITIAL_CLUSTER_STATE="existing"\n`)
      }),
    )
}

function remove(): Command {
  return new Command('remove')
    .description('Removes a member from the cluster')
    .argument('[memberID]', 'member ID in hex')
    .action(
      action(async (idArg: string | undefined, _flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd)
        const id = memberIdArg(idArg)
        noTable(ctx)
        const r = await call(clientOf(ctx).cluster.memberRemove(id))
        if (ctx.writeOut === 'json') printJson(listJson(r))
        else out(`Member ${hexSpace16(id)} removed from cluster ${hexSpace16(r.header.clusterId)}\n`)
      }),
    )
}

function update(): Command {
  return new Command('update')
    .description('Updates a member in the cluster')
    .argument('[memberID]', 'member ID in hex')
    .option('--peer-urls <urls>', 'comma separated peer URLs for the updated member')
    .action(
      action(async (idArg: string | undefined, flags: { peerUrls?: string }, cmd: Command) => {
        const ctx = contextOf(cmd)
        const id = memberIdArg(idArg)
        const urls = peerUrls(flags.peerUrls)
        noTable(ctx)
        const r = await call(clientOf(ctx).cluster.memberUpdate(id, urls))
        if (ctx.writeOut === 'json') printJson(listJson(r))
        else out(`Member ${hexSpace16(id)} updated in cluster ${hexSpace16(r.header.clusterId)}\n`)
      }),
    )
}

function promote(): Command {
  return new Command('promote')
    .description('Promotes a non-voting member in the cluster')
    .argument('[memberID]', 'member ID in hex')
    .action(
      action(async (idArg: string | undefined, _flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd)
        const id = memberIdArg(idArg)
        noTable(ctx)
        const r = await call(clientOf(ctx).cluster.memberPromote(id))
        if (ctx.writeOut === 'json') printJson(listJson(r))
        else out(`Member ${hexSpace16(id)} promoted in cluster ${hexSpace16(r.header.clusterId)}\n`)
      }),
    )
}

export function memberCommand(): Command {
  return new Command('member')
    .description('Membership related commands')
    .addCommand(add())
    .addCommand(remove())
    .addCommand(update())
    .addCommand(list())
    .addCommand(promote())
}
