// Golden tests for confd's template functions (confd's docs/templates.md and template_funcs.go, memkv)
// and for the Go library behaviour they rest on: fmt's verbs, float formatting, path.Match, time layouts.

import { describe, expect, it } from 'vitest'
import { formatFloat, GoTime, goPath, KVStore, sprint, sprintf, stringSlice } from '../../recipes/template/index.ts'
import type { GoValue } from '../../recipes/template/index.ts'
import { FIXED_MS, fixedEnv, render, renderError } from './helpers.ts'

type Case = [name: string, template: string, expected: string]

function golden(cases: Case[]): void {
  for (const [name, template, expected] of cases) it(name, () => expect(render(template)).toBe(expected))
}

describe('store functions (memkv)', () => {
  golden([
    ['exists', '{{exists "/key"}} {{exists "/nope"}} {{exists "/app"}}', 'true false false'],
    ['get', '{{with get "/key"}}key: {{base .Key}} value: {{.Value}}{{end}}', 'key: key value: value'],
    ['getv', '{{getv "/nginx/domain"}}', 'example.com'],
    ['getv with a default', '{{getv "/nope" "fallback"}} {{getv "/key" "fallback"}}', 'fallback value'],
    ['gets matches a glob and sorts by key', '{{range gets "/app/upstream/*"}}{{.Key}}={{.Value}} {{end}}',
      '/app/upstream/app1=10.0.1.100:80 /app/upstream/app10=10.0.1.099:80 /app/upstream/app2=10.0.1.101:80 '],
    ['gets: * does not cross /', '{{len (gets "/services/*")}} {{len (gets "/services/*/*")}} {{len (gets "/services/*/*/*")}}', '0 2 4'],
    ['gets with ? and classes', '{{range gets "/app/upstream/app?"}}{{base .Key}} {{end}}|{{range gets "/app/upstream/app[2-9]"}}{{base .Key}}{{end}}', 'app1 app2 |app2'],
    ['gets of nothing is an empty list', '{{$x := gets "/none/*"}}{{len $x}} {{$x}}', '0 []'],
    ['getvs sorts values, not keys', '{{range getvs "/app/upstream/*"}}{{.}} {{end}}', '10.0.1.099:80 10.0.1.100:80 10.0.1.101:80 '],
    ['getvs of nothing is an empty list', '{{getvs "/none/*"}}', '[]'],
    ['ls lists names under a path', '{{ls "/app/upstream"}} {{ls "/services/web"}} {{ls "/key"}}', '[app1 app10 app2] [cust1 cust2] [key]'],
    ['ls of nothing', '{{ls "/nope"}}', '[]'],
    ['lsdir lists only directories', '{{lsdir "/services"}} {{lsdir "/services/web/cust1"}} {{lsdir "/app"}}', '[web zookeeper] [] [upstream]'],
    ['the nested-iteration example of confd\'s docs',
      '{{range $dir := lsdir "/services/web"}}\nupstream {{base $dir}} {\n    {{$custdir := printf "/services/web/%s/*" $dir}}{{range gets $custdir}}\n    server {{$data := json .Value}}{{$data.IP}}:80;\n    {{end}}\n}\n{{end}}',
      '\nupstream cust1 {\n    \n    server 10.0.0.1:80;\n    \n    server 10.0.0.2:80;\n    \n}\n\nupstream cust2 {\n    \n    server 10.0.0.3:80;\n    \n    server 10.0.0.4:80;\n    \n}\n'],
  ])

  it('getv of a missing key names the key', () => {
    expect(renderError('{{getv "/nope"}}')).toBe('template: t:1:2: executing "t" at <getv "/nope">: error calling getv: key does not exist: /nope')
  })

  it('get of a missing key is an error', () => {
    expect(renderError('{{get "/nope"}}')).toMatch(/error calling get: key does not exist: \/nope/)
  })

  it('a malformed glob is an error', () => {
    expect(renderError('{{gets "/a/["}}')).toMatch(/error calling gets: syntax error in pattern/)
  })

  it('fromPrefixed strips the prefix and roots the keys', () => {
    const s = KVStore.fromPrefixed([['/production/app/x', '1'], ['/production/y', '2'], ['/production', '3']], '/production')
    expect([...s.map.keys()].sort()).toEqual(['/', '/app/x', '/y'])
  })
})

