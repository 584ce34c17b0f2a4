// Normalizing what etcd and Cairn print so that only what may legitimately differ is hidden:
// indexes, member IDs, names, URLs and times. Everything else must match byte for byte.

/** etcdctl output (simple, json, extended) with indexes, times, IDs, names and URLs masked. */
export function normalizeCtl(text: string): string {
  return (
    text
      // In-order keys are named by their index.
      .replace(/\b\d{20}\b/g, '<seq>')
      .replace(/"(createdIndex|modifiedIndex)":\d+/g, '"$1":<i>')
      .replace(/^(Created-Index|Modified-Index|Index): \d+$/gm, '$1: <i>')
      .replace(/"expiration":"[^"]*"/g, '"expiration":"<time>"')
      // Error lines end with the store index: "Error:  100: Key not found (/x) [48]".
      .replace(/^(Error: .*) \[\d+\]$/gm, '$1 [<i>]')
      // Compare-failed causes with an index on both sides (test values are never numbers).
      .replace(/\[(\d+) != (\d+)\]/g, '[$1 != <i>]')
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, '<url>')
      .replace(/^[0-9a-f]+: name=\S+/gm, '<id>: name=<name>')
      .replace(/member [0-9a-f]+ is/g, 'member <id> is')
  )
}

/** JSON bodies of the HTTP API with the same masking, as a value to compare. */
export function normalizeJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalizeJson)
  if (typeof value === 'string') return value.replace(/\b\d{20}\b/g, '<seq>').replace(/http:\/\/127\.0\.0\.1:\d+/g, '<url>')
  if (typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if ((k === 'createdIndex' || k === 'modifiedIndex' || k === 'index') && typeof v === 'number') out[k] = '<i>'
    else if (k === 'expiration' && typeof v === 'string') out[k] = '<time>'
    else if (k === 'cause' && typeof v === 'string') out[k] = v.replace(/\[(\d+) != (\d+)\]/g, '[$1 != <i>]')
    else if ((k === 'id' || k === 'name') && typeof v === 'string') out[k] = `<${k}>`
    else out[k] = normalizeJson(v)
  }
  return out
}
