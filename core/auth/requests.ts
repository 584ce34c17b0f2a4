// Auth requests applied through the Raft log (one field set, like etcd's InternalRaftRequest), and
// their answers. Passwords never travel: the proposing member hashes them before proposing, so apply
// is deterministic and fast. Reads (get, list, status, authenticate) are served from local state.

import type { Permission, PermissionType } from './types.ts'

export type AuthRequest =
  | { authEnable: { tokenSecret: string } }
  | { authDisable: Record<string, never> }
  | { userAdd: { name: string; passwordHash: string; noPassword: boolean } }
  | { userDelete: { name: string } }
  | { userChangePassword: { name: string; passwordHash: string } }
  | { userGrantRole: { user: string; role: string } }
  | { userRevokeRole: { name: string; role: string } }
  | { roleAdd: { name: string } }
  | { roleDelete: { role: string } }
  | { roleGrantPermission: { name: string; perm: Permission } }
  | { roleRevokePermission: { role: string; key: Uint8Array; rangeEnd?: Uint8Array } }

export interface AuthResponse {
  /** The auth revision after the change. */
  authRevision: number
}

export type { Permission, PermissionType }
