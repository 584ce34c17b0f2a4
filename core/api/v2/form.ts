// Form values as Go's net/http reads them (url.ParseQuery and Request.ParseForm), because the v2
// API's answers to malformed input — which parameter wins, which error text — follow from them:
// body values (PUT/POST with a form content type) come before query values, the first value of a
// name is the one used, and a semicolon or a bad %-escape is an error.

export type FormValues = Map<string, string[]>

export class FormError extends Error {}

/**
 * Go's url.QueryUnescape: "+" is a space, "%XX" a byte; the bytes are read as UTF-8. The input is a
 * binary string (one char per byte, as Node hands over the request line and as we read bodies).
 */
export function queryUnescape(s: string): string {
  const bytes: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0x25 /* % */) {
      const hex = s.slice(i + 1, i + 3)
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new FormError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`)
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else if (c === 0x2b /* + */) {
      bytes.push(0x20)
    } else {
      bytes.push(c & 0xff)
    }
  }
  return Buffer.from(bytes).toString('utf8')
}

/** Go's url.PathUnescape (no "+" rule), for the request path. */
export function pathUnescape(s: string): string {
  if (!s.includes('%')) return s
  return queryUnescape(s.replaceAll('+', '%2B'))
}

/** Go's strconv.Quote, enough for the short fragments quoted in error causes. */
function goQuote(s: string): string {
  return JSON.stringify(s)
}

/** Adds the pairs of a query string to `into`; like Go, keeps parsing after an error and reports the first. */
export function parseQueryInto(into: FormValues, query: string): FormError | undefined {
  let first: FormError | undefined
  for (const pair of query.split('&')) {
    if (pair.includes(';')) {
      first ??= new FormError('invalid semicolon separator in query')
      continue
    }
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const rawKey = eq === -1 ? pair : pair.slice(0, eq)
    const rawValue = eq === -1 ? '' : pair.slice(eq + 1)
    let key: string
    let value: string
    try {
      key = queryUnescape(rawKey)
      value = queryUnescape(rawValue)
    } catch (e) {
      first ??= e as FormError
      continue
    }
    const list = into.get(key)
    if (list) list.push(value)
    else into.set(key, [value])
  }
  return first
}

/** True when a body with this Content-Type is a form Go would parse. */
export function isFormContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false
  const media = contentType.split(';')[0]!.trim().toLowerCase()
  return media === 'application/x-www-form-urlencoded'
}

/**
 * The merged form of a request: body pairs first (when `body` is given), then query pairs.
 * Throws FormError with Go's message when either is malformed.
 */
export function parseForm(query: string, body: string | undefined): FormValues {
  const form: FormValues = new Map()
  const bodyError = body === undefined ? undefined : parseQueryInto(form, body)
  const queryError = parseQueryInto(form, query)
  const error = bodyError ?? queryError
  if (error) throw error
  return form
}

export function formValue(form: FormValues, name: string): string {
  return form.get(name)?.[0] ?? ''
}

/** Go's strconv.ParseBool. */
export function parseGoBool(s: string): boolean | undefined {
  if (s === '1' || s === 't' || s === 'T' || s === 'TRUE' || s === 'true' || s === 'True') return true
  if (s === '0' || s === 'f' || s === 'F' || s === 'FALSE' || s === 'false' || s === 'False') return false
  return undefined
}

const uint64Max = (1n << 64n) - 1n

/** Go's strconv.ParseUint(s, 10, 64). */
export function parseGoUint64(s: string): bigint | undefined {
  if (!/^[0-9]+$/.test(s)) return undefined
  const n = BigInt(s)
  return n > uint64Max ? undefined : n
}
