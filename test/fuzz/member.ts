// One real member in this process (RocksDB in a temporary dir, real client and peer listeners), for
// tests that hammer the HTTP front door: no child process to start, and requests stay fast.

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { parseServeOptions } from '../../core/server/options.ts'
import type { RawServeFlags } from '../../core/server/options.ts'
import { startMember } from '../../core/server/start.ts'
import type { RunningMember } from '../../core/server/start.ts'
import { freePort } from '../cluster/harness.ts'

export interface InProcessMember {
  url: string
  running: RunningMember
  stop(): Promise<void>
}

export async function startInProcess(flags: RawServeFlags = {}): Promise<InProcessMember> {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-fuzz-'))
  const [client, peer] = [await freePort(), await freePort()]
  const opts = parseServeOptions({
    name: 'fuzz',
    dataDir: join(dir, 'data'),
    listenClientUrls: `http://127.0.0.1:${client}`,
    listenPeerUrls: `http://127.0.0.1:${peer}`,
    heartbeatInterval: '50',
    electionTimeout: '500',
    ...flags,
  })
  const running = await startMember(opts, pino({ level: 'silent' }))
  const url = `http://127.0.0.1:${client}`
  const deadline = Date.now() + 15_000
  for (;;) {
    const ok = await fetch(`${url}/health`).then((r) => r.status === 200).catch(() => false)
    if (ok) break
    if (Date.now() > deadline) throw new Error('in-process member not healthy')
    await new Promise((r) => setTimeout(r, 20))
  }
  return {
    url,
    running,
    stop: async () => {
      await running.stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
