// `cairn auth enable|disable|status`, `cairn user …` and `cairn role …`: etcdctl 3.4's verbs, flags
// and output for authentication and role-based access control.

import { Command, Option } from 'commander'
import type { Client, Permission, PermissionType } from '../../client/index.ts'
import { CairnError } from '../../errors.ts'
import { prefixEnd, toBytes, toText } from '../../client/bytes.ts'
import { action, badArgs, call, clientOf, contextOf, out } from './context.ts'
import type { Context } from './context.ts'
import { headerJson, printJson } from './format.ts'

type Act = (ctx: Context, client: Client, args: string[], flags: Record<string, unknown>) => Promise<void>

function verb(name: string, description: string, args: string[], run: Act, options: Option[] = []): Command {
  const cmd = new Command(name).description(description)
  for (const a of args) cmd.argument(`[${a}]`)
  for (const o of options) cmd.addOption(o)
  cmd.action(
    action(async (...given: unknown[]) => {
      const self = given[given.length - 1] as Command
      const flags = given[given.length - 2] as Record<string, unknown>
      const positional = given.slice(0, given.length - 2).filter((v): v is string => typeof v === 'string')
      const ctx = contextOf(self)
      await run(ctx, clientOf(ctx), positional, flags)
    }),
  )
  return cmd
}

function need(args: string[], n: number, usage: string): void {
  if (args.length < n) throw badArgs(usage)
}

function say(ctx: Context, text: string, json: () => unknown): void {
  if (ctx.writeOut === 'json') printJson(json())
  else out(text)
}

async function newPassword(name: string, flags: Record<string, unknown>): Promise<string> {
  if (typeof flags.newUserPassword === 'string' && flags.newUserPassword !== '') return flags.newUserPassword
  const { promptPassword, readPasswordLine } = await import('./prompt.ts')
  if (flags.interactive === false) return readPasswordLine()
  const first = await promptPassword(`Password of ${name}: `)
  const again = await promptPassword(`Type password of ${name} again for confirmation: `)
  if (first !== again) throw badArgs('given passwords are different')
  return first
}

const passwordOptions = (): Option[] => [
  new Option('--new-user-password <password>', 'the new password (instead of prompting)'),
  new Option('--interactive [bool]', 'read the password from the terminal; false: one line from stdin')
    .default(true)
    .argParser((v: string) => v !== 'false'),
]

function authCommand(): Command {
  const cmd = new Command('auth').description('Enable or disable authentication')
  cmd.addCommand(
    verb('enable', 'Enables authentication', [], async (ctx, client) => {
      // etcdctl's loop: a root user without the root role is given it, then enable is tried again.
      for (let attempt = 0; ; attempt++) {
        try {
          const header = await client.auth.enable()
          return say(ctx, 'Authentication Enabled\n', () => ({ header: headerJson(header) }))
        } catch (e) {
          if (!(e instanceof CairnError) || e.code !== 'RootRoleNotExist' || attempt > 0) throw e
          await call(client.auth.roleAdd('root')).catch((err: unknown) => {
            if (!String((err as Error).message).includes('role name already exists')) throw err
          })
          await call(client.auth.userGrantRole('root', 'root'))
        }
      }
    }),
  )
  cmd.addCommand(
    verb('disable', 'Disables authentication', [], async (ctx, client) => {
      const header = await call(client.auth.disable())
      say(ctx, 'Authentication Disabled\n', () => ({ header: headerJson(header) }))
    }),
  )
  cmd.addCommand(
    verb('status', 'Returns authentication status', [], async (ctx, client) => {
      const s = await call(client.auth.status())
      say(ctx, `Authentication Status: ${s.enabled}\nAuthRevision: ${s.authRevision}\n`, () => ({
        header: headerJson(s.header),
        ...(s.enabled ? { enabled: true } : {}),
        authRevision: s.authRevision,
      }))
    }),
  )
  return cmd
}

