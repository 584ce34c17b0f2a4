// `cairn defrag [--cluster]`, as etcdctl's: one line per endpoint. RocksDB reclaims space by itself
// in the background; the member answers once history freed by compaction has been deleted.

import { Command } from 'commander'
import { action, call, CliExit, clientOf, contextOf, errorText, Exit, out } from './context.ts'

export function defragCommand(): Command {
  return new Command('defrag')
    .description('Defragments the storage of the etcd members with given endpoints')
    .option('--cluster', 'use all endpoints from the cluster member list')
    .action(
      action(async (flags: { cluster?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        const endpoints = flags.cluster ? [...new Set((await call(clientOf(ctx).cluster.memberList())).members.flatMap((m) => m.clientUrls))] : ctx.endpoints
        let failed = false
        for (const endpoint of endpoints) {
          try {
            await clientOf(ctx, [endpoint]).maintenance.defragment()
            out(`Finished defragmenting etcd member[${endpoint}]\n`)
          } catch (e) {
            if (e instanceof CliExit) throw e
            failed = true
            process.stderr.write(`Failed to defragment etcd member[${endpoint}] (${errorText(e)})\n`)
          }
        }
        if (failed) throw new CliExit(Exit.Error, '')
      }),
    )
}
