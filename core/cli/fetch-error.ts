// Turns fetch's generic "fetch failed" into what went wrong, as etcdctl says it.
export function describeFetchError(endpoint: string, e: unknown): string {
  const err = e as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } }
  const host = endpoint.replace(/^https?:\/\//, '')
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'context deadline exceeded'
  // The global fetch wraps the socket's error as `cause`; https requests (fetchWithTls) throw it as is.
  const code = err.cause?.code ?? err.code
  if (code === 'ECONNREFUSED') return `dial tcp ${host}: connect: connection refused`
  if (code === 'ENOTFOUND') return `dial tcp: lookup ${host}: no such host`
  if (code === 'ECONNRESET') return `read tcp ${host}: connection reset by peer`
  return `${endpoint}: ${err.cause?.message ?? err.message ?? String(e)}`
}
