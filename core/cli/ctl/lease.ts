// `cairn lease grant|revoke|timetolive|list|keep-alive`, as etcdctl's: lease IDs are written in hex.

import { Command } from 'commander'
import type { ResponseHeader } from '../../client/index.ts'
import { action, badArgs, call, CliExit, clientOf, contextOf, Exit, out } from './context.ts'
import type { Context } from './context.ts'
import { hex16, printJson } from './format.ts'
import { hexId } from './kv.ts'

function leaseArg(arg: string | undefined, usage: string): number {
  if (arg === undefined) throw badArgs(usage)
  return hexId(arg, (err) => `bad lease ID arg (${err}), expecting ID in Hex`)
}

/** clientv3's lease responses embed the header, so encoding/json flattens its fields. */
function flatHeader(h: ResponseHeader): Record<string, unknown> {
  const o: Record<string, unknown> = {}
  if (h.clusterId) o.cluster_id = h.clusterId
  if (h.memberId) o.member_id = h.memberId
  if (h.revision) o.revision = h.revision
  if (h.raftTerm) o.raft_term = h.raftTerm
  return o
}

function noTable(ctx: Context): void {
  if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
}

function grant(): Command {
  return new Command('grant')
    .description('Creates leases')
    .argument('[ttl]', 'time to live in seconds')
    .action(
      action(async (ttlArg: string | undefined, _flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd)
        if (ttlArg === undefined) throw badArgs('lease grant command needs TTL argument')
        if (!/^[+-]?\d+$/.test(ttlArg)) throw badArgs(`bad TTL (strconv.ParseInt: parsing "${ttlArg}": invalid syntax)`)
        noTable(ctx)
        const r = await call(clientOf(ctx).lease.grant(Number(ttlArg)), Exit.Error, (t) => `failed to grant lease (${t})`)
        if (ctx.writeOut === 'json') printJson({ ...flatHeader(r.header), ID: r.id, TTL: r.ttl, Error: '' })
        else out(`lease ${hex16(r.id)} granted with TTL(${r.ttl}s)\n`)
      }),
    )
}

function revoke(): Command {
  return new Command('revoke')
    .description('Revokes leases')
    .argument('[leaseID]', 'lease ID in hex')
    .action(
      action(async (idArg: string | undefined, _flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd)
        const id = leaseArg(idArg, 'lease revoke command needs 1 argument')
        noTable(ctx)
        const r = await call(clientOf(ctx).lease.revoke(id), Exit.Error, (t) => `failed to revoke lease (${t})`)
        if (ctx.writeOut === 'json') printJson({ header: { ...flatHeader(r.header) } })
        else out(`lease ${hex16(id)} revoked\n`)
      }),
    )
}

function timeToLive(): Command {
  return new Command('timetolive')
    .description('Get lease information')
    .argument('[leaseID]', 'lease ID in hex')
    .option('--keys', 'Get keys attached to this lease')
    .action(
      action(async (idArg: string | undefined, flags: { keys?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        const id = leaseArg(idArg, 'lease timetolive command needs lease ID as argument')
        noTable(ctx)
        const r = await call(clientOf(ctx).lease.timeToLive(id, flags.keys ? { keys: true } : {}), Exit.BadConnection)
        if (ctx.writeOut === 'json') {
          const keys = r.keys.length ? r.keys.map((k) => Buffer.from(k).toString('base64')) : null
          printJson({ ...flatHeader(r.header), id: r.id, ttl: r.ttl, 'granted-ttl': r.grantedTtl, keys })
          return
        }
        if (r.grantedTtl === 0 && r.ttl === -1) {
          out(`lease ${hex16(r.id)} already expired\n`)
          return
        }
        let text = `lease ${hex16(r.id)} granted with TTL(${r.grantedTtl}s), remaining(${r.ttl}s)`
        if (flags.keys) text += `, attached keys([${r.keys.map((k) => Buffer.from(k).toString()).join(' ')}])`
        out(text + '\n')
      }),
    )
}

function list(): Command {
  return new Command('list')
    .description('List all active leases')
    .action(
      action(async (_flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd)
        noTable(ctx)
        const r = await call(clientOf(ctx).lease.list(), Exit.BadConnection)
        if (ctx.writeOut === 'json') {
          printJson({ ...flatHeader(r.header), leases: r.leases.map((id) => ({ id })) })
          return
        }
        out(`found ${r.leases.length} leases\n`)
        for (const id of r.leases) out(`${hex16(id)}\n`)
      }),
    )
}

function keepAlive(): Command {
  return new Command('keep-alive')
    .description('Keeps leases alive (renew)')
    .argument('[leaseID]', 'lease ID in hex')
    .option('--once', 'Resets the keep-alive time to its original value and exits immediately')
    .action(
      action(async (idArg: string | undefined, flags: { once?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        const id = leaseArg(idArg, 'lease keep-alive command needs lease ID as argument')
        noTable(ctx)
        const client = clientOf(ctx)
        const print = (header: ResponseHeader, ttl: number) => {
          if (ctx.writeOut === 'json') printJson({ ...flatHeader(header), ID: id, TTL: ttl })
          else out(`lease ${hex16(id)} keepalived with TTL(${ttl})\n`)
        }
        if (flags.once) {
          const r = await call(client.lease.keepAliveOnce(id), Exit.BadConnection)
          if (r.ttl <= 0) throw new CliExit(Exit.BadConnection, 'etcdserver: requested lease not found')
          print(r.header, r.ttl)
          return
        }
        // Like clientv3's KeepAlive channel: one line per refresh until the lease is gone or Ctrl-C.
        const keeper = client.lease.keepAlive(id, { onRefresh: (ttl, r) => print(r.header, ttl) })
        const stop = () => keeper.stop()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
        await keeper.done
        if (keeper.isLost && ctx.writeOut === 'simple') out(`lease ${hex16(id)} expired or revoked.\n`)
      }),
    )
}

export function leaseCommand(): Command {
  return new Command('lease')
    .description('Lease related commands')
    .addCommand(grant())
    .addCommand(revoke())
    .addCommand(timeToLive())
    .addCommand(list())
    .addCommand(keepAlive())
}
