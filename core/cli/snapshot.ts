// `cairn snapshot save|status|restore`: backups of a live cluster, and new clusters built from them.

import { createWriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { authHeadersOf } from './ctl/context.ts'
import { describeFetchError } from './fetch-error.ts'
import { fetchOf } from './ctl/context.ts'
import type { Fetch } from '../tls/fetch.ts'
import { Command, Option } from 'commander'
import { CairnError } from '../errors.ts'
import { ConfigError, parseServeOptions } from '../server/options.ts'
import { restoreSnapshotFile, verifySnapshotFile } from '../server/snapshot-file.ts'
import type { SnapshotFileStatus } from '../server/snapshot-file.ts'
import { bootstrap } from '../server/start.ts'

function fail(message: string): never {
  process.stderr.write(`Error: ${message}\n`)
  process.exit(1)
}

function endpointsOf(cmd: Command): string[] {
  const opts = cmd.optsWithGlobals() as { endpoints?: string }
  const list = opts.endpoints ?? process.env.CAIRN_ENDPOINTS ?? 'http://127.0.0.1:2379'
  return list.split(',').map((s) => s.trim()).filter(Boolean)
}

function progress(bytes: number, started: number, what = 'saved'): void {
  if (!process.stderr.isTTY) return
  const mb = bytes / (1024 * 1024)
  const rate = mb / Math.max(0.001, (Date.now() - started) / 1000)
  process.stderr.write(`\r${mb.toFixed(1)} MiB ${what} (${rate.toFixed(1)} MiB/s)   `)
}

async function save(file: string, endpoints: string[], get: Fetch, headers: Record<string, string>): Promise<void> {
  const partial = `${file}.part`
  let lastError = 'no endpoint'
  for (const endpoint of endpoints) {
    let res: Response
    try {
      res = await get(`${endpoint}/v3/maintenance/snapshot`, { headers, signal: AbortSignal.timeout(10_000) })
    } catch (e) {
      lastError = describeFetchError(endpoint, e)
      continue
    }
    if (res.status !== 200 || !res.body) {
      lastError = `${endpoint}: HTTP ${res.status} ${await res.text()}`
      continue
    }
    const out = createWriteStream(partial)
    const started = Date.now()
    let bytes = 0
    try {
      for await (const chunk of res.body) {
        bytes += (chunk as Uint8Array).byteLength
        if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()))
        progress(bytes, started)
      }
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())))
    } catch (e) {
      out.destroy()
      await rm(partial, { force: true })
      lastError = `${endpoint}: ${(e as Error).message}`
      continue
    }
    if (process.stderr.isTTY) process.stderr.write('\n')
    // Verify before keeping it: a truncated download must never look like a backup.
    const status = await verifySnapshotFile(partial).catch(async (e: unknown) => {
      await rm(partial, { force: true })
      throw e
    })
    await rename(partial, file)
    process.stdout.write(`Snapshot saved at ${file} (revision ${status.revision}, ${status.keys} keys, ${status.bytes} bytes)\n`)
    return
  }
  fail(lastError)
}

function printStatus(s: SnapshotFileStatus, format: string): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ hash: s.sha256, revision: s.revision, totalKey: s.keys, totalSize: s.bytes, leases: s.leases })}\n`)
  } else if (format === 'table') {
    const row = [s.sha256.slice(0, 8), String(s.revision), String(s.keys), `${s.bytes} B`]
    const head = ['HASH', 'REVISION', 'TOTAL KEYS', 'TOTAL SIZE']
    const widths = head.map((h, i) => Math.max(h.length, row[i]!.length))
    const line = `+${widths.map((w) => '-'.repeat(w + 2)).join('+')}+`
    const fmt = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`
    process.stdout.write([line, fmt(head), line, fmt(row), line].join('\n') + '\n')
  } else {
    process.stdout.write(`${s.sha256.slice(0, 8)}, ${s.revision}, ${s.keys}, ${s.bytes} B\n`)
  }
}

export function snapshotCommand(): Command {
  const cmd = new Command('snapshot').description('save, inspect and restore backups')
  cmd
    .command('save <file>')
    .description('stream a consistent snapshot from a live member into FILE (writes continue meanwhile)')
    .option('--endpoints <urls>', 'client URLs to try, comma-separated (default CAIRN_ENDPOINTS or http://127.0.0.1:2379)')
    .action(async (file: string, _opts: unknown, self: Command) => {
      await save(file, endpointsOf(self), fetchOf(self.optsWithGlobals()), authHeadersOf(self)).catch((e: unknown) => fail((e as Error).message))
    })
  cmd
    .command('status <file>')
    .description('verify FILE and print its hash, revision, key count and size')
    .addOption(new Option('-w, --write-out <format>', 'output format').choices(['simple', 'json', 'table']).default('simple'))
    .action(async (file: string, opts: { writeOut: string }) => {
      try {
        printStatus(await verifySnapshotFile(file), opts.writeOut)
      } catch (e) {
        fail(e instanceof CairnError && e.detail ? e.detail : (e as Error).message)
      }
    })
  cmd
    .command('restore <file>')
    .description('build a fresh data dir for a new cluster from FILE, keeping every key, lease and revision')
    .requiredOption('--data-dir <dir>', 'fresh directory to create')
    .option('--name <name>', 'this member name', 'default')
    .option('--initial-cluster <list>', 'the new cluster, name=peer-url,…')
    .option('--initial-cluster-token <token>', 'token of the new cluster', 'cairn-cluster')
    .option('--initial-advertise-peer-urls <urls>', "this member's peer URLs", 'http://127.0.0.1:2380')
    .action(async (file: string, o: Record<string, string>) => {
      try {
        const serve = parseServeOptions({
          name: o.name!,
          dataDir: o.dataDir!,
          initialClusterToken: o.initialClusterToken!,
          initialAdvertisePeerUrls: o.initialAdvertisePeerUrls!,
          listenPeerUrls: o.initialAdvertisePeerUrls!,
          ...(o.initialCluster ? { initialCluster: o.initialCluster } : {}),
        })
        const started = Date.now()
        const status = await restoreSnapshotFile({
          file,
          serve,
          onProgress: (bytes) => progress(bytes, started, 'restored'),
          bootstrap: (db, logStore, registry) => bootstrap(serve, db, logStore, registry),
        })
        if (process.stderr.isTTY) process.stderr.write('\n')
        process.stdout.write(`restored snapshot (revision ${status.revision}, ${status.keys} keys) into ${serve.dataDir}\n`)
      } catch (e) {
        if (e instanceof ConfigError) fail(e.message)
        fail(e instanceof CairnError && e.detail ? e.detail : (e as Error).message)
      }
    })
  return cmd
}