function userCommand(): Command {
  const cmd = new Command('user').description('User related commands')
  cmd.addCommand(
    verb(
      'add',
      'Adds a new user (name or name:password)',
      ['user name[:password]'],
      async (ctx, client, args, flags) => {
        need(args, 1, 'user add command requires user name as its argument')
        const given = args[0]!
        const colon = given.indexOf(':')
        const name = colon >= 0 ? given.slice(0, colon) : given
        let header
        if (flags.password === false) header = await call(client.auth.userAdd(name, { noPassword: true }))
        else header = await call(client.auth.userAdd(name, colon >= 0 ? given.slice(colon + 1) : await newPassword(name, flags)))
        say(ctx, `User ${name} created\n`, () => ({ header: headerJson(header) }))
      },
      [...passwordOptions(), new Option('--no-password', 'create a user without password (it authenticates by certificate)')],
    ),
  )
  cmd.addCommand(
    verb('delete', 'Deletes a user', ['user name'], async (ctx, client, args) => {
      need(args, 1, 'user delete command requires user name as its argument')
      const header = await call(client.auth.userDelete(args[0]!))
      say(ctx, `User ${args[0]} deleted\n`, () => ({ header: headerJson(header) }))
    }),
  )
  cmd.addCommand(
    verb(
      'passwd',
      'Changes password of user',
      ['user name'],
      async (ctx, client, args, flags) => {
        need(args, 1, 'user passwd command requires user name as its argument')
        const header = await call(client.auth.userChangePassword(args[0]!, await newPassword(args[0]!, flags)))
        say(ctx, 'Password updated\n', () => ({ header: headerJson(header) }))
      },
      passwordOptions(),
    ),
  )
  cmd.addCommand(
    verb('get', 'Gets detailed information of a user', ['user name'], async (ctx, client, args) => {
      need(args, 1, 'user get command requires user name as its argument')
      const r = await call(client.auth.userGet(args[0]!))
      say(ctx, `User: ${args[0]}\nRoles:${r.roles.map((x) => ` ${x}`).join('')}\n`, () => ({ header: headerJson(r.header), roles: r.roles }))
    }),
  )
  cmd.addCommand(
    verb('list', 'Lists all users', [], async (ctx, client) => {
      const r = await call(client.auth.userList())
      say(ctx, r.users.map((u) => `${u}\n`).join(''), () => ({ header: headerJson(r.header), users: r.users }))
    }),
  )
  cmd.addCommand(
    verb('grant-role', 'Grants a role to a user', ['user name', 'role name'], async (ctx, client, args) => {
      need(args, 2, 'user grant command requires user name and role name as its argument')
      const header = await call(client.auth.userGrantRole(args[0]!, args[1]!))
      say(ctx, `Role ${args[1]} is granted to user ${args[0]}\n`, () => ({ header: headerJson(header) }))
    }),
  )
  cmd.addCommand(
    verb('revoke-role', 'Revokes a role from a user', ['user name', 'role name'], async (ctx, client, args) => {
      need(args, 2, 'user revoke-role requires user name and role name as its argument')
      const header = await call(client.auth.userRevokeRole(args[0]!, args[1]!))
      say(ctx, `Role ${args[1]} is revoked from user ${args[0]}\n`, () => ({ header: headerJson(header) }))
    }),
  )
  return cmd
}

const rangeOptions = (): Option[] => [
  new Option('--prefix', 'the key is a prefix'),
  new Option('--from-key', 'every key from the key on'),
]

/** The range a grant or revoke names: key [endkey], --prefix or --from-key, as etcdctl. */
function permissionRange(args: string[], flags: Record<string, unknown>): { key: Uint8Array; rangeEnd?: Uint8Array } {
  const key = toBytes(args[0] ?? '')
  const end = args[1]
  if (flags.prefix === true && flags.fromKey === true) throw badArgs('--from-key and --prefix flags are mutually exclusive')
  if ((flags.prefix === true || flags.fromKey === true) && end !== undefined) {
    throw badArgs(`unexpected endkey argument with --${flags.prefix === true ? 'prefix' : 'from-key'} flag`)
  }
  if (flags.prefix === true) return { key, rangeEnd: key.length === 0 ? Uint8Array.of(0) : prefixEnd(key) }
  if (flags.fromKey === true) return { key: key.length === 0 ? Uint8Array.of(0) : key, rangeEnd: Uint8Array.of(0) }
  if (end !== undefined) return { key, rangeEnd: toBytes(end) }
  return { key }
}

const permissionTypeNames: Record<string, PermissionType> = { read: 'READ', write: 'WRITE', readwrite: 'READWRITE' }

