// `cairn serve`: run one member. Flags are etcd's; each can also come from CAIRN_<FLAG> (e.g.
// CAIRN_DATA_DIR, CAIRN_INITIAL_CLUSTER).

import { Command, Option } from 'commander'
import pino from 'pino'
import { ConfigError, parseServeOptions, SERVE_BOOLEAN_FLAGS, SERVE_FLAG_DEFAULTS } from '../server/options.ts'
import type { RawServeFlags } from '../server/options.ts'
import { startMember } from '../server/start.ts'

const FLAGS: Array<[keyof typeof SERVE_FLAG_DEFAULTS, string]> = [
  ['name', 'human-readable name for this member'],
  ['dataDir', 'path to the data directory'],
  ['listenClientUrls', 'URLs to listen on for client traffic'],
  ['advertiseClientUrls', "this member's client URLs to advertise to the cluster (default: --listen-client-urls)"],
  ['listenPeerUrls', 'URLs to listen on for peer traffic'],
  ['initialAdvertisePeerUrls', "this member's peer URLs to advertise to the cluster (default: --listen-peer-urls)"],
  ['initialCluster', 'initial cluster configuration for bootstrapping, name=url,…'],
  ['initialClusterState', 'initial cluster state: new or existing'],
  ['initialClusterToken', 'initial cluster token, unique per cluster'],
  ['discovery', 'discovery URL used to bootstrap the cluster'],
  ['heartbeatInterval', 'time (in milliseconds) of a heartbeat interval'],
  ['electionTimeout', 'time (in milliseconds) for an election to time out'],
  ['snapshotCount', 'number of committed entries that trigger a snapshot'],
  ['autoCompactionRetention', 'history to keep, in hours or as a duration (0 disables auto compaction)'],
  ['quotaBackendBytes', 'raise an alarm when the backend size exceeds this quota'],
  ['maxRequestBytes', 'maximum client request size in bytes'],
  ['maxTxnOps', 'maximum number of operations in a transaction'],
  ['maxClientConnections', 'open client connections beyond this are refused (503)'],
  ['maxWatchesPerConnection', 'watches one watch stream (WebSocket or POST) may hold'],
  ['clientRequestTimeout', 'time a client has to send a whole request, headers and body (a duration)'],
  ['clientPingInterval', 'WebSocket ping interval; a socket that misses a pong is closed (a duration)'],
  ['authTokenTtl', 'seconds an auth token stays valid'],
  ['bcryptCost', 'bcrypt cost of password hashes (4-31)'],
  ['logLevel', 'log level: debug, info, warn, error'],
  ['certFile', 'path to the client server TLS cert file (https client URLs)'],
  ['keyFile', 'path to the client server TLS key file'],
  ['trustedCaFile', 'path to the CA that signs client certificates (with --client-cert-auth)'],
  ['clientCertAuth', 'require clients to present a certificate signed by --trusted-ca-file'],
  ['peerCertFile', 'path to the peer TLS cert file (https peer URLs; also presented when dialling peers)'],
  ['peerKeyFile', 'path to the peer TLS key file'],
  ['peerTrustedCaFile', "path to the CA that signs peers' certificates"],
  ['peerClientCertAuth', 'require peers to present a certificate signed by --peer-trusted-ca-file'],
  ['peerCertAllowedCn', "refuse peers whose certificate's common name is not this one"],
]

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)
}

export function serveCommand(): Command {
  const cmd = new Command('serve').description('run a Cairn member')
  for (const [key, help] of FLAGS) {
    const flag = kebab(key)
    const def = SERVE_FLAG_DEFAULTS[key]
    // A switch takes an optional value, as Go's boolean flags: `--client-cert-auth` or `--client-cert-auth=false`.
    const arg = SERVE_BOOLEAN_FLAGS.has(key) ? '[bool]' : '<value>'
    cmd.addOption(
      new Option(`--${flag} ${arg}`, help).env(`CAIRN_${flag.toUpperCase().replace(/-/g, '_')}`).default(def === '' ? undefined : def),
    )
  }
  cmd.action(async (given: Record<string, string | boolean | undefined>) => {
    const flags: RawServeFlags = {}
    for (const [k, v] of Object.entries(given)) (flags as Record<string, string | undefined>)[k] = v === true ? 'true' : v === false ? 'false' : v
    let opts
    try {
      opts = parseServeOptions(flags)
    } catch (e) {
      if (e instanceof ConfigError) fatal(e.message)
      throw e
    }
    const logger = pino({ level: opts.logLevel, base: { name: opts.name } }, pino.destination(2))
    let running
    try {
      running = await startMember(opts, logger)
    } catch (e) {
      if (e instanceof ConfigError) fatal(e.message)
      throw e
    }
    process.stdout.write(
      `cairn member ${opts.name} serving clients on ${opts.advertiseClientUrls.map((u) => u.origin).join(',')} (data in ${opts.dataDir})\n`,
    )
    let stopping = false
    const stop = async (code: number) => {
      if (stopping) return
      stopping = true
      await running.stop().catch(() => undefined)
      logger.flush?.()
      process.exit(code)
    }
    process.on('SIGTERM', () => void stop(0))
    process.on('SIGINT', () => void stop(0))
    void running.done.then(() => stop(process.exitCode === 1 ? 1 : 0))
  })
  return cmd
}

function fatal(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}
