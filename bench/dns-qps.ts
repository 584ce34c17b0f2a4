// Queries per second of the DNS server with many records: an in-process DnsServer on loopback answering
// from an index of --records records (no store round trip is ever on the query path, so the index is
// built directly), driven over UDP with --concurrency queries outstanding until --queries are answered
// or --seconds pass. A mix of exact A lookups, SRV over a group of 10, wildcards and NXDOMAIN.
//
//   npx tsx bench/dns-qps.ts --records 10000 --queries 50000 --concurrency 64

import { createSocket } from 'node:dgram'
import { parseArgs } from 'node:util'
import dnsPacket from 'dns-packet'
import type { RecordType } from 'dns-packet'
import pino from 'pino'
import { DnsServer } from '../agents/dns/server.ts'
import type { AnswerContext } from '../recipes/dns/answer.ts'
import { keyOf } from '../recipes/dns/name.ts'
import { RecordIndex } from '../recipes/dns/record-index.ts'

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '10000' },
    queries: { type: 'string', default: '50000' },
    concurrency: { type: 'string', default: '64' },
    seconds: { type: 'string', default: '20' },
  },
})
const recordsN = Number(values.records)
const queriesN = Number(values.queries)
const concurrency = Number(values.concurrency)
const deadlineMs = Date.now() + Number(values.seconds) * 1000
const groups = Math.max(1, Math.floor(recordsN / 10))

const index = new RecordIndex()
const built = performance.now()
for (let i = 0; i < recordsN; i++) {
  const g = i % groups
  index.put(keyOf(`i${i}.g${g}.svc.skydns.local`), JSON.stringify({ host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 8000 + (i % 100) }), 0, i + 2)
}
index.revision = recordsN + 1
const buildMs = performance.now() - built

const context: AnswerContext = {
  zone: { domain: 'skydns.local.', ttlDefault: 300, ttlMin: 30 },
  index,
  ready: true,
  leaseRemaining: () => undefined,
  forwarding: false,
}
const server = new DnsServer({ address: { host: '127.0.0.1', port: 0 }, context: () => context, forwarder: undefined, logger: pino({ level: 'silent' }) })
const { port } = await server.listen()

function question(n: number): { name: string; type: RecordType } {
  const i = (n * 7919) % recordsN
  switch (n % 4) {
    case 0:
    case 1:
      return { name: `i${i}.g${i % groups}.svc.skydns.local`, type: 'A' }
    case 2:
      return { name: `g${i % groups}.svc.skydns.local`, type: 'SRV' }
    default:
      return n % 8 === 3 ? { name: `*.g${i % groups}.svc.skydns.local`, type: 'A' } : { name: `missing${i}.svc.skydns.local`, type: 'A' }
  }
}

const socket = createSocket('udp4')
const sentAt = new Map<number, number>()
const latenciesUs: number[] = []
let sent = 0
let answered = 0
let nextId = 0
const started = performance.now()

await new Promise<void>((resolve) => {
  const sendOne = () => {
    if (sent >= queriesN || Date.now() > deadlineMs) {
      if (sentAt.size === 0) resolve()
      return
    }
    const id = nextId++ & 0xffff
    sentAt.set(id, performance.now())
    socket.send(dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [question(sent)] }), port, '127.0.0.1')
    sent++
  }
  socket.on('message', (m) => {
    const id = m.readUInt16BE(0)
    const t = sentAt.get(id)
    if (t === undefined) return
    sentAt.delete(id)
    latenciesUs.push((performance.now() - t) * 1000)
    answered++
    sendOne()
  })
  // Lost datagrams would stall a slot: re-arm slots whose query has waited over a second.
  const sweep = setInterval(() => {
    const now = performance.now()
    for (const [id, t] of sentAt) {
      if (now - t > 1000) {
        sentAt.delete(id)
        sendOne()
      }
    }
    if (Date.now() > deadlineMs + 2000) {
      sentAt.clear()
      resolve()
    }
  }, 200)
  sweep.unref()
  for (let i = 0; i < concurrency; i++) sendOne()
})
const elapsedS = (performance.now() - started) / 1000
socket.close()
await server.close()

latenciesUs.sort((a, b) => a - b)
const pct = (p: number) => latenciesUs[Math.min(latenciesUs.length - 1, Math.floor((p / 100) * latenciesUs.length))] ?? 0
console.log(
  JSON.stringify({
    records: recordsN,
    indexBuildMs: Math.round(buildMs),
    queries: answered,
    lost: sent - answered,
    concurrency,
    seconds: Number(elapsedS.toFixed(2)),
    qps: Math.round(answered / elapsedS),
    latencyUs: { p50: Math.round(pct(50)), p99: Math.round(pct(99)), max: Math.round(latenciesUs[latenciesUs.length - 1] ?? 0) },
  }),
)
