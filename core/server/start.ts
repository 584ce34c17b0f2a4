// Opening a member: the data dir, its identity (or bootstrapping a new cluster), the Raft node, the
// peer listener and the client listener. Everything an operator can get wrong is reported as one
// ConfigError line.

import { createReadStream } from 'node:fs'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { TLSSocket } from 'node:tls'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { createClientServer } from '../api/client-server.ts'
import { CairnError } from '../errors.ts'
import { Metrics } from '../api/metrics.ts'
import { RocksBackend } from '../mvcc/rocks-backend.ts'
import { MvccStore } from '../mvcc/store.ts'
import { SpaceUsage } from '../mvcc/space-usage.ts'
import { RawNode } from '../raft/rawnode.ts'
import type { ConfState, Entry } from '../raft/types.ts'
import { emptyConfState } from '../raft/types.ts'
import { encodeConfChange } from '../raft/confchange-codec.ts'
import { CorruptionError, RocksDb, RocksLogStore, WriteBatch } from '../storage/index.ts'
import { mostCurrentAnswer } from './join-answer.ts'
import type { MembersAnswer } from './join-answer.ts'
import type { Db, LogStore } from '../storage/index.ts'
import { hashId, idToHex } from './ids.ts'
import { activeFailpoints, peerUrlRewrites } from './failpoints.ts'
import { encodeMemberContext, Member } from './member.ts'
import { discoverInitialCluster } from './discovery.ts'
import { ConfigError, parseInitialCluster } from './options.ts'
import type { ServeOptions } from './options.ts'
import { Registry } from './registry.ts'
import type { Identity, MemberInfo } from './registry.ts'
import { sendSnapshot, SnapshotReceiver, snapshotHeaders, spoolPath } from './snapshot-transfer.ts'
import { Transport } from './transport.ts'
import { BackendQuota } from './quota.ts'
import { loadTls, peerCertRefusal } from './tls-config.ts'
import type { LoadedTls } from './tls-config.ts'
import { fetchWithTls } from '../tls/fetch.ts'
import { forwardPoster } from '../api/forward-post.ts'
import { guardTlsListener, remoteOf } from '../tls/listener.ts'
import type { Fetch } from '../tls/fetch.ts'

export interface RunningMember {
  member: Member
  clientServers: Server[]
  peerServers: Server[]
  stop(): Promise<void>
  /** Resolves when the member stops by itself (removed from the cluster, fatal error). */
  done: Promise<void>
}

export function memberIdFor(token: string, name: string, peerUrls: string[]): number {
  return hashId('member', token, name, ...[...peerUrls].sort())
}

export function clusterIdFor(token: string, memberIds: number[]): number {
  return hashId('cluster', token, ...[...memberIds].sort((a, b) => a - b).map(String))
}

async function openDb(dataDir: string): Promise<Db & { handle: unknown; close(): Promise<void> }> {
  try {
    await mkdir(dataDir, { recursive: true })
  } catch (e) {
    throw new ConfigError(`cannot create --data-dir ${dataDir}: ${(e as Error).message}`)
  }
  try {
    return await RocksDb.open(join(dataDir, 'db'))
  } catch (e) {
    const msg = (e as Error).message
    if (/lock/i.test(msg)) throw new ConfigError(`--data-dir ${dataDir} is in use by another process`)
    throw new ConfigError(`cannot open --data-dir ${dataDir}: ${msg}`)
  }
}

