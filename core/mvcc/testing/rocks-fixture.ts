// Test helper: a real RocksDB in a fresh temporary directory.

import { mkdtempSync, rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RocksDbHandle } from '../rocks-backend.ts'

export interface OpenableRocks extends RocksDbHandle {
  open(): Promise<void>
  close(): Promise<void>
}

const require = createRequire(import.meta.url)
const { RocksLevel } = require('@nxtedition/rocksdb') as { RocksLevel: new (location: string) => OpenableRocks }

export function makeTempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `cairn-mvcc-${label}-`))
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

export async function openRocks(dir: string): Promise<OpenableRocks> {
  const db = new RocksLevel(dir)
  await db.open()
  return db
}