describe('confd functions', () => {
  golden([
    ['base and dir', '{{base "/services/data/url"}} {{dir "/services/data/url"}} {{base "/a/b/"}} {{dir "x"}} {{base ""}}', 'url /services/data b . .'],
    ['split and index', '{{$url := split "host:8080" ":"}}host: {{index $url 0}} port: {{index $url 1}}', 'host: host port: 8080'],
    ['split with an empty separator splits characters', '{{split "abc" ""}}', '[a b c]'],
    ['json object and fields', '{{$d := json (getv "/test/data")}}{{$d.port}} {{$d.big}} {{(index $d.animals 0).name}}', '8080 1e+06 Fido'],
    ['json zookeeper example', '{{range gets "/services/zookeeper/*"}}{{$data := json .Value}}{{$data.Id}}={{$data.IP}} {{end}}', 'host1=192.168.10.11 host2=192.168.10.12 '],
    ['jsonArray', '{{range jsonArray (getv "/list")}}val: {{.}} {{end}}', 'val: a val: b val: c '],
    ['json null is an empty map', '{{json "null"}}', 'map[]'],
    ['map', '{{$e := map "name" "es" "private_port" 9200}}{{index $e "name"}}:{{index $e "private_port"}} {{$e.name}}', 'es:9200 es'],
    ['getenv', '{{getenv "HOSTNAME"}} [{{getenv "NOPE"}}] {{getenv "NOPE" "127.0.0.1"}} {{getenv "EMPTY" "dflt"}}', 'web-1 [] 127.0.0.1 dflt'],
    ['join', '{{join (getvs "/app/upstream/*") ","}}', '10.0.1.099:80,10.0.1.100:80,10.0.1.101:80'],
    ['datetime', '{{datetime}}', '2009-11-10 23:00:00 +0000 UTC'],
    ['datetime.Format', '{{datetime.Format "Jan 2, 2006 at 3:04pm (MST)"}}', 'Nov 10, 2009 at 11:00pm (UTC)'],
    ['toUpper, toLower', '{{toUpper "value"}} {{toLower "VaLuE"}} {{toUpper "straße"}}', 'VALUE value STRAßE'],
    ['contains', '{{contains "seafood" "foo"}} {{contains "seafood" "bar"}} {{contains "x" ""}}', 'true false true'],
    ['replace', '{{replace "a-b-c" "-" "_" -1}} {{replace "a-b-c" "-" "_" 1}} {{replace "ab" "" "." -1}}', 'a_b_c a_b-c .a.b.'],
    ['trimSuffix', '{{trimSuffix "file.conf" ".conf"}} {{trimSuffix "file" ".conf"}}', 'file file'],
    ['lookupIP sorts as strings', '{{lookupIP "db.local"}}', '[10.0.0.10 10.0.0.2 10.0.0.9 ::1 fe80::2]'],
    ['lookupIPV4 and lookupIPV6', '{{lookupIPV4 "db.local"}} {{lookupIPV6 "db.local"}}', '[10.0.0.10 10.0.0.2 10.0.0.9] [::1 fe80::2]'],
    ['lookupIP of an unknown name', '{{range lookupIP "nope"}}x{{else}}none{{end}}', 'none'],
    ['lookupSRV sorts by target, port, priority, weight',
      '{{range lookupSRV "http" "tcp" "example.com"}}{{.Target}}:{{.Port}} p{{.Priority}} w{{.Weight}}; {{end}}',
      'a.example.com.:8080 p20 w1; b.example.com.:80 p10 w5; '],
    ['fileExists', '{{fileExists "/etc/hosts"}} {{fileExists "/nope"}}', 'true false'],
    ['base64', '{{base64Encode "Value"}} {{base64Decode "VmFsdWU="}}', 'VmFsdWU= Value'],
    ['parseBool', '{{parseBool "true"}} {{parseBool "T"}} {{parseBool "0"}} {{if parseBool "1"}}on{{end}}', 'true true false on'],
    ['reverse of []string and of gets', '{{reverse (split "a,b,c" ",")}} {{range reverse (gets "/app/upstream/*")}}{{base .Key}} {{end}}', '[c b a] app2 app10 app1 '],
    ['reverse leaves other slices unchanged (as confd)', '{{reverse (jsonArray "[1,2]")}}', '[1 2]'],
    ['sortByLength', '{{sortByLength (split "ccc,a,bb" ",")}}', '[a bb ccc]'],
    ['sortKVByLength', '{{range sortKVByLength (gets "/app/upstream/*")}}{{base .Key}} {{end}}', 'app1 app2 app10 '],
    ['arithmetic', '{{add 1 2}} {{sub 1 2}} {{mul 3 4}} {{div 7 2}} {{div -7 2}} {{mod 7 3}} {{mod -7 3}}', '3 -1 12 3 -3 1 -1'],
    ['arithmetic wraps at 64 bits', '{{add 9223372036854775807 1}}', '-9223372036854775808'],
    ['seq', '{{seq 1 3}} {{range seq 3 5}}{{.}}{{end}} {{seq 2 1}}', '[1 2 3] 345 []'],
    ['atoi', '{{add (atoi "41") 1}} {{atoi "-7"}}', '42 -7'],
    ['string functions in pipelines', '{{getv "/nginx/domain" | toUpper | printf "%s!"}}', 'EXAMPLE.COM!'],
  ])

  it('errors of confd functions', () => {
    expect(renderError('{{div 1 0}}')).toMatch(/error calling div: runtime error: integer divide by zero/)
    expect(renderError('{{atoi "x"}}')).toMatch(/error calling atoi: strconv.Atoi: parsing "x": invalid syntax/)
    expect(renderError('{{parseBool "yes"}}')).toMatch(/error calling parseBool: strconv.ParseBool: parsing "yes": invalid syntax/)
    expect(renderError('{{base64Decode "!!"}}')).toMatch(/error calling base64Decode: illegal base64 data at input byte 0/)
    expect(renderError('{{json "[1]"}}')).toMatch(/json: cannot unmarshal array into Go value of type map\[string\]interface \{\}/)
    expect(renderError('{{json "{"}}')).toMatch(/error calling json: unexpected end of JSON input/)
    expect(renderError('{{jsonArray "{}"}}')).toMatch(/json: cannot unmarshal object into Go value of type \[\]interface \{\}/)
    expect(renderError('{{map "a"}}')).toMatch(/error calling map: invalid map call/)
    expect(renderError('{{map 1 2}}')).toMatch(/error calling map: map keys must be strings/)
    expect(renderError('{{join (jsonArray "[]") ","}}')).toMatch(/wrong type for value; expected \[\]string; got \[\]interface \{\}/)
  })

  it('lookups not yet resolved are recorded and answer empty', async () => {
    const { LookupCache, confdFuncs, Template } = await import('../../recipes/template/index.ts')
    const cache = new LookupCache()
    const env = { ...fixedEnv(), lookupIP: (h: string) => cache.lookupIP(h), lookupSRV: (s: string, p: string, n: string) => cache.lookupSRV(s, p, n) }
    const t = Template.parse('t', '{{lookupIP "a.local"}} {{len (lookupSRV "x" "tcp" "b.local")}}', confdFuncs(new KVStore(), env))
    expect(t.execute(undefined)).toBe('[] 0')
    expect([...cache.pendingIps]).toEqual(['a.local'])
    expect([...cache.pendingSrvs.keys()]).toEqual(['_x._tcp.b.local'])
    cache.ips.set('a.local', ['10.1.1.1'])
    cache.srvs.set('_x._tcp.b.local', [{ target: 't.', port: 1, priority: 1, weight: 1 }])
    cache.clearPending()
    expect(t.execute(undefined)).toBe('[10.1.1.1] 1')
    expect(cache.hasPending).toBe(false)
  })
})