/** Writes the first entries of a new cluster: one conf change per initial member, all committed. */
export async function bootstrap(opts: ServeOptions, db: Db, logStore: LogStore, registry: Registry, fetchPeer: Fetch = fetch): Promise<Identity> {
  if (opts.initialClusterState === 'existing') return joinExisting(opts, db, registry, fetchPeer)
  const token = opts.initialClusterToken
  const members: MemberInfo[] = [...opts.initialCluster].map(([name, urls]) => {
    const peerUrls = urls.map((u) => u.origin)
    return { id: memberIdFor(token, name, peerUrls), name, peerUrls, clientUrls: [], isLearner: false }
  })
  const self = members.find((m) => m.name === opts.name)
  if (!self) throw new ConfigError(`--initial-cluster has no entry for --name ${opts.name}`)
  const ownAdvertised = opts.initialAdvertisePeerUrls.map((u) => u.origin).sort()
  if (JSON.stringify([...self.peerUrls].sort()) !== JSON.stringify(ownAdvertised)) {
    throw new ConfigError(
      `--initial-cluster has ${opts.name}=${self.peerUrls.join(',')} but --initial-advertise-peer-urls is ${ownAdvertised.join(',')}`,
    )
  }
  const clusterId = clusterIdFor(token, members.map((m) => m.id))
  const entries: Entry[] = members.map((m, i) => ({
    term: 1,
    index: i + 1,
    type: 'conf-change',
    data: encodeConfChange({
      transition: 'auto',
      changes: [{ type: 'add-voter', nodeId: m.id }],
      context: encodeMemberContext({ id: m.id, name: m.name, peerUrls: m.peerUrls }),
    }),
  }))
  const confState: ConfState = { ...emptyConfState(), voters: members.map((m) => m.id) }
  const batch = new WriteBatch()
  logStore.stageConfState(batch, confState, 0)
  for (const m of members) registry.stagePut(batch, m)
  await db.write(batch, { sync: true })
  await logStore.save({ entries, hardState: { term: 1, vote: 0, commit: entries.length } }, true)
  const identity: Identity = { memberId: self.id, clusterId, name: opts.name }
  await registry.saveIdentity(identity)
  return identity
}

const APPLIED_INDEX_HEADER = 'x-cairn-applied-index'

/**
 * Joins a running cluster that already added this member (`cairn member add`): learns our ID and the
 * cluster's from a peer, then starts with an empty log; the leader catches us up by snapshot.
 */
async function joinExisting(opts: ServeOptions, db: Db, registry: Registry, fetchPeer: Fetch): Promise<Identity> {
  const ours = opts.initialAdvertisePeerUrls.map((u) => u.origin).sort()
  const peers = [...opts.initialCluster].filter(([name]) => name !== opts.name).flatMap(([, urls]) => urls.map((u) => u.origin))
  if (peers.length === 0) throw new ConfigError('--initial-cluster-state existing needs --initial-cluster to list the running members')
  // Every peer is asked: a peer's list is its own registry, and one that lags (or was removed without
  // knowing) may still list a removed member under our peer URLs. Its ID must not be taken.
  const answers = await Promise.all(peers.map((peer) => askMembers(fetchPeer, peer)))
  const best = mostCurrentAnswer(answers)
  if (best === undefined) {
    const errors = answers.map((a) => ('error' in a ? a.error : '')).filter((e) => e !== '')
    throw new ConfigError(`cannot reach any member of the existing cluster (${errors.join('; ')})`)
  }
  const self = best.members.find((m) => JSON.stringify([...m.peerUrls].sort()) === JSON.stringify(ours))
  if (!self) {
    throw new ConfigError(
      `no member with peer URLs ${ours.join(',')} in the cluster; add it first with \`cairn member add ${opts.name} --peer-urls ${ours.join(',')}\``,
    )
  }
  // A member listed with client URLs has started before: an empty data dir cannot be it. Either its
  // data is gone, or it was removed and the answering peers have not applied that yet (etcd refuses
  // the same way). Taking its ID would get us refused, as a removed member, by everyone up to date.
  if (self.clientUrls.length > 0) {
    throw new ConfigError(
      `member ${idToHex(self.id)} with peer URLs ${ours.join(',')} has already been bootstrapped; if it was removed, add it again with \`cairn member add\` (a new member) and retry`,
    )
  }
  const batch = new WriteBatch()
  for (const m of best.members) registry.stagePut(batch, m.id === self.id ? { ...m, name: opts.name } : m)
  await db.write(batch, { sync: true })
  const identity: Identity = { memberId: self.id, clusterId: best.clusterId, name: opts.name }
  await registry.saveIdentity(identity)
  return identity
}

