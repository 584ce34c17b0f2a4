// Test-only failpoints: deliberate bugs that prove the fault tests can fail. They are off unless the
// CAIRN_FAILPOINTS environment variable names them (comma-separated); never set it in production.
//
//   stale-reads        linearizable reads are served locally, without a ReadIndex round
//   ack-before-fsync   a follower sends its acknowledgements first and writes its log
//                      ACK_BEFORE_FSYNC_DELAY_MS later, so an entry can commit (and be answered) while
//                      only the leader has it on disk: a kill -9 of every member in that window, then
//                      an election the old leader does not take part in, loses it
//
// CAIRN_TEST_PEER_URLS (JSON object, peer URL → URL) rewrites the peer URLs this member dials, so a
// test can route each link through its own fault-injecting proxy.

export type Failpoint = 'stale-reads' | 'ack-before-fsync'

/** How long a follower under ack-before-fsync holds a write it has already acknowledged. */
export const ACK_BEFORE_FSYNC_DELAY_MS = 300

const KNOWN: readonly Failpoint[] = ['stale-reads', 'ack-before-fsync']

export function activeFailpoints(env: NodeJS.ProcessEnv = process.env): Set<Failpoint> {
  const raw = env.CAIRN_FAILPOINTS ?? ''
  const out = new Set<Failpoint>()
  for (const name of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(KNOWN as readonly string[]).includes(name)) throw new Error(`unknown failpoint ${name} in CAIRN_FAILPOINTS`)
    out.add(name as Failpoint)
  }
  return out
}

export function peerUrlRewrites(env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const raw = env.CAIRN_TEST_PEER_URLS
  if (!raw) return new Map()
  const parsed = JSON.parse(raw) as Record<string, unknown>
  const out = new Map<string, string>()
  for (const [from, to] of Object.entries(parsed)) if (typeof to === 'string') out.set(new URL(from).origin, new URL(to).origin)
  return out
}
