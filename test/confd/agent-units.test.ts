// Unit tests of the confd agent's parts that need no cluster: the quiescence decision, resource files,
// flags, the line diff, and the stage/compare/check/rename/reload pipeline on real files.

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parseConfdFlags } from '../../agents/confd/command.ts'
import { lineDiff } from '../../agents/confd/diff.ts'
import { parseDuration } from '../../agents/confd/duration.ts'
import { decide, EMPTY_BURST, noteChange, parseWait } from '../../agents/confd/quiescence.ts'
import { keyUnder, loadResources, parseMode, parseResource, prefixedKeys, ResourceError } from '../../agents/confd/resource.ts'
import type { Resource } from '../../agents/confd/resource.ts'
import { diffKeys } from '../../agents/confd/source.ts'
import { CommandFailedError, syncFile } from '../../agents/confd/sync.ts'

describe('quiescence decide()', () => {
  const w = { minMs: 100, maxMs: 400 }

  it('is idle without changes', () => {
    expect(decide(EMPTY_BURST, 0, w)).toEqual({ kind: 'idle' })
  })

  it('waits for min after the latest change', () => {
    let b = noteChange(EMPTY_BURST, 1000)
    expect(decide(b, 1000, w)).toEqual({ kind: 'wait', wakeAt: 1100 })
    b = noteChange(b, 1050)
    expect(decide(b, 1100, w)).toEqual({ kind: 'wait', wakeAt: 1150 })
    expect(decide(b, 1150, w)).toEqual({ kind: 'render' })
    expect(b.changes).toBe(2)
  })

  it('renders at max even while changes keep coming', () => {
    let b = EMPTY_BURST
    let rendersAt: number | undefined
    for (let t = 1000; t <= 2000 && rendersAt === undefined; t += 50) {
      b = noteChange(b, t)
      if (decide(b, t, w).kind === 'render') rendersAt = t
    }
    expect(rendersAt).toBe(1400)
  })

  it('min 0 renders at once', () => {
    expect(decide(noteChange(EMPTY_BURST, 5), 5, { minMs: 0, maxMs: 0 })).toEqual({ kind: 'render' })
  })

  it('parseWait: MIN[:MAX], MAX defaulting to 4×MIN', () => {
    expect(parseWait('2s', parseDuration)).toEqual({ minMs: 2000, maxMs: 8000 })
    expect(parseWait('500ms:10s', parseDuration)).toEqual({ minMs: 500, maxMs: 10000 })
    expect(() => parseWait('10s:1s', parseDuration)).toThrow('MAX (1s) is below MIN (10s)')
    expect(() => parseWait('x', parseDuration)).toThrow('invalid duration "x"')
    expect(() => parseWait('1:2:3', parseDuration)).toThrow('expected MIN[:MAX]')
  })
})

