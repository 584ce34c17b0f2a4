// `cairn move-leader ID`: hands leadership to another voter (etcdctl move-leader).

import { Command } from 'commander'
import { authHeadersOf } from './ctl/context.ts'
import { describeFetchError } from './fetch-error.ts'
import { fetchOf } from './ctl/context.ts'

export function moveLeaderCommand(): Command {
  return new Command('move-leader')
    .description('transfer leadership to the member with ID (hex, as member list prints it)')
    .argument('<id>', 'target member ID in hex')
    .action(async (idHex: string, _opts: unknown, self: Command) => {
      const opts = self.optsWithGlobals() as { endpoints?: string; cacert?: string; cert?: string; key?: string }
      const post = fetchOf(opts)
      if (!/^[0-9a-fA-F]{1,16}$/.test(idHex)) {
        process.stderr.write(`Error: bad member ID arg (strconv.ParseUint: parsing ${JSON.stringify(idHex)}: invalid syntax), expecting ID in Hex\n`)
        process.exit(1)
      }
      const target = BigInt(`0x${idHex}`).toString()
      const endpoints = (opts.endpoints ?? process.env.CAIRN_ENDPOINTS ?? 'http://127.0.0.1:2379').split(',').map((s) => s.trim())
      let last = 'no endpoint'
      for (const endpoint of endpoints) {
        try {
          const res = await post(`${endpoint}/v3/maintenance/transfer-leadership`, {
            method: 'POST',
            body: JSON.stringify({ targetID: target }),
            headers: authHeadersOf(self),
            signal: AbortSignal.timeout(15_000),
          })
          const body = (await res.json()) as { message?: string }
          if (res.status === 200) {
            process.stdout.write(`Leadership transferred to ${idHex}\n`)
            return
          }
          last = body.message ?? `HTTP ${res.status}`
          break
        } catch (e) {
          last = describeFetchError(endpoint, e)
        }
      }
      process.stderr.write(`Error: ${last}\n`)
      process.exit(1)
    })
}
