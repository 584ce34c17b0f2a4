// `cairn discovery new --size N`: turns a running cluster into a discovery service for a new one.

import { describeFetchError } from './fetch-error.ts'
import { fetchOf } from './ctl/context.ts'
import { Command } from 'commander'

export function discoveryCommand(): Command {
  const cmd = new Command('discovery').description('bootstrap new clusters through a discovery URL')
  cmd
    .command('new')
    .description('create a discovery URL on a running cluster; start the new members with --discovery URL')
    .option('--size <n>', 'number of members of the new cluster', '3')
    .option('--endpoints <urls>', 'client URLs of the cluster serving discovery (default CAIRN_ENDPOINTS or http://127.0.0.1:2379)')
    .action(async (_opts: unknown, self: Command) => {
      const opts = self.optsWithGlobals() as { size: string; endpoints?: string; cacert?: string; cert?: string; key?: string }
      const get = fetchOf(opts)
      const endpoints = (opts.endpoints ?? process.env.CAIRN_ENDPOINTS ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim())
      let last = 'no endpoint'
      for (const endpoint of endpoints) {
        try {
          const res = await get(`${endpoint}/new?size=${encodeURIComponent(opts.size)}`, { signal: AbortSignal.timeout(10_000) })
          const text = (await res.text()).trim()
          if (res.status === 200) {
            process.stdout.write(`${text}\n`)
            return
          }
          last = text || `HTTP ${res.status}`
          if (res.status === 400) break
        } catch (e) {
          last = describeFetchError(endpoint, e)
        }
      }
      process.stderr.write(`Error: ${last}\n`)
      process.exit(1)
    })
  return cmd
}
