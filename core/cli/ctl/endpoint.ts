// `cairn endpoint health|status [--cluster]`, as etcdctl's: one client per endpoint, health by a
// linearizable read of the key "health", status from /v3/maintenance/status.

import { Command } from 'commander'
import type { StatusResult } from '../../client/index.ts'
import { action, call, CliExit, clientOf, contextOf, errorText, Exit, out } from './context.ts'
import type { Context } from './context.ts'
import { goDuration } from './duration.ts'
import { headerJson, humanizeBytes, printJson, renderTable } from './format.ts'

interface EndpointHealth {
  endpoint: string
  health: boolean
  took: string
  error?: string
}

/** The --endpoints list, or with --cluster every client URL in the member list. */
async function endpointsOf(ctx: Context, cluster: boolean): Promise<string[]> {
  if (!cluster) return ctx.endpoints
  const r = await call(clientOf(ctx).cluster.memberList())
  return [...new Set(r.members.flatMap((m) => m.clientUrls))]
}

async function checkHealth(ctx: Context, endpoint: string): Promise<EndpointHealth> {
  const started = process.hrtime.bigint()
  try {
    await clientOf(ctx, [endpoint]).get('health')
    return { endpoint, health: true, took: goDuration(process.hrtime.bigint() - started) }
  } catch (e) {
    if (e instanceof CliExit) throw e
    return { endpoint, health: false, took: goDuration(process.hrtime.bigint() - started), error: errorText(e) }
  }
}

function health(): Command {
  return new Command('health')
    .description('Checks the healthiness of endpoints specified in `--endpoints` flag')
    .option('--cluster', 'use all endpoints from the cluster member list')
    .action(
      action(async (flags: { cluster?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        const endpoints = await endpointsOf(ctx, flags.cluster === true)
        // One endpoint after the other (etcdctl checks them at once and prints in the order they finish):
        // the output keeps the order of --endpoints, and the checks' reads never overlap.
        const results: EndpointHealth[] = []
        for (const ep of endpoints) results.push(await checkHealth(ctx, ep))
        if (ctx.writeOut === 'json') printJson(results)
        else if (ctx.writeOut === 'table') {
          out(renderTable(['ENDPOINT', 'HEALTH', 'TOOK', 'ERROR'], results.map((h) => [h.endpoint, String(h.health), h.took, h.error ?? ''])))
        } else {
          for (const h of results) {
            process.stderr.write(
              h.health
                ? `${h.endpoint} is healthy: successfully committed proposal: took = ${h.took}\n`
                : `${h.endpoint} is unhealthy: failed to commit proposal: ${h.error ?? ''}\n`,
            )
          }
        }
        if (results.some((h) => !h.health)) throw new CliExit(Exit.Error, 'unhealthy cluster')
      }),
    )
}

function statusRow(endpoint: string, s: StatusResult): string[] {
  return [
    endpoint,
    s.header.memberId.toString(16),
    s.version,
    humanizeBytes(s.dbSize),
    String(s.leader === s.header.memberId),
    String(s.isLearner),
    String(s.raftTerm),
    String(s.raftIndex),
    String(s.raftAppliedIndex),
    s.errors.join(', '),
  ]
}

function statusJson(s: StatusResult): Record<string, unknown> {
  const o: Record<string, unknown> = { header: headerJson(s.header) }
  if (s.version) o.version = s.version
  if (s.dbSize) o.dbSize = s.dbSize
  if (s.leader) o.leader = s.leader
  if (s.raftIndex) o.raftIndex = s.raftIndex
  if (s.raftTerm) o.raftTerm = s.raftTerm
  if (s.raftAppliedIndex) o.raftAppliedIndex = s.raftAppliedIndex
  if (s.errors.length) o.errors = s.errors
  if (s.dbSizeInUse) o.dbSizeInUse = s.dbSizeInUse
  if (s.isLearner) o.isLearner = true
  return o
}

const STATUS_HEADER = ['ENDPOINT', 'ID', 'VERSION', 'DB SIZE', 'IS LEADER', 'IS LEARNER', 'RAFT TERM', 'RAFT INDEX', 'RAFT APPLIED INDEX', 'ERRORS']

function status(): Command {
  return new Command('status')
    .description('Prints out the status of endpoints specified in `--endpoints` flag')
    .option('--cluster', 'use all endpoints from the cluster member list')
    .action(
      action(async (flags: { cluster?: boolean }, cmd: Command) => {
        const ctx = contextOf(cmd)
        const endpoints = await endpointsOf(ctx, flags.cluster === true)
        const list: Array<{ endpoint: string; status: StatusResult }> = []
        let failed = false
        for (const endpoint of endpoints) {
          try {
            list.push({ endpoint, status: await clientOf(ctx, [endpoint]).maintenance.status() })
          } catch (e) {
            if (e instanceof CliExit) throw e
            failed = true
            process.stderr.write(`Failed to get the status of endpoint ${endpoint} (${errorText(e)})\n`)
          }
        }
        if (ctx.writeOut === 'json') printJson(list.map((x) => ({ Endpoint: x.endpoint, Status: statusJson(x.status) })))
        else if (ctx.writeOut === 'table') out(renderTable(STATUS_HEADER, list.map((x) => statusRow(x.endpoint, x.status))))
        else for (const x of list) out(statusRow(x.endpoint, x.status).join(', ') + '\n')
        if (failed) throw new CliExit(Exit.Error, '')
      }),
    )
}

export function endpointCommand(): Command {
  return new Command('endpoint').description('Endpoint related commands').addCommand(health()).addCommand(status())
}
