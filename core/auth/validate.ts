// Shape checks for auth requests: they come from the log (disk, peers), so apply checks them again.

import { InvalidArgumentError } from '../errors.ts'
import type { AuthRequest } from './requests.ts'
import { permissionTypes } from './types.ts'

/** Longest user or role name accepted. */
export const authNameBytesMax = 256

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array
}

function str(o: Record<string, unknown>, name: string): void {
  const v = o[name]
  if (typeof v !== 'string') throw new InvalidArgumentError(`${name}: expected a string`)
  if (v.length > authNameBytesMax) throw new InvalidArgumentError(`${name}: longer than ${authNameBytesMax} characters`)
}

function obj(v: unknown, name: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw new InvalidArgumentError(`${name}: expected an object`)
  return v as Record<string, unknown>
}

/** Throws InvalidArgumentError unless `request` is a well-formed AuthRequest. */
export function validateAuthRequest(request: unknown): asserts request is AuthRequest {
  const r = obj(request, 'auth request')
  const fields = Object.keys(r)
  if (fields.length !== 1) throw new InvalidArgumentError('auth request must set exactly one field')
  const kind = fields[0]!
  const body = obj(r[kind], kind)
  switch (kind) {
    case 'authEnable':
      return str(body, 'tokenSecret')
    case 'authDisable':
      return
    case 'userAdd':
      str(body, 'name')
      if (typeof body.passwordHash !== 'string' || typeof body.noPassword !== 'boolean') throw new InvalidArgumentError('userAdd: bad fields')
      return
    case 'userDelete':
      return str(body, 'name')
    case 'userChangePassword':
      str(body, 'name')
      return str(body, 'passwordHash')
    case 'userGrantRole':
      str(body, 'user')
      return str(body, 'role')
    case 'userRevokeRole':
      str(body, 'name')
      return str(body, 'role')
    case 'roleAdd':
      return str(body, 'name')
    case 'roleDelete':
      return str(body, 'role')
    case 'roleGrantPermission': {
      str(body, 'name')
      const perm = obj(body.perm, 'perm')
      if (!(permissionTypes as readonly unknown[]).includes(perm.permType)) throw new InvalidArgumentError('perm: bad permType')
      if (!isBytes(perm.key) || (perm.rangeEnd !== undefined && !isBytes(perm.rangeEnd))) throw new InvalidArgumentError('perm: bad key')
      return
    }
    case 'roleRevokePermission':
      str(body, 'role')
      if (!isBytes(body.key) || (body.rangeEnd !== undefined && !isBytes(body.rangeEnd))) throw new InvalidArgumentError('roleRevokePermission: bad key')
      return
    default:
      throw new InvalidArgumentError(`unknown auth request ${kind}`)
  }
}