describe('template resources', () => {
  const ctx = { templateDir: '/etc/confd/templates', prefix: undefined }

  it('parses confd\'s fields, case-insensitively', () => {
    const r = parseResource(
      `[template]
Src = "nginx.tmpl"
dest = "/etc/nginx/nginx.conf"
keys = ["/nginx", "/app/upstream/"]
prefix = "production"
mode = "0644"
uid = 0
gid = 0
check_cmd = "/usr/sbin/nginx -t -c {{.src}}"
reload_cmd = "/usr/sbin/service nginx reload"
unknown = "ignored"
`, 'nginx.toml', '/etc/confd/conf.d/nginx.toml', ctx)
    expect(r).toEqual({
      name: 'nginx.toml', tomlPath: '/etc/confd/conf.d/nginx.toml', src: '/etc/confd/templates/nginx.tmpl', dest: '/etc/nginx/nginx.conf',
      keys: ['/nginx', '/app/upstream/'], prefix: '/production', mode: 0o644, uid: 0, gid: 0,
      checkCmd: '/usr/sbin/nginx -t -c {{.src}}', reloadCmd: '/usr/sbin/service nginx reload', missingKey: 'error',
    })
    expect(prefixedKeys(r)).toEqual(['/production/nginx', '/production/app/upstream'])
  })

  it('a global prefix replaces the resource\'s (as confd)', () => {
    const r = parseResource('[template]\nsrc="a"\ndest="/b"\nprefix="/x"\nkeys=["/k"]', 'a.toml', '/a.toml', { ...ctx, prefix: 'global' })
    expect(r.prefix).toBe('/global')
    expect(prefixedKeys(r)).toEqual(['/global/k'])
  })

  it('missing_key chooses how missing values print', () => {
    expect(parseResource('[template]\nsrc="a"\ndest="/b"\nmissing_key="default"', 'a', '/a', ctx).missingKey).toBe('default')
    expect(() => parseResource('[template]\nsrc="a"\ndest="/b"\nmissing_key="x"', 'a', '/a', ctx)).toThrow(ResourceError)
  })

  it('reports bad files', () => {
    expect(() => parseResource('[template]\ndest="/b"', 'a', '/a.toml', ctx)).toThrow('/a.toml: empty src template')
    expect(() => parseResource('[template', 'a', '/a.toml', ctx)).toThrow('Cannot process template resource /a.toml')
    expect(() => parseResource('x = 1', 'a', '/a.toml', ctx)).toThrow('no [template] table')
    expect(() => parseResource('[template]\nsrc="a"\ndest="/b"\nkeys="k"', 'a', '/a.toml', ctx)).toThrow('keys: expected an array of strings')
  })

  it('modes parse as Go\'s ParseUint(s, 0, 32)', () => {
    expect(parseMode('0644')).toBe(0o644)
    expect(parseMode('0o600')).toBe(0o600)
    expect(parseMode('420')).toBe(0o644)
    expect(parseMode('0x1ed')).toBe(0o755)
    expect(() => parseMode('rw')).toThrow('invalid syntax')
  })

  it('keys match as paths, never as string prefixes', () => {
    expect(keyUnder('/app', '/app')).toBe(true)
    expect(keyUnder('/app/x', '/app')).toBe(true)
    expect(keyUnder('/apple', '/app')).toBe(false)
    expect(keyUnder('/anything', '/')).toBe(true)
  })

  it('loadResources reads conf.d recursively and reports bad files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'confd-res-'))
    try {
      const confD = join(dir, 'conf.d')
      mkdirSync(join(confD, 'sub'), { recursive: true })
      writeFileSync(join(confD, 'a.toml'), '[template]\nsrc="a.tmpl"\ndest="/tmp/a"')
      writeFileSync(join(confD, 'sub', 'b.toml'), '[template]\nsrc="b.tmpl"\ndest="/tmp/b"')
      writeFileSync(join(confD, 'bad.toml'), '[template]\n')
      writeFileSync(join(confD, 'notes.txt'), 'x')
      const { resources, errors } = loadResources(dir, undefined)
      expect(resources.map((r) => r.name)).toEqual(['a.toml', 'sub/b.toml'])
      expect(resources[0]!.src).toBe(join(dir, 'templates', 'a.tmpl'))
      expect(errors.map((e) => e.message)).toEqual([`${join(confD, 'bad.toml')}: empty src template`])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('flags', () => {
  const dir = tmpdir()
  it('picks the mode and reads confd\'s flags', () => {
    const p = parseConfdFlags({ confdir: dir, watch: true, wait: '1s', node: ['http://a:1', 'http://b:2'], logLevel: 'info' }, { endpoints: 'http://x:9' })
    expect(p.mode).toEqual({ kind: 'watch' })
    expect(p.endpoints).toEqual(['http://a:1', 'http://b:2'])
    expect(p.config.wait).toEqual({ minMs: 1000, maxMs: 4000 })
    expect(parseConfdFlags({ confdir: dir, onetime: true, watch: true, logLevel: 'info' }, {}).mode).toEqual({ kind: 'onetime' })
    expect(parseConfdFlags({ confdir: dir, interval: '30', logLevel: 'info' }, {}).mode).toEqual({ kind: 'interval', intervalMs: 30000 })
    expect(parseConfdFlags({ confdir: dir, logLevel: 'info' }, { endpoints: 'http://x:9' }).endpoints).toEqual(['http://x:9'])
  })

  it('configuration errors are one plain message', () => {
    expect(() => parseConfdFlags({ confdir: '/nonexistent/confd', logLevel: 'info' }, {})).toThrow('confdir /nonexistent/confd does not exist')
    expect(() => parseConfdFlags({ confdir: dir, interval: 'x', logLevel: 'info' }, {})).toThrow('--interval')
    expect(() => parseConfdFlags({ confdir: dir, wait: 'soon', logLevel: 'info' }, {})).toThrow('invalid duration "soon"')
    expect(() => parseConfdFlags({ confdir: dir, backend: 'consul', logLevel: 'info' }, {})).toThrow('backend "consul" is not supported')
  })
})

describe('diffs', () => {
  it('lineDiff lists removed and added lines', () => {
    expect(lineDiff('a\nb\nc\n', 'a\nc\nd\n')).toEqual({ added: 1, removed: 1, lines: ['-b', '+d'] })
    expect(lineDiff('', 'x\n')).toEqual({ added: 1, removed: 0, lines: ['+x'] })
  })

  it('diffKeys names added, removed and modified keys', () => {
    expect(diffKeys([['/a', '1'], ['/b', '2']], [['/b', '3'], ['/c', '4']])).toEqual({ added: ['/c'], removed: ['/a'], modified: ['/b'] })
  })
})

describe('syncFile (stage, compare, check, rename, reload)', () => {
  let dir: string
  let resource: Resource
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'confd-sync-'))
    resource = {
      name: 'r.toml', tomlPath: join(dir, 'r.toml'), src: join(dir, 'r.tmpl'), dest: join(dir, 'out.conf'), keys: [], prefix: '/',
      mode: undefined, uid: undefined, gid: undefined, checkCmd: '', reloadCmd: `echo reload >> ${join(dir, 'reloads')}`, missingKey: 'error',
    }
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))
  const opts = { noop: false, syncOnly: false, keepStageFile: false }
  const reloads = (): number => {
    try {
      return readFileSync(join(dir, 'reloads'), 'utf8').split('\n').filter(Boolean).length
    } catch {
      return 0
    }
  }
  const leftovers = (): string[] => readdirSync(dir).filter((f) => f.startsWith('.out.conf'))

  it('writes a new file with mode 0644 and reloads', async () => {
    const o = await syncFile(resource, 'hello\n', opts)
    expect(o).toMatchObject({ changed: true, reasons: ['missing'], written: true, reloaded: true })
    expect(readFileSync(resource.dest, 'utf8')).toBe('hello\n')
    expect(statSync(resource.dest).mode & 0o777).toBe(0o644)
    expect(reloads()).toBe(1)
    expect(leftovers()).toEqual([])
  })

  it('does nothing when nothing changed', async () => {
    await syncFile(resource, 'same\n', opts)
    const o = await syncFile(resource, 'same\n', opts)
    expect(o).toMatchObject({ changed: false, written: false, reloaded: false })
    expect(reloads()).toBe(1)
    expect(leftovers()).toEqual([])
  })

  it('a mode change alone is a change; an existing file keeps its mode when none is set', async () => {
    await syncFile(resource, 'x\n', opts)
    const o = await syncFile({ ...resource, mode: 0o600 }, 'x\n', opts)
    expect(o.reasons).toEqual(['mode 0644 should be 0600'])
    expect(statSync(resource.dest).mode & 0o777).toBe(0o600)
    await syncFile(resource, 'y\n', opts)
    expect(statSync(resource.dest).mode & 0o777).toBe(0o600)
  })

  it('a failing check leaves the old file, runs no reload and reports the output', async () => {
    await syncFile(resource, 'good\n', opts)
    const checked = { ...resource, checkCmd: 'grep -q good {{.src}} || { echo "bad config in {{.src}}"; exit 3; }' }
    const err = await syncFile(checked, 'bad\n', opts).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(CommandFailedError)
    expect((err as Error).message).toMatch(/^Config check failed: grep -q good .*exit status 3: bad config in .*\.out\.conf\d+$/)
    expect(readFileSync(resource.dest, 'utf8')).toBe('good\n')
    expect(reloads()).toBe(1)
    expect(leftovers()).toEqual([])
    expect((await syncFile(checked, 'good too\n', opts)).written).toBe(true)
  })

  it('a failing reload is an error after the file is written', async () => {
    const err = await syncFile({ ...resource, reloadCmd: 'exit 1' }, 'x\n', opts).catch((e: unknown) => e)
    expect((err as Error).message).toBe('Reload failed: exit 1: exit status 1')
    expect(readFileSync(resource.dest, 'utf8')).toBe('x\n')
  })

  it('noop shows the change and touches nothing', async () => {
    await syncFile(resource, 'a\nb\n', opts)
    const o = await syncFile(resource, 'a\nc\n', { ...opts, noop: true })
    expect(o).toMatchObject({ changed: true, written: false, reloaded: false })
    expect(o.diff.lines).toEqual(['-b', '+c'])
    expect(readFileSync(resource.dest, 'utf8')).toBe('a\nb\n')
    expect(leftovers()).toEqual([])
  })

  it('sync-only writes without check or reload; keep-stage-file keeps the staged file', async () => {
    const o = await syncFile({ ...resource, checkCmd: 'exit 1' }, 'x\n', { ...opts, syncOnly: true })
    expect(o).toMatchObject({ written: true, reloaded: false })
    expect(reloads()).toBe(0)
    const kept = await syncFile(resource, 'x\n', { ...opts, keepStageFile: true })
    expect(leftovers()).toEqual([kept.stagePath.slice(dir.length + 1)])
  })

  it('check_cmd and reload_cmd see {{.src}} and {{.dest}}', async () => {
    const log = join(dir, 'cmds')
    await syncFile({ ...resource, checkCmd: `echo check {{.src}} {{.dest}} >> ${log}`, reloadCmd: `echo reload {{.dest}} >> ${log}` }, 'x\n', opts)
    const lines = readFileSync(log, 'utf8').trim().split('\n')
    expect(lines[0]).toMatch(new RegExp(`^check ${dir}/\\.out\\.conf\\d+ ${resource.dest}$`))
    expect(lines[1]).toBe(`reload ${resource.dest}`)
  })
})