async function askMembers(fetchPeer: Fetch, peer: string): Promise<MembersAnswer | { error: string }> {
  try {
    const res = await fetchPeer(`${peer}/members`, { signal: AbortSignal.timeout(3_000) })
    const members = (await res.json()) as MemberInfo[]
    const clusterHex = res.headers.get('x-cairn-cluster-id')
    if (!Array.isArray(members) || !clusterHex) throw new Error('unexpected answer')
    const applied = Number(res.headers.get(APPLIED_INDEX_HEADER) ?? 0)
    return { members, clusterId: Number.parseInt(clusterHex, 16), appliedIndex: Number.isSafeInteger(applied) ? applied : 0 }
  } catch (e) {
    return { error: `${peer}: ${(e as Error).message}` }
  }
}

function listen(server: Server, url: URL): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE') reject(new ConfigError(`listen tcp ${url.host}: address already in use`))
      else if (e.code === 'EADDRNOTAVAIL') reject(new ConfigError(`listen tcp ${url.host}: address not available`))
      else reject(new ConfigError(`listen tcp ${url.host}: ${e.message}`))
    }
    server.once('error', onError)
    server.listen(Number(url.port), url.hostname.replace(/^\[|\]$/g, ''), () => {
      server.off('error', onError)
      resolve()
    })
  })
}

/**
 * Opens the keyspace. If the log holds a snapshot the keyspace has not caught up with (a crash
 * between saving a received snapshot and restoring the keyspace from it), finishes that restore from
 * the spooled snapshot; without it the data dir is inconsistent and the member refuses to start.
 */
async function openKeyspace(
  opts: ServeOptions,
  db: Db & { handle: unknown },
  logStore: LogStore,
  registry: Registry,
  mvccOptions: { leaseTtlSecondsMin: number; txnOpsMax: number },
  logger: Logger,
): Promise<MvccStore> {
  const backend = new RocksBackend(db.handle as never)
  const snapshotIndex = logStore.firstIndex() - 1
  let mvcc: MvccStore | undefined
  try {
    mvcc = await MvccStore.open(backend, mvccOptions)
    if (mvcc.appliedIndex() >= snapshotIndex) return mvcc
    await mvcc.close()
  } catch (e) {
    if (!(e instanceof CairnError)) throw e
    logger.warn({ err: e.detail ?? e.message }, 'keyspace needs its snapshot restored again')
  }
  const spool = spoolPath(join(opts.dataDir, 'snap-incoming'), snapshotIndex)
  const members = await readFile(`${spool}.members.json`, 'utf8').then((t) => JSON.parse(t) as MemberInfo[]).catch(() => undefined)
  if (!members) {
    await db.close()
    throw new ConfigError(
      `--data-dir ${opts.dataDir} is inconsistent: the keyspace is behind the log's snapshot at index ${snapshotIndex} and the snapshot data is gone; remove the member and add it again with an empty data dir`,
    )
  }
  logger.warn({ index: snapshotIndex }, 'finishing an interrupted snapshot restore')
  const restored = await MvccStore.restore(backend, createReadStream(spool, { highWaterMark: 1024 * 1024 }), mvccOptions)
  const batch = new WriteBatch()
  registry.stageReplaceAll(batch, members)
  await db.write(batch, { sync: true })
  await rm(spool, { force: true })
  await rm(`${spool}.members.json`, { force: true })
  return restored
}

/** Learns the initial cluster from a discovery URL; member and cluster IDs are derived from that URL. */
async function discoverCluster(opts: ServeOptions, logger: Logger, fetchClient: Fetch): Promise<ServeOptions> {
  const url = opts.discovery!
  const peerUrls = opts.initialAdvertisePeerUrls.map((u) => u.origin)
  const initialCluster = await discoverInitialCluster({
    url,
    name: opts.name,
    memberIdHex: idToHex(memberIdFor(url, opts.name, peerUrls)),
    peerUrls,
    log: (m) => logger.info(m),
    fetch: fetchClient,
  })
  logger.info({ initialCluster }, 'discovery complete')
  return { ...opts, initialCluster: parseInitialCluster(initialCluster), initialClusterToken: url }
}

