// The member's configuration: etcd's flag names, validated into one typed object. Every problem is
// reported as a ConfigError with one plain line, which the CLI prints before exiting non-zero.

export class ConfigError extends Error {
  override name = 'ConfigError'
}

export interface ServeOptions {
  name: string
  dataDir: string
  listenClientUrls: URL[]
  advertiseClientUrls: URL[]
  listenPeerUrls: URL[]
  initialAdvertisePeerUrls: URL[]
  /** name → peer URLs */
  initialCluster: Map<string, URL[]>
  initialClusterState: 'new' | 'existing'
  initialClusterToken: string
  discovery: string | undefined
  heartbeatIntervalMs: number
  electionTimeoutMs: number
  snapshotCount: number
  /** Keep this much history; 0 disables automatic compaction. */
  autoCompactionRetentionMs: number
  quotaBackendBytes: number
  maxRequestBytes: number
  maxTxnOps: number
  /** Open client connections beyond this are answered 503 and closed. */
  maxClientConnections: number
  /** Watches one watch stream (WebSocket or POST) may hold. */
  maxWatchesPerConnection: number
  /** Time a client has to send a whole request (headers and body); answers stream for as long as needed. */
  clientRequestTimeoutMs: number
  /** WebSocket ping interval; a socket that has not answered the previous ping by the next is closed. */
  clientPingIntervalMs: number
  /** How long an auth token lives (etcd's --auth-token-ttl, seconds). */
  authTokenTtlMs: number
  /** bcrypt cost of password hashes (etcd's --bcrypt-cost, 4-31). */
  bcryptCost: number
  logLevel: string
  /** TLS of the client listener (and of forwarding to the leader's client URL). */
  clientTls: TlsFlags
  /** TLS of the peer listener and of dialling peers (Raft links, snapshots, joining). */
  peerTls: TlsFlags
}

/** TLS flags of one face, as given (file paths; read and checked at start, see tls-config.ts). */
export interface TlsFlags {
  certFile: string | undefined
  keyFile: string | undefined
  trustedCaFile: string | undefined
  clientCertAuth: boolean
  /** Peer face only: the common name every peer certificate must carry. */
  allowedCn: string | undefined
}

export type RawServeFlags = Partial<Record<keyof typeof SERVE_FLAG_DEFAULTS, string>>

export const SERVE_FLAG_DEFAULTS = {
  name: 'default',
  dataDir: './data',
  listenClientUrls: 'http://127.0.0.1:2379',
  advertiseClientUrls: '',
  listenPeerUrls: 'http://127.0.0.1:2380',
  initialAdvertisePeerUrls: '',
  initialCluster: '',
  initialClusterState: 'new',
  initialClusterToken: 'cairn-cluster',
  discovery: '',
  heartbeatInterval: '100',
  electionTimeout: '1000',
  snapshotCount: '10000',
  autoCompactionRetention: '0',
  quotaBackendBytes: String(2 * 1024 * 1024 * 1024),
  maxRequestBytes: String(1.5 * 1024 * 1024),
  maxTxnOps: '128',
  maxClientConnections: '4096',
  maxWatchesPerConnection: '10000',
  clientRequestTimeout: '30s',
  clientPingInterval: '30s',
  authTokenTtl: '300',
  bcryptCost: '10',
  logLevel: 'info',
  certFile: '',
  keyFile: '',
  trustedCaFile: '',
  clientCertAuth: 'false',
  peerCertFile: '',
  peerKeyFile: '',
  peerTrustedCaFile: '',
  peerClientCertAuth: 'false',
  peerCertAllowedCn: '',
} as const

/** Flags that are switches (`--client-cert-auth` alone means true, as Go's boolean flags). */
export const SERVE_BOOLEAN_FLAGS: ReadonlySet<keyof typeof SERVE_FLAG_DEFAULTS> = new Set(['clientCertAuth', 'peerClientCertAuth'])

