// `cairn alarm list|disarm`, as etcdctl's: one line `memberID:<id> alarm:<type>` per alarm.

import { Command } from 'commander'
import type { AlarmsResult } from '../../client/index.ts'
import { action, call, CliExit, clientOf, contextOf, Exit, out } from './context.ts'
import type { Context } from './context.ts'
import { headerJson, printJson } from './format.ts'

function print(ctx: Context, r: AlarmsResult): void {
  if (ctx.writeOut === 'table') throw new CliExit(Exit.BadFeature, 'table not supported as output format')
  if (ctx.writeOut === 'json') {
    // etcdctl's JSON: uint64 member IDs as numbers, enum names as numbers.
    const alarms = r.alarms.map((a) => ({ memberID: a.memberId, alarm: a.alarm === 'NOSPACE' ? 1 : 2 }))
    printJson({ header: headerJson(r.header), ...(alarms.length ? { alarms } : {}) })
    return
  }
  for (const a of r.alarms) out(`memberID:${a.memberId} alarm:${a.alarm} \n`)
}

function list(): Command {
  return new Command('list').description('Lists all alarms').action(
    action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd)
      print(ctx, await call(clientOf(ctx).maintenance.alarmList()))
    }),
  )
}

function disarm(): Command {
  return new Command('disarm').description('Disarms all alarms').action(
    action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd)
      print(ctx, await call(clientOf(ctx).maintenance.alarmDisarm()))
    }),
  )
}

export function alarmCommand(): Command {
  return new Command('alarm').description('Alarm related commands').addCommand(list()).addCommand(disarm())
}
