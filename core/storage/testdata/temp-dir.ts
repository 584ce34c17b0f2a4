// Temporary directories for tests that use a real RocksDB, removed when the test is done.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function makeTempDir(purpose: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `cairn-${purpose}-`))
}

export async function removeTempDir(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true })
}