function rewriter(map: Map<string, string>): (url: string) => string {
  return (url) => map.get(new URL(url).origin) ?? url
}

export async function startMember(options: ServeOptions, logger: Logger): Promise<RunningMember> {
  let opts = options
  // TLS files first: a bad certificate is a configuration error, found before anything is opened.
  const clientTls = loadTls('client', opts.clientTls)
  const peerTls = loadTls('peer', opts.peerTls)
  const fetchClient = fetchWithTls(clientTls?.client)
  const forwardClient = forwardPoster(clientTls?.client)
  const fetchPeer = fetchWithTls(peerTls?.client)
  const db = await openDb(opts.dataDir)
  let logStore: RocksLogStore
  try {
    logStore = await RocksLogStore.open(db)
  } catch (e) {
    await db.close()
    if (e instanceof CorruptionError) throw new ConfigError(`--data-dir ${opts.dataDir} is corrupt: ${e.detail ?? e.message}`)
    throw e
  }
  const registry = await Registry.open(db)
  const mvccOptions = { leaseTtlSecondsMin: Math.ceil((1.5 * opts.electionTimeoutMs) / 1000), txnOpsMax: opts.maxTxnOps }
  const mvcc = await openKeyspace(opts, db, logStore, registry, mvccOptions, logger)
  let identity = registry.identity()
  if (!identity && opts.discovery && opts.initialClusterState === 'new') {
    try {
      opts = await discoverCluster(opts, logger, fetchClient)
    } catch (e) {
      await db.close()
      throw e
    }
  }
  if (!identity) identity = await bootstrap(opts, db, logStore, registry, fetchPeer)
  else if (identity.name !== opts.name) {
    await db.close()
    throw new ConfigError(
      `--data-dir ${opts.dataDir} belongs to member "${identity.name}" (${idToHex(identity.memberId)}); start it with --name ${identity.name} or use another --data-dir`,
    )
  }
  const id = identity.memberId
  const clusterIdHex = idToHex(identity.clusterId)
  const cs = logStore.initialState().confState
  const inConfig = [...cs.voters, ...cs.learners, ...cs.votersOutgoing, ...cs.learnersNext].includes(id)
  if (!inConfig && registry.get(id) === undefined) {
    await db.close()
    throw new ConfigError(
      `member ${opts.name} (${idToHex(id)}) was removed from the cluster; to add it again, run \`cairn member add\` and start it with an empty --data-dir`,
    )
  }
  const log = logger.child({ member: opts.name, id: idToHex(id) })
  const node = new RawNode({
    id,
    storage: logStore,
    electionTick: Math.max(2, Math.round(opts.electionTimeoutMs / opts.heartbeatIntervalMs)),
    heartbeatTick: 1,
    random: Math.random,
    // The keyspace may have applied entries whose commit index was not saved yet (member.ts applies
    // committed entries while a Ready's writes are in flight). Raft starts at what it knows to be
    // committed; the entries it hands out again are skipped by the keyspace.
    applied: Math.max(logStore.firstIndex() - 1, Math.min(mvcc.appliedIndex(), logStore.initialState().hardState.commit)),
    preVote: true,
    checkQuorum: true,
    maxSizePerMsg: 1024 * 1024,
    maxInflightMsgs: 512,
    maxUncommittedEntriesSize: 1024 * 1024 * 1024,
    logger: {
      debug: (m) => log.debug(m),
      info: (m) => log.debug(m),
      warn: (m) => log.warn(m),
    },
  })
  let member: Member | undefined
  const transport = new Transport({
    rewriteUrl: rewriter(peerUrlRewrites()),
    selfId: id,
    clusterId: clusterIdHex,
    logger: log,
    onMessage: (m) => member?.receive(m),
    onUnreachable: (peer) => node.reportUnreachable(peer),
    onSnapshotSent: () => undefined,
    onPeerActive: () => undefined,
    onRemovedByPeer: (peer) => member?.removedByPeer(peer),
    ...(peerTls ? { tls: peerTls.client } : {}),
    selfPeerUrls: registry.get(id)?.peerUrls ?? opts.initialAdvertisePeerUrls.map((u) => u.origin),
    isRemoved: (peer) => registry.isRemoved(peer),
  })
  const metrics = new Metrics({
    hasLeader: () => member!.leaderId() !== 0,
    leaderChanges: () => member!.leaderChanges,
    proposalsPending: () => 0,
    watchers: () => member!.watchHub.watcherCount,
    appliedIndex: () => member!.appliedIndex(),
    committedIndex: () => member!.committedIndex(),
    revision: () => member!.mvcc.currentRevision(),
    dbSizeBytes: () => member!.dbSize().total,
    dbSizeInUseBytes: () => member!.dbSize().inUse,
    quotaBackendBytes: () => opts.quotaBackendBytes,
    peersConnected: () => member!.registry.list().filter((m) => m.id !== id && transport.isConnected(m.id)).length,
    peerRoundTrips: () => transport.roundTrips(),
  })
  // The keyspace's size as --quota-backend-bytes counts it (see space-usage.ts and quota.ts).
  const space = new SpaceUsage(mvcc, (e) => log.error({ err: e }, 'counting the keyspace size failed'))
  const quota = new BackendQuota({
    quotaBytes: opts.quotaBackendBytes,
    usedBytes: () => space.bytes(),
    alarms: () => mvcc.alarmList('NOSPACE'),
    raiseAlarm: () => member!.propose({ alarm: { action: 'ACTIVATE', memberId: id, alarm: 'NOSPACE' } }),
    logger: log,
  })
  const failpoints = activeFailpoints()
  if (failpoints.size > 0) log.warn({ failpoints: [...failpoints] }, 'TEST FAILPOINTS ARE ACTIVE: this member is deliberately broken')
  let resolveDone!: () => void
  const done = new Promise<void>((r) => (resolveDone = r))
  member = new Member({
    id,
    clusterId: identity.clusterId,
    name: opts.name,
    db,
    logStore,
    mvcc,
    registry,
    node,
    transport,
    logger: log,
    heartbeatIntervalMs: opts.heartbeatIntervalMs,
    electionTimeoutMs: opts.electionTimeoutMs,
    snapshotCount: opts.snapshotCount,
    clientUrls: opts.advertiseClientUrls.map((u) => u.origin),
    sendSnapshot: (to, snap) => {
      const peer = registry.get(to)
      const url = peer?.peerUrls[0]
      if (!url) return Promise.resolve(false)
      return sendSnapshot(rewriter(peerUrlRewrites())(url), snapshotHeaders(id, clusterIdHex, to), snap, 10 * 60_000, peerTls?.client)
    },
    onRemoved: () => resolveDone(),
    failpoints,
    dbSize: () => {
      const prop = (name: string) => Number((db.handle as { getProperty(p: string): string }).getProperty(name)) || 0
      const memtables = prop('rocksdb.cur-size-all-mem-tables')
      return { total: prop('rocksdb.total-sst-files-size') + memtables, inUse: space.bytes() }
    },
    admit: (request) => quota.admit(request),
    observeFsyncSeconds: (s) => metrics.fsyncSeconds.observe(s),
    observeApplySeconds: (s, n) => {
      metrics.applySeconds.observe(s)
      metrics.proposalsCommitted.inc(n)
    },
  })
  const receiver = new SnapshotReceiver({
    spoolDir: join(opts.dataDir, 'snap-incoming'),
    logger: log,
    refusal: (req) => transport.refusal(req),
    onSnapshot: (m, members, open, cleanup) => member!.receiveSnapshot(m, members, open, cleanup),
  })
  for (const m of registry.list()) if (m.id !== id) transport.addPeer(m.id, m.peerUrls)

  const peerServers: Server[] = []
  const clientServers: Server[] = []
  const stop = async () => {
    for (const s of [...clientServers, ...peerServers]) {
      s.closeAllConnections?.()
      s.close()
    }
    receiver.close()
    space.close()
    await member!.stop()
    await db.close()
  }
  try {
    for (const url of opts.listenPeerUrls) {
      const onRequest = (req: IncomingMessage, res: ServerResponse) => {
        if (req.url === '/members') {
          // How current this list is: a joining member takes the most current of the answers it gets.
          const applied = String(member?.appliedIndex() ?? 0)
          res.writeHead(200, { 'content-type': 'application/json', 'x-cairn-cluster-id': clusterIdHex, [APPLIED_INDEX_HEADER]: applied })
          res.end(JSON.stringify(registry.list()))
          return
        }
        res.writeHead(404).end()
      }
      const server = url.protocol === 'https:' && peerTls ? peerHttpsServer(peerTls, onRequest, log) : createServer(onRequest)
      server.on('upgrade', (req, socket, head) => {
        // The server no longer watches an upgraded socket: a reset (a refused peer that stops at once
        // closes hard) would otherwise be an unhandled 'error' event, which ends the process.
        socket.on('error', () => socket.destroy())
        if (!transport.handleUpgrade(req, socket, head) && !receiver.handleUpgrade(req, socket, head)) socket.destroy()
      })
      peerServers.push(server)
      await listen(server, url)
    }
    for (const url of opts.listenClientUrls) {
      const limits = {
        connectionsMax: opts.maxClientConnections,
        watchesPerStreamMax: opts.maxWatchesPerConnection,
        requestTimeoutMs: opts.clientRequestTimeoutMs,
        pingIntervalMs: opts.clientPingIntervalMs,
      }
      const server = createClientServer({
        member,
        logger: log,
        maxRequestBytes: opts.maxRequestBytes,
        metrics,
        limits,
        fetch: fetchClient,
        forward: forwardClient,
        auth: { tokenTtlMs: opts.authTokenTtlMs, bcryptCost: opts.bcryptCost },
        ...(url.protocol === 'https:' && clientTls ? { tls: clientTls.server } : {}),
      })
      clientServers.push(server)
      await listen(server, url)
    }
  } catch (e) {
    await stop()
    throw e
  }
  warnUnusedTls(opts, clientTls, peerTls, log)
  member.start()
  member.publish()
  log.info(
    {
      clientUrls: opts.listenClientUrls.map((u) => u.origin),
      peerUrls: opts.listenPeerUrls.map((u) => u.origin),
      dataDir: opts.dataDir,
      cluster: clusterIdHex,
    },
    'member started',
  )
  return { member, clientServers, peerServers, stop, done }
}

