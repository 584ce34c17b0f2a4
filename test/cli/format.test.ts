// The pieces of etcdctl's output and input syntax that are easy to get subtly wrong.

import { describe, expect, it } from 'vitest'
import { goDuration, parseDuration } from '../../core/cli/ctl/duration.ts'
import { goQuote, humanizeBytes, renderTable } from '../../core/cli/ctl/format.ts'
import { argify, parseCompare, parseRequest } from '../../core/cli/ctl/txn.ts'
import { splitExecArgs } from '../../core/cli/ctl/watch.ts'

describe('format', () => {
  it('goQuote() quotes bytes as Go %q does', () => {
    expect(goQuote(Buffer.from('a b'))).toBe('"a b"')
    expect(goQuote(Buffer.from('say "hi"\\\n\t'))).toBe('"say \\"hi\\"\\\\\\n\\t"')
    expect(goQuote(new Uint8Array([0x00, 0xff, 0x7f]))).toBe('"\\x00\\xff\\x7f"')
    expect(goQuote(Buffer.from('héllo ✓'))).toBe('"héllo ✓"')
  })

  it('humanizeBytes() matches go-humanize Bytes', () => {
    expect(humanizeBytes(0)).toBe('0 B')
    expect(humanizeBytes(9)).toBe('9 B')
    expect(humanizeBytes(20480)).toBe('20 kB')
    expect(humanizeBytes(1_500_000)).toBe('1.5 MB')
  })

  it('goDuration() prints as time.Duration.String()', () => {
    expect(goDuration(1_026_862n)).toBe('1.026862ms')
    expect(goDuration(819_925n)).toBe('819.925µs')
    expect(goDuration(5_006_713_679n)).toBe('5.006713679s')
    expect(goDuration(62_500_000_000n)).toBe('1m2.5s')
    expect(goDuration(999n)).toBe('999ns')
  })

  it('parseDuration() reads Go durations and refuses a bare number', () => {
    expect(parseDuration('2s')).toBe(2000)
    expect(parseDuration('1m30s')).toBe(90_000)
    expect(parseDuration('300ms')).toBe(300)
    expect(parseDuration('1.5s')).toBe(1500)
    expect(() => parseDuration('5')).toThrow(/missing unit/)
    expect(() => parseDuration('5x')).toThrow(/invalid duration/)
  })

  it('renderTable() draws tablewriter boxes: centered headers, right-aligned cells', () => {
    expect(renderTable(['ID', 'NAME'], [['abc', 'x']])).toBe(
      '+-----+------+\n| ID  | NAME |\n+-----+------+\n| abc |    x |\n+-----+------+\n',
    )
  })
})

describe('txn syntax', () => {
  it('argify() splits on spaces and unquotes', () => {
    expect(argify(`put k "hello world" --prev-kv`)).toEqual(['put', 'k', 'hello world', '--prev-kv'])
    expect(argify(`put k 'single quoted'`)).toEqual(['put', 'k', 'single quoted'])
    expect(argify(`put k "tab\\there"`)).toEqual(['put', 'k', 'tab\there'])
  })

  it('parseCompare() reads every target and operator', () => {
    expect(parseCompare('value("k") = "v"')).toMatchObject({ target: 'VALUE', result: 'EQUAL' })
    expect(parseCompare('ver("k") > "1"')).toMatchObject({ target: 'VERSION', result: 'GREATER', operand: 1 })
    expect(parseCompare('c("k") = "0"')).toMatchObject({ target: 'CREATE', operand: 0 })
    expect(parseCompare('mod("k") < "9"')).toMatchObject({ target: 'MOD', result: 'LESS' })
    expect(parseCompare('lease("k") != "1f"')).toMatchObject({ target: 'LEASE', result: 'NOT_EQUAL', operand: 31 })
    expect(() => parseCompare('value("k") ~ "v"')).toThrow(/unknown operator/)
    expect(() => parseCompare('size("k") = "v"')).toThrow(/unknown target size/)
    expect(() => parseCompare('value "k" = "v"')).toThrow(/malformed comparison/)
  })

  it('parseRequest() takes the verbs with their flags', () => {
    expect(parseRequest('get k --prefix --limit=2')).toMatchObject({ type: 'range', key: 'k', options: { prefix: true, limit: 2 } })
    expect(parseRequest('put k "v v" --lease 1f --prev-kv')).toMatchObject({ type: 'put', value: 'v v', options: { lease: 31, prevKv: true } })
    expect(parseRequest('del a z --prev-kv')).toMatchObject({ type: 'delete', key: 'a', options: { end: 'z', prevKv: true } })
    expect(() => parseRequest('get k --bogus')).toThrow(/invalid txn request/)
    expect(() => parseRequest('frob k v')).toThrow(/invalid txn request/)
  })
})

describe('watch', () => {
  it('splitExecArgs() finds the command after --', () => {
    expect(splitExecArgs(['k', 'sh', '-c', 'echo'], ['node', 'cairn', 'watch', 'k', '--', 'sh', '-c', 'echo'])).toEqual({
      keyArgs: ['k'],
      execArgs: ['sh', '-c', 'echo'],
    })
    expect(splitExecArgs(['a', 'b'], ['node', 'cairn', 'watch', 'a', 'b'])).toEqual({ keyArgs: ['a', 'b'], execArgs: [] })
  })
})
