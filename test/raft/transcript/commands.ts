// The transcript command language. Each command runs against an Env and returns its output lines.
//
//   add-nodes N [voters=(1,2,3)] [learners=(4)] [index=I] [pre-vote=true] [check-quorum=true]
//             [election=10] [heartbeat=1] [inflight=256] [inflight-bytes=0] [max-msg-bytes=N]
//             [max-uncommitted-bytes=N] [max-committed-bytes=N] [bugs=commit-old-term,vote-twice,stale-reads]
//             [seed=S]
//   campaign ID                         start an election (pre-vote first if enabled)
//   propose ID DATA                     propose a normal entry
//   propose-conf-change ID [v4 l5 r2 …] [transition=auto|implicit|explicit]   (no changes = leave joint)
//   process-ready [ID…]                 handle one Ready of each node (all nodes when no ID)
//   deliver-msgs [drop=(ID,…)] [type=T] [ID…]  deliver queued messages to ID… (all when none); drop those to drop=
//   stabilize [ID…]                     process-ready and deliver-msgs until nothing moves
//   tick ID [N]                         N ticks (default 1)
//   tick-election ID                    ticks until the election timer fires (a leader: one check-quorum round)
//   tick-heartbeat ID                   heartbeatTick ticks
//   isolate ID / cut A B / heal         cut every link of ID / the link A–B; heal restores all links
//   read-index ID CTX                   request a linearizable read with context CTX
//   transfer-leader FROM TO             ask node FROM to hand leadership to TO
//   report-unreachable ID PEER / report-snapshot ID PEER [failed]
//   compact ID INDEX                    snapshot the applied state at INDEX and discard the log up to it
//   restart ID                          lose all volatile state and start again from storage
//   status ID / raft-log ID / raft-state / queue
//   log-level none|warn|info|debug      which core log lines to print (default info)
//   quiet COMMAND…                      run a command, print only its errors

import { describeMessage } from './format.ts'
import { describeError, Env, parseConfChangeSingle } from './env.ts'
import type { NodeOptions } from './env.ts'
import type { PlantedBugs } from '../../../core/raft/config.ts'
import type { ConfChange, NodeId } from '../../../core/raft/types.ts'

export interface ParsedCommand {
  name: string
  positional: string[]
  keyed: Map<string, string>
}

export function parseCommand(line: string): ParsedCommand {
  const tokens = line.trim().split(/\s+/)
  const name = tokens.shift()
  if (name === undefined || name === '') throw new SyntaxError('empty command')
  const positional: string[] = []
  const keyed = new Map<string, string>()
  for (const t of tokens) {
    const eq = t.indexOf('=')
    if (eq > 0) keyed.set(t.slice(0, eq), t.slice(eq + 1))
    else positional.push(t)
  }
  return { name, positional, keyed }
}

export function parseId(s: string | undefined, what = 'node id'): NodeId {
  if (s === undefined) throw new SyntaxError(`missing ${what}`)
  const n = Number(s)
  if (!Number.isSafeInteger(n) || n < 0) throw new SyntaxError(`${what}: expected a non-negative integer, got ${JSON.stringify(s)}`)
  return n
}

/** "(1,2,3)" or "1,2,3" or "()" → ids. */
export function parseIdList(s: string): NodeId[] {
  const inner = s.startsWith('(') && s.endsWith(')') ? s.slice(1, -1) : s
  if (inner.trim() === '') return []
  return inner.split(',').map((x) => parseId(x.trim()))
}

function parseBool(s: string): boolean {
  if (s === 'true') return true
  if (s === 'false') return false
  throw new SyntaxError(`expected true or false, got ${JSON.stringify(s)}`)
}

const BUG_NAMES: Record<string, keyof PlantedBugs> = {
  'commit-old-term': 'commitOldTerm',
  'vote-twice': 'voteTwice',
  'stale-reads': 'staleReads',
}

function nodeOptions(keyed: Map<string, string>): Partial<NodeOptions> {
  const o: Partial<NodeOptions> = {}
  for (const [k, v] of keyed) {
    switch (k) {
      case 'voters':
      case 'learners':
      case 'index':
        break
      case 'pre-vote':
        o.preVote = parseBool(v)
        break
      case 'check-quorum':
        o.checkQuorum = parseBool(v)
        break
      case 'election':
        o.electionTick = parseId(v, k)
        break
      case 'heartbeat':
        o.heartbeatTick = parseId(v, k)
        break
      case 'inflight':
        o.maxInflightMsgs = parseId(v, k)
        break
      case 'inflight-bytes':
        o.maxInflightBytes = parseId(v, k)
        break
      case 'max-msg-bytes':
        o.maxSizePerMsg = parseId(v, k)
        break
      case 'max-uncommitted-bytes':
        o.maxUncommittedEntriesSize = parseId(v, k)
        break
      case 'max-committed-bytes':
        o.maxCommittedSizePerReady = parseId(v, k)
        break
      case 'seed':
        o.seed = parseId(v, k)
        break
      case 'bugs': {
        const bugs: PlantedBugs = {}
        for (const name of v.split(',')) {
          const key = BUG_NAMES[name]
          if (!key) throw new SyntaxError(`unknown bug ${JSON.stringify(name)}; known: ${Object.keys(BUG_NAMES).join(', ')}`)
          bugs[key] = true
        }
        o.bugs = bugs
        break
      }
      default:
        throw new SyntaxError(`add-nodes: unknown argument ${k}`)
    }
  }
  return o
}

