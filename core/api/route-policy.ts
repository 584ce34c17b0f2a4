// How every client path is guarded once auth is enabled, in one table so that a new route cannot be
// forgotten: a path not listed here needs the root role (fail closed), and a test walks the route
// table asserting that everything not deliberately public refuses an unauthenticated request.
//
//   public         no credentials needed (health probes, version, metrics, status, member list, authenticate)
//   authenticated  any valid user; the handler checks finer permissions (keys, own user, own roles)
//   root           the root role (cluster, maintenance and auth administration)

export type RouteAccess = 'public' | 'authenticated' | 'root'

export const routePolicy: Readonly<Record<string, RouteAccess>> = {
  '/health': 'public',
  '/readyz': 'public',
  '/livez': 'public',
  '/version': 'public',
  '/metrics': 'public',
  '/v3/auth/authenticate': 'public',
  // As in etcd, a member's status and the member list need no credentials (endpoint status, health
  // checkers and clients discovering endpoints use them); they reveal no keys.
  '/v3/maintenance/status': 'public',
  '/v3/cluster/member/list': 'public',

  '/v3/kv/range': 'authenticated',
  '/v3/kv/put': 'authenticated',
  '/v3/kv/deleterange': 'authenticated',
  '/v3/kv/txn': 'authenticated',
  '/v3/watch': 'authenticated',
  '/v3/lease/grant': 'authenticated',
  '/v3/lease/revoke': 'authenticated',
  '/v3/kv/lease/revoke': 'authenticated',
  '/v3/lease/keepalive': 'authenticated',
  '/v3/lease/timetolive': 'authenticated',
  '/v3/kv/lease/timetolive': 'authenticated',
  '/v3/lease/leases': 'authenticated',
  '/v3/kv/lease/leases': 'authenticated',
  '/v3/auth/status': 'authenticated',
  '/v3/auth/user/get': 'authenticated',
  '/v3/auth/role/get': 'authenticated',

  // Root only (as any path not listed), named here because they change or reveal cluster-wide state:
  // alarms (disarming NOSPACE lets writes through again), defragment, and the rest of maintenance.
  '/v3/maintenance/alarm': 'root',
  '/v3/maintenance/defragment': 'root',
  '/v3/maintenance/snapshot': 'root',
  '/v3/maintenance/transfer-leadership': 'root',
  '/v3/kv/compaction': 'root',
}

/** Paths served outside the v3 route table (checked by the route-table test as well). */
export const extraGuardedPaths = ['/v3/maintenance/snapshot', '/v3/watch', '/new'] as const

export function policyOf(path: string): RouteAccess {
  return routePolicy[path] ?? 'root'
}

/** The publicly reachable paths, listed explicitly. */
export function publicPaths(): string[] {
  return Object.entries(routePolicy)
    .filter(([, access]) => access === 'public')
    .map(([path]) => path)
}
