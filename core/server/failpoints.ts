// Test-only failpoints: deliberate bugs that prove the fault tests can fail. They are off unless the
// CAIRN_FAILPOINTS environment variable names them (comma-separated); never set it in production.
//
//   stale-reads        linearizable reads are served locally, without a ReadIndex round
//   ack-before-fsync   a member sends its acknowledgements first and writes its log a moment later,
//                      so a kill -9 in between loses entries it acknowledged
//
// CAIRN_TEST_PEER_URLS (JSON object, peer URL → URL) rewrites the peer URLs this member dials, so a
// test can route each link through its own fault-injecting proxy.

export type Failpoint = 'stale-reads' | 'ack-before-fsync'

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