describe('fmt verbs (printf)', () => {
  const cases: Array<[string, GoValue[], string]> = [
    ['%d|%5d|%-5d|%05d|%+d|% d', [42n, 42n, 42n, -42n, 42n, 42n], '42|   42|42   |-0042|+42| 42'],
    ['%.3d|%6.3d|%.0d', [7n, 7n, 0n], '007|   007|'],
    ['%x|%X|%#x|%o|%#o|%O|%b|%x', [255n, 255n, 255n, 8n, 8n, 8n, 5n, -255n], 'ff|FF|0xff|10|010|0o10|101|-ff'],
    ['%c|%q|%U|%#U', [65n, 65n, 0x1f600n, 120n], "A|'A'|U+1F600|U+0078 'x'"],
    ['%s|%10s|%-10s|%.2s|%5.1s|', ['hello', 'hi', 'hi', 'hello', 'xyz'], 'hello|        hi|hi        |he|    x|'],
    ['%q|%+q|%#q|%#q', ['a"b\n', 'é', 'raw', 'no`'], '"a\\"b\\n"|"\\u00e9"|`raw`|"no`"'],
    ['%x|% x|%X|%#x', ['hello', 'hi', 'hi', 'hi'], '68656c6c6f|68 69|6869|0x6869'],
    ['%v|%t|%-6t|', [true, false, true], 'true|false|true  |'],
    ['%f|%.2f|%8.3f|%-8.3f|%08.3f|%+.1f', [3.14159, 3.14159, -3.14159, 3.14159, -3.14159, 3], '3.141590|3.14|  -3.142|3.142   |-003.142|+3.0'],
    ['%e|%E|%.2e|%g|%.3g|%G', [1234.5678, 1234.5678, 1234.5678, 1234.5678, 1234.5678, 1e-7], '1.234568e+03|1.234568E+03|1.23e+03|1234.5678|1.23e+03|1E-07'],
    ['%v|%v|%v|%v|%v|%v', [0.1, 100000, 1000000, 123456789, 0.0001, 0.00001], '0.1|100000|1e+06|1.23456789e+08|0.0001|1e-05'],
    ['%.0f|%.0f|%.0f|%.1f|%.2f|%.1f', [0.5, 1.5, 2.5, 0.25, 2.675, 0.35], '0|2|2|0.2|2.67|0.3'],
    ['%v|%5.1f|%v|%08.3f|%f', [Infinity, -Infinity, NaN, NaN, -0], '+Inf| -Inf|NaN|     NaN|-0.000000'],
    ['%[2]d %[1]d', [1n, 2n], '2 1'],
    ['%*d|%-*d|%.*f', [5n, 42n, 4n, 7n, 2n, 3.14159], '   42|7   |3.14'],
    ['%T %T %T %T %T', [stringSlice(['a']), 1n, 1.5, true, null], '[]string int float64 bool <nil>'],
    ['%v %q %d', [stringSlice(['a', 'b']), stringSlice(['a', 'b']), stringSlice([])], '[a b] ["a" "b"] []'],
    ['%%|%d%%', [5n], '%|5%'],
  ]
  for (const [format, args, expected] of cases) it(`Sprintf(${JSON.stringify(format)})`, () => expect(sprintf(format, args)).toBe(expected))

  it('mistakes print as Go prints them', () => {
    expect(sprintf('%d', ['x'])).toBe('%!d(string=x)')
    expect(sprintf('%s', [5n])).toBe('%!s(int=5)')
    expect(sprintf('%d', [1.5])).toBe('%!d(float64=1.5)')
    expect(sprintf('%s', [null])).toBe('%!s(<nil>)')
    expect(sprintf('%d %d', [1n])).toBe('1 %!d(MISSING)')
    expect(sprintf('a', [1n, 'b'])).toBe('a%!(EXTRA int=1, string=b)')
    expect(sprintf('%', [])).toBe('%!(NOVERB)')
    expect(sprintf('%z', [1n])).toBe('%!z(int=1)')
    expect(sprintf('%[3]d', [1n])).toBe('%!d(BADINDEX)')
  })

  it('Sprint adds spaces only between non-strings', () => {
    expect(sprint([1n, 2n, 'a', 3n, 'b', 'c'])).toBe('1 2a3bc')
  })
})

