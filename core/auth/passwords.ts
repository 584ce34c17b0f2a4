// Password hashing and checking with bcrypt (bcryptjs: pure JS, async so the event loop keeps
// serving). Hashes are made on the proposing member before a change is proposed, so applying it on
// every member is fast and deterministic. Checking a password costs a bcrypt round (tens of ms at
// cost 10), so answers for basic auth are cached by a digest of (user, hash, password).

import { createHash } from 'node:crypto'
import bcrypt from 'bcryptjs'

/** etcd's --bcrypt-cost default. */
export const bcryptCostDefault = 10
const checkCacheEntriesMax = 1024

export function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost)
}

export class PasswordChecker {
  private readonly good = new Set<string>()

  async check(user: string, passwordHash: string, password: string): Promise<boolean> {
    if (passwordHash === '') return false
    const digest = createHash('sha256').update(user).update('\0').update(passwordHash).update('\0').update(password).digest('base64')
    if (this.good.has(digest)) return true
    const ok = await bcrypt.compare(password, passwordHash)
    if (ok) {
      if (this.good.size >= checkCacheEntriesMax) this.good.clear()
      this.good.add(digest)
    }
    return ok
  }
}
