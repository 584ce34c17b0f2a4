// Key paths of the v2 keyspace. A v2 key is a slash-separated path, always absolute and clean
// ("/a/b", never "/a//b/" or "/a/./b"); "/" is the root directory, which always exists and can
// never be changed. A path component starting with "_" is hidden: listed or watched from an
// ancestor, it is left out.

export const rootPath = '/'

/** Lexical cleaning with Go's path.Clean rules, on an absolute path: "//a/./b/../c/" → "/a/c". */
export function cleanPath(raw: string): string {
  const parts: string[] = []
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') parts.pop()
    else parts.push(part)
  }
  return '/' + parts.join('/')
}

/** The key path of a request for `/v2/keys<suffix>` (suffix already percent-decoded). */
export function keyPathOf(suffix: string): string {
  return cleanPath(suffix)
}

/**
 * The path Go's ServeMux would redirect to (it answers 301 when a request path is not clean):
 * cleaned, keeping a trailing slash. Equal to the input when no redirect is due.
 */
export function canonicalUrlPath(urlPath: string): string {
  if (urlPath === '') return '/'
  const withSlash = urlPath.startsWith('/') ? urlPath : '/' + urlPath
  const cleaned = cleanPath(withSlash)
  if (withSlash.endsWith('/') && cleaned !== '/') return cleaned + '/'
  return cleaned
}

/** "/a/b/c" → ["/a", "/a/b"]: every ancestor except the root, outermost first. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = []
  let at = path.indexOf('/', 1)
  while (at !== -1) {
    out.push(path.slice(0, at))
    at = path.indexOf('/', at + 1)
  }
  return out
}

export function parentOf(path: string): string {
  const at = path.lastIndexOf('/')
  return at <= 0 ? rootPath : path.slice(0, at)
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

/** Joins a directory and a child name ("/" + "a" → "/a"). */
export function childPath(dir: string, name: string): string {
  return dir === rootPath ? `/${name}` : `${dir}/${name}`
}

/** True when `path` is `dir` itself or lies below it. */
export function isWithin(path: string, dir: string): boolean {
  if (dir === rootPath) return true
  return path === dir || path.startsWith(dir + '/')
}

export function isHiddenName(name: string): boolean {
  return name.startsWith('_')
}

/**
 * True when `keyPath`, seen from `watchPath` (an ancestor of it), passes through a hidden component.
 * A watcher above a hidden key does not see it; a watcher on the hidden key itself does.
 */
export function isHiddenFrom(watchPath: string, keyPath: string): boolean {
  if (keyPath.length <= watchPath.length) return false
  const below = watchPath === rootPath ? keyPath : keyPath.slice(watchPath.length)
  return below.split('/').some(isHiddenName)
}

/** In-order keys (POST) are named by an index written as 20 decimal digits. */
export function inOrderName(index: number): string {
  return String(index).padStart(20, '0')
}
