// Golden tests for the Go text/template engine: each construct, with the output Go's documentation
// (text/template, fmt) specifies for it. Data is nil unless a case gives some, as in confd.

import { describe, expect, it } from 'vitest'
import { fromJson, GoMap, Template, TemplateExecError, TemplateParseError } from '../../recipes/template/index.ts'
import type { GoValue } from '../../recipes/template/index.ts'
import { render, renderError } from './helpers.ts'

type Case = [name: string, template: string, expected: string, data?: GoValue]

const people = fromJson({ name: 'Ann', tags: ['x', 'y'], age: 41, nested: { a: { b: 'deep' } }, empty: [], zero: 0, none: null })

function golden(cases: Case[]): void {
  for (const [name, template, expected, data] of cases) {
    it(name, () => {
      expect(render(template, data === undefined ? {} : { data })).toBe(expected)
    })
  }
}

describe('text and actions', () => {
  golden([
    ['plain text passes through', 'hello\nworld', 'hello\nworld'],
    ['a string constant', '{{"\\"output\\""}}', '"output"'],
    ['a raw string constant', '{{`"output"`}}', '"output"'],
    ['printf %q', '{{printf "%q" "output"}}', '"output"'],
    ['pipeline final argument', '{{"output" | printf "%q"}}', '"output"'],
    ['parenthesized argument', '{{printf "%q" (print "out" "put")}}', '"output"'],
    ['final argument comes last', '{{"put" | printf "%s%s" "out" | printf "%q"}}', '"output"'],
    ['chained pipeline', '{{"output" | printf "%s" | printf "%q"}}', '"output"'],
    ['with sets dot', '{{with "output"}}{{printf "%q" .}}{{end}}', '"output"'],
    ['with declaring a variable from a pipeline', '{{with $x := "output" | printf "%q"}}{{$x}}{{end}}', '"output"'],
    ['with declaring a variable', '{{with $x := "output"}}{{printf "%q" $x}}{{end}}', '"output"'],
    ['variable piped', '{{with $x := "output"}}{{$x | printf "%q"}}{{end}}', '"output"'],
    ['bools', '{{true}} {{false}}', 'true false'],
    ['an int constant', '{{42}} {{-7}} {{+3}}', '42 -7 3'],
    ['hex, octal, binary, underscores', '{{0x1F}} {{0o17}} {{017}} {{0b101}} {{1_000}}', '31 15 15 5 1000'],
    ['a character constant is an int', "{{'a'}} {{'\\n'}}", '97 10'],
    ['float constants print with %v', '{{1.5}} {{3.0}} {{1e3}} {{1e6}} {{0.000001}} {{.5}}', '1.5 3 1000 1e+06 1e-06 0.5'],
    ['constant types', "{{printf \"%T %T %T %T\" 1 1.0 'a' \"s\"}}", 'int float64 int string'],
    ['string escapes', '{{"a\\tb\\u00e9\\x41\\101"}}', 'a\tbéAA'],
    ['dot of nil data prints no value', '{{.}}', '<no value>'],
    ['a missing field of nil data is no value', '{{.foo}}', '<no value>'],
    ['data fields', '{{.name}} is {{.age}}', 'Ann is 41', people],
    ['nested fields', '{{.nested.a.b}}', 'deep', people],
    ['a field of a missing field is no value', '{{.missing.deeper}}', '<no value>', people],
    ['a JSON null field is no value', '{{.none}}', '<no value>', people],
    ['printing a slice and a map', '{{.tags}} {{.nested}}', '[x y] map[a:map[b:deep]]', people],
    ['$ is the data', '{{with .nested}}{{$.name}}{{end}}', 'Ann', people],
  ])
})

describe('whitespace trimming and comments', () => {
  golden([
    ['trim markers', '{{23 -}} < {{- 45}}', '23<45'],
    ['trim removes newlines and tabs', 'a \n\t{{- "b" -}} \n c', 'abc'],
    ['a minus without a space is a number', '{{-3}}', '-3'],
    ['a comment prints nothing', 'a{{/* a comment */}}b', 'ab'],
    ['a multi-line comment', 'a{{/* line1\nline2 */}}b', 'ab'],
    ['a trimmed comment', 'a  {{- /* a comment */ -}}  b', 'ab'],
    ['trimming lines of a range', '{{range getvs "/app/upstream/*" -}}\n  {{.}}\n{{end -}}', '10.0.1.099:80\n10.0.1.100:80\n10.0.1.101:80\n'],
    ['newlines inside an action', '{{printf\n"%d"\n3}}', '3'],
  ])
})