export function parseServeOptions(raw: RawServeFlags): ServeOptions {
  const f = { ...SERVE_FLAG_DEFAULTS, ...definedOnly(raw) }
  const name = f.name
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(name)) throw new ConfigError(`--name must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(name)}`)
  const listenClientUrls = parseUrls('--listen-client-urls', f.listenClientUrls)
  const listenPeerUrls = parseUrls('--listen-peer-urls', f.listenPeerUrls)
  const advertiseClientUrls = f.advertiseClientUrls ? parseUrls('--advertise-client-urls', f.advertiseClientUrls) : listenClientUrls
  const initialAdvertisePeerUrls = f.initialAdvertisePeerUrls
    ? parseUrls('--initial-advertise-peer-urls', f.initialAdvertisePeerUrls)
    : listenPeerUrls
  const initialCluster = f.initialCluster
    ? parseInitialCluster(f.initialCluster)
    : new Map([[name, initialAdvertisePeerUrls]])
  if (!f.discovery && !initialCluster.has(name)) {
    throw new ConfigError(`--initial-cluster has no entry for this member's --name ${JSON.stringify(name)}`)
  }
  if (f.initialClusterState !== 'new' && f.initialClusterState !== 'existing') {
    throw new ConfigError(`--initial-cluster-state must be "new" or "existing", got ${JSON.stringify(f.initialClusterState)}`)
  }
  const heartbeatIntervalMs = positiveInt('--heartbeat-interval', f.heartbeatInterval)
  const electionTimeoutMs = positiveInt('--election-timeout', f.electionTimeout)
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
    throw new ConfigError(`--election-timeout (${electionTimeoutMs}) must be at least 5 times --heartbeat-interval (${heartbeatIntervalMs})`)
  }
  if (electionTimeoutMs > 50_000) throw new ConfigError(`--election-timeout must be at most 50000 ms, got ${electionTimeoutMs}`)
  const clientTls = parseTlsFlags('client', f.certFile, f.keyFile, f.trustedCaFile, f.clientCertAuth, '')
  const peerTls = parseTlsFlags('peer', f.peerCertFile, f.peerKeyFile, f.peerTrustedCaFile, f.peerClientCertAuth, f.peerCertAllowedCn)
  requireCertForHttps('client', clientTls, [...listenClientUrls, ...advertiseClientUrls])
  requireCertForHttps('peer', peerTls, [...listenPeerUrls, ...initialAdvertisePeerUrls])
  return {
    name,
    dataDir: nonEmpty('--data-dir', f.dataDir),
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: f.initialClusterState,
    initialClusterToken: nonEmpty('--initial-cluster-token', f.initialClusterToken),
    discovery: f.discovery || undefined,
    heartbeatIntervalMs,
    electionTimeoutMs,
    snapshotCount: positiveInt('--snapshot-count', f.snapshotCount),
    autoCompactionRetentionMs: parseRetention(f.autoCompactionRetention),
    quotaBackendBytes: parseQuota(f.quotaBackendBytes),
    maxRequestBytes: positiveInt('--max-request-bytes', f.maxRequestBytes),
    maxTxnOps: positiveInt('--max-txn-ops', f.maxTxnOps),
    maxClientConnections: positiveInt('--max-client-connections', f.maxClientConnections),
    maxWatchesPerConnection: positiveInt('--max-watches-per-connection', f.maxWatchesPerConnection),
    clientRequestTimeoutMs: positiveDuration('--client-request-timeout', f.clientRequestTimeout),
    clientPingIntervalMs: positiveDuration('--client-ping-interval', f.clientPingInterval),
    authTokenTtlMs: positiveInt('--auth-token-ttl', f.authTokenTtl) * 1000,
    bcryptCost: bcryptCostOf(f.bcryptCost),
    logLevel: f.logLevel,
    clientTls,
    peerTls,
  }
}

function parseTlsFlags(face: 'client' | 'peer', cert: string, key: string, ca: string, auth: string, allowedCn: string): TlsFlags {
  const p = face === 'peer' ? '--peer-' : '--'
  if (cert !== '' && key === '') throw new ConfigError(`${p}cert-file is set but ${p}key-file is not`)
  if (key !== '' && cert === '') throw new ConfigError(`${p}key-file is set but ${p}cert-file is not`)
  const clientCertAuth = parseBool(`${p}client-cert-auth`, auth)
  if (clientCertAuth && cert === '') throw new ConfigError(`${p}client-cert-auth needs ${p}cert-file and ${p}key-file`)
  if (clientCertAuth && ca === '') throw new ConfigError(`${p}client-cert-auth needs ${p}trusted-ca-file to verify client certificates`)
  if (allowedCn !== '' && !clientCertAuth) throw new ConfigError('--peer-cert-allowed-cn needs --peer-client-cert-auth (peers must present a certificate)')
  return {
    certFile: cert || undefined,
    keyFile: key || undefined,
    trustedCaFile: ca || undefined,
    clientCertAuth,
    allowedCn: allowedCn || undefined,
  }
}

