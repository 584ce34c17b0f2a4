// The path of an HTTP request target. `new URL(target, base)` throws for targets such as "//" or
// "//[x" (they read as a host, not a path), and a throw inside a request or upgrade listener is an
// uncaught exception that ends the process: one `curl --path-as-is http://member//` used to stop a
// member. Every listener reads its path through here instead.

/** The request target parsed against `base`, or undefined if it is not a valid URL. */
export function parseRequestUrl(target: string | undefined, base = 'http://request'): URL | undefined {
  try {
    return new URL(target ?? '/', base)
  } catch {
    return undefined
  }
}

/** The target's path (normalised as URL does); the raw text before "?" when it does not parse. */
export function requestPath(target: string | undefined): string {
  const url = parseRequestUrl(target)
  if (url) return url.pathname
  const raw = target ?? '/'
  const q = raw.indexOf('?')
  return q === -1 ? raw : raw.slice(0, q)
}