describe('variables', () => {
  golden([
    ['declare and use', '{{$x := "v"}}{{$x}}', 'v'],
    ['a declaration prints nothing', '{{$x := 1}}', ''],
    ['assignment', '{{$x := 1}}{{$x = 2}}{{$x}}', '2'],
    ['assignment inside range changes the outer variable', '{{$last := 0}}{{range seq 1 3}}{{$last = .}}{{end}}{{$last}}', '3'],
    ['a variable declared in range is new each iteration', '{{range seq 1 2}}{{$y := .}}{{$y}}{{end}}', '12'],
    ['field of a variable', '{{$d := json `{"a":{"b":"c"}}`}}{{$d.a.b}}', 'c'],
    ['$ inside a range', '{{range .tags}}{{$.name}}{{end}}', 'AnnAnn', people],
  ])

  it('a variable is out of scope after its {{end}}', () => {
    expect(() => render('{{if true}}{{$y := 1}}{{end}}{{$y}}')).toThrow('template: t:1: undefined variable "$y"')
  })

  it('an undefined variable is a parse error naming it', () => {
    expect(() => render('line1\n{{$nope}}')).toThrow(TemplateParseError)
    expect(() => render('line1\n{{$nope}}')).toThrow('template: t:2: undefined variable "$nope"')
  })
})

describe('if / else if / else', () => {
  golden([
    ['true branch', '{{if true}}yes{{end}}', 'yes'],
    ['false without else prints nothing', '{{if false}}yes{{end}}', ''],
    ['else', '{{if 0}}yes{{else}}no{{end}}', 'no'],
    ['else if chain', '{{if eq 1 2}}a{{else if eq 2 2}}b{{else}}c{{end}}', 'b'],
    ['else if chain to else', '{{if false}}a{{else if false}}b{{else if 0}}c{{else}}d{{end}}', 'd'],
    ['empty string, zero, nil and empty collections are false',
      '{{if ""}}1{{end}}{{if 0}}2{{end}}{{if 0.0}}3{{end}}{{if .empty}}4{{end}}{{if .none}}5{{end}}{{if .zero}}6{{end}}{{if .missing}}7{{end}}-', '-', people],
    ['non-empty values are true', '{{if "x"}}1{{end}}{{if 2}}2{{end}}{{if .tags}}3{{end}}{{if .nested}}4{{end}}{{if get "/key"}}5{{end}}', '12345', people],
    ['a missing JSON field is false (as in confd)', '{{$d := json "{}"}}{{if $d.port}}y{{else}}n{{end}}', 'n'],
    ['a variable declared in if is visible in else', '{{if $x := ""}}a{{else}}[{{$x}}]{{end}}', '[]'],
  ])
})

describe('range', () => {
  golden([
    ['over a slice', '{{range split "a,b,c" ","}}<{{.}}>{{end}}', '<a><b><c>'],
    ['index and element', '{{range $i, $v := split "a,b" ","}}{{$i}}={{$v}} {{end}}', '0=a 1=b '],
    ['element only', '{{range $v := split "a,b" ","}}{{$v}}{{end}}', 'ab'],
    ['over a map in key order', '{{range $k, $v := map "b" 2 "a" 1 "c" 3}}{{$k}}{{$v}}{{end}}', 'a1b2c3'],
    ['over a map, dot is the value', '{{range map "b" 2 "a" 1}}{{.}}{{end}}', '12'],
    ['else on an empty slice', '{{range split "" "x"}}[{{.}}]{{else}}empty{{end}}|{{range gets "/none/*"}}x{{else}}none{{end}}', '[]|none'],
    ['else on nil', '{{range .missing}}x{{else}}nil{{end}}', 'nil', people],
    ['over an int (Go 1.22)', '{{range 3}}{{.}}{{end}}', '012'],
    ['break', '{{range seq 1 5}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}', '12'],
    ['continue', '{{range seq 1 5}}{{if eq . 3}}{{continue}}{{end}}{{.}}{{end}}', '1245'],
    ['nested ranges', '{{range $a := seq 1 2}}{{range $b := seq 1 2}}{{$a}}{{$b}} {{end}}{{end}}', '11 12 21 22 '],
    ['assignment form', '{{$i := 0}}{{$v := 0}}{{range $i, $v = split "x,y" ","}}{{end}}{{$i}}{{$v}}', '1y'],
    ['over JSON arrays of objects', '{{$data := json (getv "/test/data")}}{{range $data.animals}}{{.name}} {{end}}', 'Fido Misse '],
  ])

  it('a string cannot be ranged over', () => {
    expect(renderError('{{range "abc"}}{{end}}')).toBe('template: t:1:8: executing "t" at <"abc">: range can\'t iterate over abc')
  })

  it('break outside range is a parse error', () => {
    expect(() => render('{{break}}')).toThrow('template: t:1: {{break}} outside {{range}}')
  })
})