function requireCertForHttps(face: 'client' | 'peer', tls: TlsFlags, urls: URL[]): void {
  const https = urls.find((u) => u.protocol === 'https:')
  if (https && tls.certFile === undefined) {
    const p = face === 'peer' ? '--peer-' : '--'
    throw new ConfigError(`TLS key/cert (${p}cert-file, ${p}key-file) must be provided for ${face} url ${https.origin}`)
  }
}

function parseBool(flag: string, v: string): boolean {
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0' || v === '') return false
  throw new ConfigError(`${flag} must be true or false, got ${JSON.stringify(v)}`)
}

function definedOnly(raw: RawServeFlags): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) if (v !== undefined) out[k] = v
  return out
}

/** A Go duration ("30s", "1m") or plain milliseconds, above zero. */
function positiveDuration(flag: string, v: string): number {
  const ms = /^\d+$/.test(v.trim()) ? Number(v.trim()) : parseGoDuration(v.trim())
  if (ms === undefined || !Number.isFinite(ms) || ms < 1) throw new ConfigError(`${flag} must be a duration like 30s, got ${JSON.stringify(v)}`)
  return Math.round(ms)
}

/** etcd's rule: 0 means the default quota (2 GiB). */
function parseQuota(v: string): number {
  if (v.trim() === '0') return Number(SERVE_FLAG_DEFAULTS.quotaBackendBytes)
  return positiveInt('--quota-backend-bytes', v)
}

function nonEmpty(flag: string, v: string): string {
  if (v.trim() === '') throw new ConfigError(`${flag} must not be empty`)
  return v
}

function positiveInt(flag: string, v: string): number {
  if (!/^\d+$/.test(v.trim())) throw new ConfigError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`)
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n <= 0) throw new ConfigError(`${flag} must be a positive integer, got ${JSON.stringify(v)}`)
  return n
}

export function parseUrls(flag: string, list: string): URL[] {
  const parts = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  if (parts.length === 0) throw new ConfigError(`${flag} must list at least one URL`)
  return parts.map((s) => {
    let u: URL
    try {
      u = new URL(s)
    } catch {
      throw new ConfigError(`${flag}: ${JSON.stringify(s)} is not a URL`)
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${flag}: ${s} must use http or https`)
    if (!u.port) throw new ConfigError(`${flag}: ${s} must name a port`)
    if (u.pathname !== '/' || u.search || u.hash) throw new ConfigError(`${flag}: ${s} must not have a path`)
    return u
  })
}

export function parseInitialCluster(s: string): Map<string, URL[]> {
  const out = new Map<string, URL[]>()
  for (const part of s.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=')
    if (eq <= 0) throw new ConfigError(`--initial-cluster: expected name=url, got ${JSON.stringify(part)}`)
    const name = part.slice(0, eq)
    const urls = parseUrls('--initial-cluster', part.slice(eq + 1))
    out.set(name, [...(out.get(name) ?? []), ...urls])
  }
  if (out.size === 0) throw new ConfigError('--initial-cluster must name at least one member')
  return out
}

/** etcd's periodic retention: a plain number means hours; a Go duration ("30m", "1h30m") is accepted too. */
export function parseRetention(s: string): number {
  if (/^\d+$/.test(s)) return Number(s) * 3_600_000
  const ms = parseGoDuration(s)
  if (ms === undefined) throw new ConfigError(`--auto-compaction-retention must be hours or a duration like 30m, got ${JSON.stringify(s)}`)
  return ms
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a Go-style duration ("300ms", "1m30s") into milliseconds; undefined when malformed. */
export function parseGoDuration(s: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let total = 0
  let at = 0
  if (s === '0') return 0
  while (at < s.length) {
    re.lastIndex = at
    const m = re.exec(s)
    if (!m) return undefined
    total += Number(m[1]) * UNIT_MS[m[2]!]!
    at = re.lastIndex
  }
  return at > 0 ? total : undefined
}

function bcryptCostOf(v: string): number {
  const cost = positiveInt('--bcrypt-cost', v)
  if (cost < 4 || cost > 31) throw new ConfigError(`--bcrypt-cost must be from 4 to 31, got ${cost}`)
  return cost
}