/**
 * The peer listener over TLS. A peer whose certificate does not verify (unknown CA, none presented
 * under --peer-client-cert-auth, or the wrong common name under --peer-cert-allowed-cn) is cut off
 * before it can say anything, with one log line naming its address and the reason.
 */
function peerHttpsServer(tls: LoadedTls, onRequest: (req: IncomingMessage, res: ServerResponse) => void, log: Logger): Server {
  const server = createHttpsServer(tls.server, onRequest)
  guardTlsListener(server, log, 'peer')
  server.on('secureConnection', (socket: TLSSocket) => {
    const refusal = peerCertRefusal(socket, tls)
    if (refusal === undefined) return
    log.warn({ remote: remoteOf(socket), reason: refusal }, 'refused peer connection')
    socket.destroy()
  })
  return server
}

/** As etcd: certificate files given for a face whose URLs are all plain http are ignored, with a warning. */
function warnUnusedTls(opts: ServeOptions, clientTls: LoadedTls | undefined, peerTls: LoadedTls | undefined, log: Logger): void {
  if (clientTls && !opts.listenClientUrls.some((u) => u.protocol === 'https:')) {
    log.warn('--cert-file and --key-file are set but no --listen-client-urls is https: the client listener is plain http')
  }
  if (peerTls && !opts.listenPeerUrls.some((u) => u.protocol === 'https:')) {
    log.warn('--peer-cert-file and --peer-key-file are set but no --listen-peer-urls is https: the peer listener is plain http')
  }
}