describe('with', () => {
  golden([
    ['with a true value', '{{with "x"}}{{.}}{{end}}', 'x'],
    ['with else', '{{with ""}}x{{else}}y{{end}}', 'y'],
    ['else with (Go 1.23)', '{{with ""}}a{{else with "b"}}{{.}}{{else}}c{{end}}', 'b'],
    ['with a KVPair', '{{with get "/key"}}{{.Key}}={{.Value}}{{end}}', '/key=value'],
    ['with a missing field', '{{with .missing}}x{{else}}none{{end}}', 'none', people],
  ])
})

describe('define, template, block', () => {
  golden([
    ['define and template', '{{define "T"}}<{{.}}>{{end}}{{template "T" "x"}}', '<x>'],
    ['template without a pipeline gets no dot', '{{define "T"}}[{{.}}]{{end}}{{template "T"}}', '[<no value>]'],
    ['template with a map argument', '{{define "srv"}}{{.name}}:{{.port}}{{end}}{{template "srv" map "name" "a" "port" 80}}', 'a:80'],
    ['$ inside a template is its dot', '{{define "T"}}{{$}}{{end}}{{template "T" 7}}', '7'],
    ['define may come after use', '{{template "T" 1}}{{define "T"}}({{.}}){{end}}', '(1)'],
    ['block defines and executes', '{{block "B" 5}}[{{.}}]{{end}}', '[5]'],
    ['recursion through a template', '{{define "count"}}{{if gt . 0}}{{.}}{{template "count" sub . 1}}{{end}}{{end}}{{template "count" 3}}', '321'],
    ['raw string template names', '{{define `T`}}t{{end}}{{template `T`}}', 't'],
  ])

  it('variables are not inherited by templates', () => {
    expect(() => render('{{$v := 1}}{{define "T"}}{{$v}}{{end}}')).toThrow('undefined variable "$v"')
  })

  it('an undefined template is an execution error', () => {
    expect(renderError('{{template "nope"}}')).toBe('template: t:1:11: executing "t" at <{{template "nope"}}>: template "nope" not defined')
  })

  it('errors inside a define name the define and the file line', () => {
    expect(renderError('{{define "T"}}\n{{getv "/nope"}}{{end}}{{template "T"}}')).toBe(
      'template: t:2:2: executing "T" at <getv "/nope">: error calling getv: key does not exist: /nope',
    )
  })

  it('templateNames lists the defined templates', () => {
    expect(Template.parse('main', '{{define "a"}}{{end}}{{block "b" .}}{{end}}').templateNames).toEqual(['a', 'b', 'main'])
  })
})

describe('fields, chains and methods', () => {
  golden([
    ['a field of a parenthesized pipeline', '{{(json `{"a":{"b":"c"}}`).a.b}}', 'c'],
    ['index then a field', '{{$data := json (getv "/test/data")}}{{(index $data.animals 1).type}}', 'cat'],
    ['a method on a function result', '{{datetime.Format "2006-01-02"}}', '2009-11-10'],
    ['a method without arguments', '{{datetime.Year}} {{datetime.Unix}}', '2009 1257894000'],
    ['a method taking the pipeline value', '{{"15:04" | datetime.Format}}', '23:00'],
    ['struct fields', '{{range gets "/app/upstream/*"}}{{.Key}} {{end}}', '/app/upstream/app1 /app/upstream/app10 /app/upstream/app2 '],
  ])

  it('a field of a string is an error', () => {
    expect(renderError('{{$s := "x"}}{{$s.y}}')).toBe('template: t:1:17: executing "t" at <$s.y>: can\'t evaluate field y in type string')
  })

  it('a field through a JSON null is a nil pointer error', () => {
    expect(renderError('{{$d := json `{"n":null}`}}{{$d.n.x}}')).toMatch(/nil pointer evaluating interface \{\}\.x/)
  })

  it('a map key with arguments is an error', () => {
    expect(renderError('{{$d := json `{"a":1}`}}{{$d.a 1}}')).toMatch(/a is not a method but has arguments/)
  })
})