describe('formatFloat', () => {
  const cases: Array<[number, 'e' | 'f' | 'g', number, string]> = [
    [1, 'g', -1, '1'],
    [1e21, 'g', -1, '1e+21'],
    [123456, 'g', -1, '123456'],
    [1234567, 'g', -1, '1.234567e+06'],
    [0.000123, 'g', -1, '0.000123'],
    [100, 'g', 3, '100'],
    [1000, 'g', 3, '1e+03'],
    [1, 'g', 3, '1'],
    [0, 'e', 2, '0.00e+00'],
    [1e-300, 'e', 3, '1.000e-300'],
    [5e-324, 'g', -1, '5e-324'],
    [1.7976931348623157e308, 'g', -1, '1.7976931348623157e+308'],
    [0.1, 'f', 20, '0.10000000000000000555'],
    [9.995, 'f', 2, '9.99'],
    [99.5, 'f', 0, '100'],
  ]
  for (const [v, fmt, prec, expected] of cases) it(`FormatFloat(${v}, '${fmt}', ${prec})`, () => expect(formatFloat(v, fmt, prec)).toBe(expected))
})

describe('path.Match (the glob of gets/getvs)', () => {
  const cases: Array<[string, string, boolean | 'error']> = [
    ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true],
    ['a*', 'ab/c', false], ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false],
    ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
    ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false],
    ['a*b?c*x', 'abxbbxdbxebxczzx', true], ['a*b?c*x', 'abxbbxdbxebxczzy', false],
    ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false], ['ab[^c]', 'abc', false],
    ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
    ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['[a-ζ]*', 'α', true], ['*[a-ζ]', 'A', false],
    ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true], ['[x\\-]', 'x', true],
    ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', 'a', false],
    ['[]a]', ']', 'error'], ['[-]', '-', 'error'], ['[x-]', 'x', 'error'], ['[-x]', 'x', 'error'], ['\\', 'a', 'error'],
    ['[a-b-c]', 'a', 'error'], ['[', 'a', 'error'], ['[^', 'a', 'error'], ['[^bc', 'a', 'error'], ['a[', 'a', 'error'],
    ['*x', 'xxx', true], ['/services/*', '/services/a', true], ['/services/*', '/services/a/b', false],
  ]
  for (const [pattern, name, expected] of cases) {
    it(`Match(${JSON.stringify(pattern)}, ${JSON.stringify(name)})`, () => {
      if (expected === 'error') expect(() => goPath.match(pattern, name)).toThrow('syntax error in pattern')
      else expect(goPath.match(pattern, name)).toBe(expected)
    })
  }

  it('Clean, Join, Base, Dir', () => {
    expect(goPath.clean('a//b/./c/..')).toBe('a/b')
    expect(goPath.clean('/../a')).toBe('/a')
    expect(goPath.clean('')).toBe('.')
    expect(goPath.join('/', 'a/', '/b')).toBe('/a/b')
    expect(goPath.join('/prefix', '/')).toBe('/prefix')
    expect(goPath.base('/')).toBe('/')
    expect(goPath.dir('/a')).toBe('/')
  })
})

