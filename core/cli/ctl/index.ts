// The etcdctl-style verbs of `cairn`.

import type { Command } from 'commander'
import { alarmCommand } from './alarm.ts'
import { authCommands } from './auth.ts'
import { addGlobalFlags } from './context.ts'
import { defragCommand } from './defrag.ts'
import { endpointCommand } from './endpoint.ts'
import { compactionCommand, delCommand, getCommand, putCommand } from './kv.ts'
import { leaseCommand } from './lease.ts'
import { memberCommand } from './member.ts'
import { txnCommand } from './txn.ts'
import { watchCommand } from './watch.ts'

export function addCtlCommands(program: Command): void {
  addGlobalFlags(program)
  for (const cmd of [getCommand(), putCommand(), delCommand(), txnCommand(), compactionCommand(), watchCommand(), leaseCommand(), memberCommand(), endpointCommand(), alarmCommand(), defragCommand(), ...authCommands()]) {
    program.addCommand(cmd)
  }
}