describe('comparison and logic functions', () => {
  golden([
    ['eq', '{{eq 1 1}} {{eq "a" "b"}} {{eq 1.5 1.5}} {{eq true true}}', 'true false true true'],
    ['eq with several arguments is any-of', '{{eq 3 1 2 3}} {{eq 4 1 2 3}}', 'true false'],
    ['ne', '{{ne 1 2}} {{ne "a" "a"}}', 'true false'],
    ['lt le gt ge on ints', '{{lt 1 2}} {{le 2 2}} {{gt 1 2}} {{ge 2 2}}', 'true true false true'],
    ['lt on strings and floats', '{{lt "a" "b"}} {{lt "b" "a"}} {{gt 1.5 1.2}}', 'true false true'],
    ['eq with a missing value is false', '{{eq .missing "x"}}', 'false', people],
    ['eq on KVPairs compares fields', '{{eq (get "/key") (get "/key")}}', 'true'],
    ['and returns the first false argument or the last', '{{and 1 0 2}} {{and 1 2 3}} {{and "" 1}}', '0 3 '],
    ['or returns the first true argument or the last', '{{or 0 "" "z"}} {{or 0 ""}}', 'z '],
    ['and/or short-circuit', '{{and 0 (div 1 0)}} {{or 1 (div 1 0)}}', '0 1'],
    ['and with a pipeline value', '{{"x" | and true}}', 'x'],
    ['not', '{{not true}} {{not ""}} {{not .missing}}', 'false true true', people],
  ])

  it('comparing different kinds is an error', () => {
    expect(renderError('{{eq 1 "a"}}')).toBe('template: t:1:2: executing "t" at <eq 1 "a">: error calling eq: incompatible types for comparison')
    expect(renderError('{{eq 1 1.0}}')).toMatch(/incompatible types for comparison/)
    expect(renderError('{{lt true false}}')).toMatch(/invalid type for comparison/)
    expect(renderError('{{lt .missing 1}}', { data: people })).toMatch(/invalid type for comparison/)
    expect(renderError('{{eq (split "a" ",") 1}}')).toMatch(/invalid type for comparison/)
  })
})

describe('len, index, slice, print, printf, println, html, js, urlquery', () => {
  golden([
    ['len of a string counts bytes', '{{len "héllo"}}', '6'],
    ['len of a slice and a map', '{{len (split "a,b,c" ",")}} {{len (map "a" 1)}}', '3 1'],
    ['index into a slice', '{{index (split "a b" " ") 1}}', 'b'],
    ['index with several indexes', '{{index (jsonArray "[[1,2],[3,4]]") 1 0}}', '3'],
    ['index into a map', '{{index (map "a" "x") "a"}}', 'x'],
    ['index of a missing map key is no value', '{{index (map "a" 1) "b"}}', '<no value>'],
    ['index into a string gives a byte', '{{index "abc" 1}}', '98'],
    ['slice of a string and a slice', '{{slice "abcdef" 1 3}} {{slice (split "a,b,c" ",") 1}}', 'bc [b c]'],
    ['print spaces operands unless one is a string', '{{print 1 2 "a" "b" 3}}', '1 2ab3'],
    ['print of nil', '{{print nil}} {{print .missing}}', '<nil> <nil>', people],
    ['println', '{{println 1 "a"}}', '1 a\n'],
    ['printf with several verbs', '{{printf "%s=%d (%v)" "a" 1 true}}', 'a=1 (true)'],
    ['printf of a missing value', '{{printf "%v|%s" .missing .missing}}', '<nil>|%!s(<nil>)', people],
    ['html', '{{html "<a href=\\"x\\">&\'</a>"}}', '&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt;'],
    ['js', '{{js "it\'s <b>"}}', "it\\'s \\u003Cb\\u003E"],
    ['urlquery', '{{urlquery "a b&c=d/é"}}', 'a+b%26c%3Dd%2F%C3%A9'],
  ])

  it('index out of range is an error', () => {
    expect(renderError('{{index (split "a" ",") 5}}')).toMatch(/error calling index: index out of range: 5/)
  })

  it('len of an int is an error', () => {
    expect(renderError('{{len 3}}')).toMatch(/error calling len: len of type int/)
  })
})