function onlyKeys(c: ParsedCommand, allowed: string[]): void {
  for (const k of c.keyed.keys()) {
    if (!allowed.includes(k)) throw new SyntaxError(`${c.name}: unknown argument ${k}=`)
  }
}

function idSet(positional: string[]): Set<NodeId> {
  return new Set(positional.map((p) => parseId(p)))
}

const encoder = new TextEncoder()

/**
 * Runs one command line; errors become an "error: …" output line rather than failing the run.
 * A leading "quiet" runs the command but keeps only its error lines (for uninteresting setup).
 */
export function runCommand(env: Env, line: string): string[] {
  const quiet = /^quiet\s/.test(line)
  const command = quiet ? line.replace(/^quiet\s+/, '') : line
  const out = env.capture(() => {
    try {
      dispatch(env, parseCommand(command))
    } catch (e) {
      env.print(describeError(e))
    }
  })
  return quiet ? out.filter((l) => l.trimStart().startsWith('error:')) : out
}

function dispatch(env: Env, c: ParsedCommand): void {
  const p = c.positional
  const node = () => parseId(p[0])
  switch (c.name) {
    case 'add-nodes': {
      const count = parseId(p[0], 'node count')
      const conf: { voters?: NodeId[]; learners?: NodeId[]; index?: number } = {}
      const voters = c.keyed.get('voters')
      const learners = c.keyed.get('learners')
      const index = c.keyed.get('index')
      if (voters !== undefined) conf.voters = parseIdList(voters)
      if (learners !== undefined) conf.learners = parseIdList(learners)
      if (index !== undefined) conf.index = parseId(index, 'index')
      env.addNodes(count, conf, nodeOptions(c.keyed))
      return
    }
    case 'campaign':
      onlyKeys(c, [])
      env.get(node()).raw.campaign()
      return
    case 'propose':
      onlyKeys(c, [])
      if (p[1] === undefined) throw new SyntaxError('propose ID DATA: missing DATA')
      env.propose(node(), p.slice(1).join(' '))
      return
    case 'propose-conf-change': {
      onlyKeys(c, ['transition'])
      const transition = c.keyed.get('transition') ?? 'auto'
      if (transition !== 'auto' && transition !== 'implicit' && transition !== 'explicit') {
        throw new SyntaxError(`transition: expected auto, implicit or explicit, got ${transition}`)
      }
      const cc: ConfChange = { transition, changes: p.slice(1).map(parseConfChangeSingle), context: new Uint8Array() }
      env.proposeConfChange(node(), cc)
      return
    }
    case 'process-ready': {
      onlyKeys(c, [])
      const targets = p.length > 0 ? [...idSet(p)] : env.sortedNodes().map((n) => n.id)
      for (const id of targets) env.processReady(id)
      return
    }
    case 'deliver-msgs': {
      onlyKeys(c, ['drop', 'type'])
      const drop = new Set(parseIdList(c.keyed.get('drop') ?? '()'))
      env.deliverMsgs(idSet(p), drop, c.keyed.get('type'))
      return
    }
    case 'stabilize':
      onlyKeys(c, [])
      env.stabilize(idSet(p))
      return
    case 'tick':
      env.tick(node(), p[1] === undefined ? 1 : parseId(p[1], 'tick count'))
      return
    case 'tick-election':
      env.tick(node(), env.ticksToElection(node()))
      return
    case 'tick-heartbeat':
      env.tick(node(), env.get(node()).options.heartbeatTick)
      return
    case 'isolate':
      env.isolated.add(node())
      return
    case 'cut':
      env.cut(node(), parseId(p[1]))
      return
    case 'heal':
      env.heal()
      return
    case 'read-index':
      if (p[1] === undefined) throw new SyntaxError('read-index ID CTX: missing CTX')
      env.get(node()).raw.readIndex(encoder.encode(p[1]))
      return
    case 'transfer-leader':
      env.get(node()).raw.transferLeader(parseId(p[1], 'transferee'))
      return
    case 'report-unreachable':
      env.get(node()).raw.reportUnreachable(parseId(p[1], 'peer'))
      return
    case 'report-snapshot':
      env.get(node()).raw.reportSnapshot(parseId(p[1], 'peer'), p[2] !== 'failed')
      return
    case 'compact':
      env.compact(node(), parseId(p[1], 'index'))
      return
    case 'restart':
      env.restart(node())
      return
    case 'status':
      env.describeStatus(node())
      return
    case 'raft-log':
      env.describeLog(node())
      return
    case 'raft-state':
      env.describeRaftState()
      return
    case 'queue':
      for (const m of env.queue) env.print(describeMessage(m))
      return
    case 'log-level': {
      const level = p[0]
      if (level !== 'none' && level !== 'warn' && level !== 'info' && level !== 'debug') {
        throw new SyntaxError(`log-level: expected none, warn, info or debug, got ${String(level)}`)
      }
      env.logLevel = level
      return
    }
    default:
      throw new SyntaxError(`unknown command ${c.name}`)
  }
}