function describeRange(p: Permission): string {
  const key = toText(p.key)
  if (p.rangeEnd === undefined || p.rangeEnd.length === 0) return `\t${key}\n`
  const end = toText(p.rangeEnd)
  let line = end === '\0' ? `\t[${key}, <open ended>` : `\t[${key}, ${end})`
  if (p.key.length > 0 && toText(prefixEnd(p.key)) === end) line += ` (prefix ${key})`
  return line + '\n'
}

function roleCommand(): Command {
  const cmd = new Command('role').description('Role related commands')
  cmd.addCommand(
    verb('add', 'Adds a new role', ['role name'], async (ctx, client, args) => {
      need(args, 1, 'role add command requires role name as its argument')
      const header = await call(client.auth.roleAdd(args[0]!))
      say(ctx, `Role ${args[0]} created\n`, () => ({ header: headerJson(header) }))
    }),
  )
  cmd.addCommand(
    verb('delete', 'Deletes a role', ['role name'], async (ctx, client, args) => {
      need(args, 1, 'role delete command requires role name as its argument')
      const header = await call(client.auth.roleDelete(args[0]!))
      say(ctx, `Role ${args[0]} deleted\n`, () => ({ header: headerJson(header) }))
    }),
  )
  cmd.addCommand(
    verb('get', 'Gets detailed information of a role', ['role name'], async (ctx, client, args) => {
      need(args, 1, 'role get command requires role name as its argument')
      const r = await call(client.auth.roleGet(args[0]!))
      const of = (t: PermissionType) => r.permissions.filter((p) => p.permType === t || p.permType === 'READWRITE').map(describeRange).join('')
      say(ctx, `Role ${args[0]}\nKV Read:\n${of('READ')}KV Write:\n${of('WRITE')}`, () => ({
        header: headerJson(r.header),
        perm: r.permissions.map((p) => ({
          ...(p.permType !== 'READ' ? { permType: ['READ', 'WRITE', 'READWRITE'].indexOf(p.permType) } : {}),
          key: Buffer.from(p.key).toString('base64'),
          ...(p.rangeEnd ? { range_end: Buffer.from(p.rangeEnd).toString('base64') } : {}),
        })),
      }))
    }),
  )
  cmd.addCommand(
    verb('list', 'Lists all roles', [], async (ctx, client) => {
      const r = await call(client.auth.roleList())
      say(ctx, r.roles.map((x) => `${x}\n`).join(''), () => ({ header: headerJson(r.header), roles: r.roles }))
    }),
  )
  cmd.addCommand(
    verb(
      'grant-permission',
      'Grants a key to a role: <role name> <read|write|readwrite> <key> [endkey]',
      ['role name', 'permission type', 'key', 'endkey'],
      async (ctx, client, args, flags) => {
        need(args, 3, 'role grant command requires role name, permission type, and key [endkey] as its argument')
        const permType = permissionTypeNames[args[1]!.toLowerCase()]
        if (permType === undefined) throw badArgs(`invalid permission type ${args[1]}`)
        const { key, rangeEnd } = permissionRange(args.slice(2), flags)
        const header = await call(client.auth.roleGrantPermission(args[0]!, permType, key, rangeEnd))
        say(ctx, `Role ${args[0]} updated\n`, () => ({ header: headerJson(header) }))
      },
      rangeOptions(),
    ),
  )
  cmd.addCommand(
    verb(
      'revoke-permission',
      'Revokes a key from a role: <role name> <key> [endkey]',
      ['role name', 'key', 'endkey'],
      async (ctx, client, args, flags) => {
        need(args, 2, 'role revoke-permission command requires role name and key [endkey] as its argument')
        const { key, rangeEnd } = permissionRange(args.slice(1), flags)
        const header = await call(client.auth.roleRevokePermission(args[0]!, key, rangeEnd))
        const text =
          rangeEnd === undefined
            ? `Permission of key ${toText(key)} is revoked from role ${args[0]}\n`
            : `Permission of range [${toText(key)}, ${toText(rangeEnd)}) is revoked from role ${args[0]}\n`
        say(ctx, text, () => ({ header: headerJson(header) }))
      },
      rangeOptions(),
    ),
  )
  return cmd
}

export function authCommands(): Command[] {
  return [authCommand(), userCommand(), roleCommand()]
}