describe('errors', () => {
  it('an unknown function is a parse error', () => {
    expect(() => render('ok\n{{nope 1}}')).toThrow('template: t:2: function "nope" not defined')
  })

  it('syntax errors name the line', () => {
    expect(() => render('{{if true}}x')).toThrow('template: t:1: unexpected EOF')
    expect(() => render('{{end}}')).toThrow('template: t:1: unexpected {{end}}')
    expect(() => render('{{.foo')).toThrow('template: t:1: unclosed action')
    expect(() => render('a\n{{/* x')).toThrow('template: t:2: unclosed comment')
    expect(() => render('{{"abc}}')).toThrow('unterminated quoted string')
    expect(() => render('{{3 | 4}}')).toThrow('non executable command in pipeline stage 2')
    expect(() => render('{{range}}{{end}}')).toThrow('missing value for range')
    expect(() => render('{{if true}}{{else}}{{else}}{{end}}')).toThrow('expected end; found {{else}}')
    expect(() => render('{{(1}}')).toThrow('unclosed left paren')
    expect(() => render('{{"x".y}}')).toThrow('unexpected . after term "\\"x\\""')
  })

  it('nil is not a command', () => {
    expect(renderError('{{nil}}')).toBe('template: t:1:2: executing "t" at <nil>: nil is not a command')
  })

  it('wrong argument counts and types', () => {
    expect(renderError('{{add 1}}')).toBe('template: t:1:2: executing "t" at <add>: wrong number of args for add: want 2 got 1')
    expect(renderError('{{add "1" 2}}')).toBe('template: t:1:6: executing "t" at <"1">: expected integer; found "1"')
    expect(renderError('{{toUpper 1}}')).toBe('template: t:1:10: executing "t" at <1>: expected string; found 1')
    expect(renderError('{{$d := json (getv "/test/data")}}{{add $d.port 1}}')).toMatch(/at <\$d.port>: wrong type for value; expected int; got float64/)
    expect(renderError('{{getv}}')).toMatch(/wrong number of args for getv: want at least 1 got 0/)
    expect(renderError('{{"x" 1}}')).toMatch(/can't give argument to non-function "x"/)
  })

  it('a function error names template, line, column and the call', () => {
    expect(renderError('a\nb {{getv "/missing/key"}}')).toBe(
      'template: t:2:4: executing "t" at <getv "/missing/key">: error calling getv: key does not exist: /missing/key',
    )
  })

  it('long contexts are cut at 20 characters', () => {
    expect(renderError('{{getv "/a/very/long/missing/key"}}')).toBe(
      'template: t:1:2: executing "t" at <getv "/a/very/long/m...>: error calling getv: key does not exist: /a/very/long/missing/key',
    )
  })

  it('execution errors are TemplateExecError', () => {
    expect(() => render('{{div 1 0}}')).toThrow(TemplateExecError)
  })
})

describe('missing values', () => {
  it("'default' prints <no value> as Go and confd do", () => {
    expect(render('{{$d := json "{}"}}[{{$d.port}}]')).toBe('[<no value>]')
  })

  it("'zero' prints nothing", () => {
    expect(render('{{$d := json "{}"}}[{{$d.port}}]', { missingKey: 'zero' })).toBe('[]')
  })

  it("'error' fails naming template, line and key, but tests still see false", () => {
    expect(renderError('x\n{{$d := json "{}"}}{{$d.port}}', { missingKey: 'error' })).toBe(
      'template: t:2:21: executing "t" at <{{$d.port}}>: map has no entry for key "port"',
    )
    expect(render('{{$d := json "{}"}}{{if $d.port}}y{{else}}n{{end}}{{with $d.port}}{{.}}{{end}}', { missingKey: 'error' })).toBe('n')
  })
})

describe('Template API', () => {
  it('executes named templates and reuses a parse', () => {
    const t = Template.parse('main', '{{define "a"}}A{{.}}{{end}}main')
    expect(t.execute(undefined)).toBe('main')
    expect(t.executeTemplate('a', 'x')).toBe('Ax')
    expect(t.executeTemplate('a', new GoMap('string', new Map()))).toBe('Amap[]')
  })

  it('user functions override builtins', () => {
    const t = Template.parse('t', '{{len "abc"}}', new Map([['len', { params: ['string'], call: () => 'mine' }]]))
    expect(t.execute(undefined)).toBe('mine')
  })
})