describe('time layouts', () => {
  const utc = new GoTime(FIXED_MS, { offsetSeconds: 0, name: 'UTC' })
  const pst = new GoTime(FIXED_MS + 123, { offsetSeconds: -8 * 3600, name: 'PST' })
  const cases: Array<[GoTime, string, string]> = [
    [utc, 'Mon Jan _2 15:04:05 2006', 'Tue Nov 10 23:00:00 2009'],
    [utc, '2006-01-02T15:04:05Z07:00', '2009-11-10T23:00:00Z'],
    [pst, '2006-01-02T15:04:05.000Z07:00', '2009-11-10T15:00:00.123-08:00'],
    [pst, 'Mon, 02 Jan 2006 15:04:05 -0700', 'Tue, 10 Nov 2009 15:00:00 -0800'],
    [pst, '02 Jan 06 15:04 MST', '10 Nov 09 15:00 PST'],
    [utc, '3:04PM', '11:00PM'],
    [pst, '3:04pm', '3:00pm'],
    [utc, 'Monday January 2 1/2 01/02', 'Tuesday November 10 11/10 11/10'],
    [utc, 'day __2 002', 'day 314 314'],
    [pst, '15:04:05.999 .9 ,000', '15:00:00.123 .1 ,123'],
    [utc, '05.999|', '00|'],
    [pst, '-07:00:00 Z07 -07', '-08:00:00 -08 -08'],
    [utc, 'Janet', 'Janet'],
    [new GoTime(FIXED_MS, { offsetSeconds: 3600, name: '' }), 'MST', '+0100'],
  ]
  for (const [t, layout, expected] of cases) it(`Format(${JSON.stringify(layout)})`, () => expect(t.format(layout)).toBe(expected))

  it('String() is Go\'s default layout', () => {
    expect(pst.stringer()).toBe('2009-11-10 15:00:00.123 -0800 PST')
  })
})
