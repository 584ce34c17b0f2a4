// Template resources: confd's conf.d/*.toml files. A `[template]` table with src, dest, keys, prefix,
// mode, uid, gid, check_cmd, reload_cmd (names matched case-insensitively, unknown names ignored, as
// confd's TOML decoder does), plus Cairn's `missing_key`. Parsing is pure; loading reads the files.

import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join as joinFs, relative } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import type { MissingKeyMode } from '../../recipes/template/index.ts'
import { goPath } from '../../recipes/template/index.ts'

export interface Resource {
  /** The TOML file, relative to conf.d (names the resource in logs). */
  name: string
  tomlPath: string
  /** The template file (templates dir joined with `src`). */
  src: string
  dest: string
  /** Keys as given, relative to the prefix. */
  keys: string[]
  /** Rooted prefix ("/" when none). */
  prefix: string
  /** File mode for dest; undefined = dest's current mode, or 0644 for a new file. */
  mode: number | undefined
  uid: number | undefined
  gid: number | undefined
  checkCmd: string
  reloadCmd: string
  /** What printing a missing value does (Cairn): error (default), default (`<no value>`), zero. */
  missingKey: MissingKeyMode
}

export class ResourceError extends Error {
  override readonly name = 'ResourceError'
}

/** Go's strconv.ParseUint(s, 0, 32): 0x…, 0o…, 0b…, a leading 0 for octal, else decimal. */
export function parseMode(text: string): number {
  const s = text.replaceAll('_', '')
  let v: number
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) v = parseInt(s.slice(2), 16)
  else if (/^0[oO][0-7]+$/.test(s)) v = parseInt(s.slice(2), 8)
  else if (/^0[bB][01]+$/.test(s)) v = parseInt(s.slice(2), 2)
  else if (/^0[0-7]*$/.test(s)) v = parseInt(s, 8)
  else if (/^[1-9][0-9]*$/.test(s)) v = parseInt(s, 10)
  else throw new ResourceError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: invalid syntax`)
  if (v > 0xffffffff) throw new ResourceError(`strconv.ParseUint: parsing ${JSON.stringify(text)}: value out of range`)
  return v & 0o7777
}

/** The keys a resource reads: each key joined to the prefix (confd's appendPrefix). */
export function prefixedKeys(r: Pick<Resource, 'prefix' | 'keys'>): string[] {
  return r.keys.map((k) => goPath.join(r.prefix, k))
}

/** Whether a key read from the store belongs to a resource key: the key itself or a path under it. */
export function keyUnder(key: string, resourceKey: string): boolean {
  if (key === resourceKey) return true
  return key.startsWith(resourceKey.endsWith('/') ? resourceKey : resourceKey + '/')
}

function str(v: unknown, field: string, file: string): string {
  if (v === undefined) return ''
  if (typeof v !== 'string') throw new ResourceError(`${file}: ${field}: expected a string, got ${typeof v}`)
  return v
}

function intOrUndefined(v: unknown, field: string, file: string): number | undefined {
  if (v === undefined) return undefined
  if (typeof v === 'bigint') return Number(v)
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ResourceError(`${file}: ${field}: expected an integer`)
  return v === -1 ? undefined : v
}

export interface ResourceContext {
  templateDir: string
  /** Global --prefix: replaces each resource's prefix when set (as confd does). */
  prefix: string | undefined
}

/** Parses one TOML resource file's text. */
export function parseResource(text: string, name: string, tomlPath: string, ctx: ResourceContext): Resource {
  let doc: Record<string, unknown>
  try {
    doc = parseToml(text) as Record<string, unknown>
  } catch (e) {
    throw new ResourceError(`Cannot process template resource ${tomlPath} - ${(e as Error).message.split('\n')[0]}`)
  }
  const table = Object.entries(doc).find(([k]) => k.toLowerCase() === 'template')?.[1]
  if (table === undefined || typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new ResourceError(`${tomlPath}: no [template] table`)
  }
  const t = new Map(Object.entries(table as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]))
  const src = str(t.get('src'), 'src', tomlPath)
  if (src === '') throw new ResourceError(`${tomlPath}: empty src template`)
  const dest = str(t.get('dest'), 'dest', tomlPath)
  if (dest === '') throw new ResourceError(`${tomlPath}: empty dest`)
  const keysValue = t.get('keys') ?? []
  if (!Array.isArray(keysValue) || keysValue.some((k) => typeof k !== 'string')) throw new ResourceError(`${tomlPath}: keys: expected an array of strings`)
  let prefix = str(t.get('prefix'), 'prefix', tomlPath)
  if (ctx.prefix !== undefined && ctx.prefix !== '') prefix = ctx.prefix
  prefix = goPath.join('/', prefix)
  const modeValue = t.get('mode')
  let mode: number | undefined
  if (typeof modeValue === 'string' && modeValue !== '') mode = parseMode(modeValue)
  else if (typeof modeValue === 'number' || typeof modeValue === 'bigint') mode = Number(modeValue) & 0o7777
  else if (modeValue !== undefined && modeValue !== '') throw new ResourceError(`${tomlPath}: mode: expected a string such as "0644"`)
  const missing = str(t.get('missing_key'), 'missing_key', tomlPath) || 'error'
  if (missing !== 'error' && missing !== 'default' && missing !== 'zero') {
    throw new ResourceError(`${tomlPath}: missing_key: expected "error", "default" or "zero", got "${missing}"`)
  }
  return {
    name,
    tomlPath,
    src: joinFs(ctx.templateDir, src),
    dest,
    keys: keysValue as string[],
    prefix,
    mode,
    uid: intOrUndefined(t.get('uid'), 'uid', tomlPath),
    gid: intOrUndefined(t.get('gid'), 'gid', tomlPath),
    checkCmd: str(t.get('check_cmd'), 'check_cmd', tomlPath),
    reloadCmd: str(t.get('reload_cmd'), 'reload_cmd', tomlPath),
    missingKey: missing,
  }
}

/** Every *toml file under dir, recursively, in name order (confd's recursiveFindFiles). */
export function findTomlFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = joinFs(d, name)
      const st = statSync(p)
      if (st.isDirectory()) walk(p)
      else if (name.endsWith('toml')) out.push(p)
    }
  }
  walk(dir)
  return out
}

export interface LoadedResources {
  resources: Resource[]
  /** Files that could not be read or parsed (each one a failure). */
  errors: ResourceError[]
}

/** Reads conf.d/*.toml under confdir; templates live in confdir/templates. */
export function loadResources(confdir: string, prefix: string | undefined): LoadedResources {
  const confD = joinFs(confdir, 'conf.d')
  const ctx: ResourceContext = { templateDir: joinFs(confdir, 'templates'), prefix }
  const resources: Resource[] = []
  const errors: ResourceError[] = []
  let files: string[]
  try {
    files = findTomlFiles(confD)
  } catch (e) {
    return { resources, errors: [new ResourceError(`cannot read ${confD}: ${(e as Error).message}`)] }
  }
  for (const file of files) {
    try {
      resources.push(parseResource(readFileSync(file, 'utf8'), relative(confD, file), file, ctx))
    } catch (e) {
      errors.push(e instanceof ResourceError ? e : new ResourceError(`${file}: ${(e as Error).message}`))
    }
  }
  return { resources, errors }
}
