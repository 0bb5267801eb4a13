import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {compileTemplate} from '../../../src/render/template.js'
import {podctlError} from '../helpers.js'

// Shaped like inspectp's and pods' JSON output.
const pod = {
  status: {
    id: 'f84dd361f8dc5',
    metadata: {name: 'web', namespace: 'default', uid: 'u1', attempt: 0},
    state: 'SANDBOX_READY',
    network: {ip: '10.88.0.5', additionalIps: [{ip: 'fd00::5'}]},
    labels: {app: 'web', tier: 'front'},
    annotations: {},
  },
  info: {pid: 1234, netns: null},
}
const list = {
  items: [
    {id: 'aaa', metadata: {name: 'one', namespace: 'a'}, state: 'SANDBOX_READY'},
    {id: 'bbb', metadata: {name: 'two', namespace: 'b'}, state: 'SANDBOX_NOTREADY'},
  ],
}

describe('go templates: what they print', () => {
  const cases: {name: string; tmpl: string; data?: unknown; want: string}[] = [
    {name: 'plain text', tmpl: 'hello', want: 'hello'},
    {name: 'the example of crictl', tmpl: '{{.status.network.ip}}', want: '10.88.0.5'},
    {name: 'chained fields with spaces', tmpl: '{{ .status.metadata.name }}', want: 'web'},
    {name: 'a number', tmpl: '{{.info.pid}}', want: '1234'},
    {name: 'nil prints <no value>', tmpl: '{{.info.netns}}', want: '<no value>'},
    {name: 'a map as Go prints it', tmpl: '{{.status.labels}}', want: 'map[app:web tier:front]'},
    {name: 'an array as Go prints it', tmpl: '{{.status.network.additionalIps}}', want: '[map[ip:fd00::5]]'},
    {name: 'dot', tmpl: '{{.}}', data: 'x', want: 'x'},
    {name: 'index on a map', tmpl: '{{index .status.labels "app"}}', want: 'web'},
    {name: 'index of a missing key is nil, as in Go', tmpl: '{{index .status.labels "nope"}}|{{if index .status.labels "nope"}}y{{else}}n{{end}}', want: '<no value>|n'},
    {name: 'index on an array, nested', tmpl: '{{index .items 1 "id"}}', data: list, want: 'bbb'},
    {name: 'field of a parenthesized value', tmpl: '{{(index .items 0).metadata.name}}', data: list, want: 'one'},
    {name: 'range over items', tmpl: '{{range .items}}{{.id}} {{end}}', data: list, want: 'aaa bbb '},
    {name: 'range with $i, $v', tmpl: '{{range $i, $p := .items}}{{$i}}={{$p.metadata.name}};{{end}}', data: list, want: '0=one;1=two;'},
    {name: 'range with $v', tmpl: '{{range $p := .items}}{{$p.id}}{{end}}', data: list, want: 'aaabbb'},
    {name: 'range over a map: sorted keys', tmpl: '{{range $k, $v := .status.labels}}{{$k}}={{$v}},{{end}}', want: 'app=web,tier=front,'},
    {name: 'range else on empty', tmpl: '{{range .items}}x{{else}}none{{end}}', data: {items: []}, want: 'none'},
    {name: '$ inside range', tmpl: '{{range .items}}{{$.tag}}{{.id}} {{end}}', data: {...list, tag: '#'}, want: '#aaa #bbb '},
    {name: 'if true', tmpl: '{{if .status.network.ip}}has ip{{end}}', want: 'has ip'},
    {name: 'if else', tmpl: '{{if .status.annotations}}a{{else}}none{{end}}', want: 'none'},
    {name: 'else if', tmpl: '{{if eq .n 1}}one{{else if eq .n 2}}two{{else}}many{{end}}', data: {n: 2}, want: 'two'},
    {name: 'else if falls to else', tmpl: '{{if eq .n 1}}one{{else if eq .n 2}}two{{else}}many{{end}}', data: {n: 5}, want: 'many'},
    {name: 'with sets dot', tmpl: '{{with .status.metadata}}{{.namespace}}/{{.name}}{{end}}', want: 'default/web'},
    {name: 'with else', tmpl: '{{with .status.annotations}}x{{else}}empty{{end}}', want: 'empty'},
    {name: 'eq with several', tmpl: '{{eq .status.state "SANDBOX_NOTREADY" "SANDBOX_READY"}}', want: 'true'},
    {name: 'ne', tmpl: '{{ne .status.metadata.name "web"}}', want: 'false'},
    {name: 'lt/gt on numbers', tmpl: '{{lt 1 2}} {{gt .info.pid 2000}} {{le 2 2}} {{ge 1 2}}', want: 'true false true false'},
    {name: 'lt on strings', tmpl: '{{lt "a" "b"}}', want: 'true'},
    {name: 'and/or return the deciding value', tmpl: '{{and 1 0 2}} {{or 0 "" "x"}} {{and 1 2}}', want: '0 x 2'},
    {name: 'not', tmpl: '{{not .status.annotations}}', want: 'true'},
    {name: 'and is lazy', tmpl: '{{if and .status.labels (index .status.labels "app")}}y{{end}}', want: 'y'},
    {name: 'len', tmpl: '{{len .items}} {{len "héllo"}} {{len .m}}', data: {items: [1, 2], m: {a: 1}}, want: '2 6 1'},
    {name: 'printf', tmpl: '{{printf "%s:%d %5s|%-4s|%q %v %t %05.2f %x %%" "a" 7 "r" "l" "q" .m true 3.14159 255}}', data: {m: [1]}, want: 'a:7     r|l   |"q" [1] true 03.14 ff %'},
    {name: 'printf missing and extra', tmpl: '{{printf "%s %s" "a"}}|{{printf "x" 1}}', want: 'a %!s(MISSING)|x%!(EXTRA int=1)'},
    {name: 'print and println', tmpl: '{{print "a" 1 2 "b"}}{{println "z" 3}}', want: 'a1 2bz 3\n'},
    {name: 'json', tmpl: '{{json .status.labels}} {{json .status.network.additionalIps}}', want: '{"app":"web","tier":"front"} [{"ip":"fd00::5"}]'},
    {name: 'lower upper title', tmpl: '{{lower "AbC"}} {{upper .status.state}} {{title "hello big world"}}', want: 'abc SANDBOX_READY Hello Big World'},
    {name: 'pipes', tmpl: '{{.status.metadata.name | upper | printf "<%s>"}}', want: '<WEB>'},
    {name: 'variables and assignment', tmpl: '{{$n := 0}}{{range .items}}{{$n = .id}}{{end}}{{$n}}', data: list, want: 'bbb'},
    {name: 'if with declaration', tmpl: '{{if $ip := .status.network.ip}}{{$ip}}{{end}}', want: '10.88.0.5'},
    {name: 'comment', tmpl: 'a{{/* note */}}b', want: 'ab'},
    {name: 'trim markers', tmpl: 'x  \n {{- .status.metadata.name -}} \n  y', want: 'xweby'},
    {name: 'trim in a range, one per line', tmpl: '{{range .items -}}\n{{.id}}\n{{end -}}', data: list, want: 'aaa\nbbb\n'},
    {name: 'a minus number is not a trim', tmpl: '{{-3}}', want: '-3'},
    {name: 'string escapes and raw strings', tmpl: '{{"a\\tb"}}{{`c\\n`}}', want: 'a\tbc\\n'},
    {name: 'literals', tmpl: '{{true}} {{nil}} {{1.5}}', want: 'true <no value> 1.5'},
    {name: 'multi-line template', tmpl: 'id: {{.status.id}}\nip: {{.status.network.ip}}\n', want: 'id: f84dd361f8dc5\nip: 10.88.0.5\n'},
  ]
  for (const c of cases) {
    test(c.name, () => assert.equal(compileTemplate(c.tmpl).execute(c.data === undefined ? pod : c.data), c.want))
  }
})

describe('go templates: bad templates are usage errors naming the position', () => {
  // [template, line:col, words of the message]
  const cases: [string, string, string][] = [
    ['{{.a', '1:1', 'unclosed action'],
    ['{{.a}', '1:5', 'unexpected "}"'],
    ['ab\n  {{if .x}}y', '2:5', 'no {{end}}'],
    ['{{end}}', '1:3', 'unexpected {{end}}'],
    ['{{else}}', '1:3', 'unexpected {{else}}'],
    ['{{if .a}}{{else}}{{else}}{{end}}', '1:20', '{{else}} after {{else}}'],
    ['{{nosuch .a}}', '1:3', 'function "nosuch" not defined'],
    ['{{.a .b}}', '1:6', 'not a function'],
    ['{{"abc}}', '1:3', 'unterminated quoted string'],
    ['{{.a | }}', '1:6', 'missing command after |'],
    ['{{}}', '1:1', 'missing value for command'],
    ['{{(.a}}', '1:3', 'unclosed left paren'],
    ['{{$x}}', '1:3', 'undefined variable "$x"'],
    ['{{$x = 1}}', '1:3', 'undefined variable "$x"'],
    ['{{range $i, $v := .a}}{{end}}{{$v}}', '1:32', 'undefined variable "$v"'],
    ['{{template "x"}}', '1:3', 'not supported'],
    ['{{if}}{{end}}', '1:3', 'missing value for if'],
    ['{{/* open', '1:3', 'unclosed comment'],
    ['{{.a ! .b}}', '1:6', 'unexpected "!"'],
    ['{{end x}}', '1:3', 'unexpected {{end}}'],
  ]
  for (const [tmpl, pos, words] of cases) {
    test(JSON.stringify(tmpl), () => assert.throws(() => compileTemplate(tmpl), podctlError(2, `template: ${pos}:`, words)))
  }
})

describe('go templates: execution errors are usage errors naming the position', () => {
  const cases: [string, string, string][] = [
    ['{{.status.nosuch}}', '1:3', 'map has no entry for key "nosuch"'],
    ['x\n{{.info.netns.path}}', '2:3', 'nil pointer evaluating .path'],
    ['{{.status.id.x}}', '1:3', "can't evaluate field x in type string"],
    ['{{index .status.network.additionalIps 3}}', '1:3', 'index out of range: 3'],
    ['{{lt 1 "a"}}', '1:3', 'incompatible types for comparison'],
    ['{{len 3}}', '1:3', 'error calling len'],
    ['{{not}}', '1:3', 'wrong number of args for not: want 1 got 0'],
    ['{{upper 3}}', '1:3', 'expected string; got int'],
    ['{{range .info.pid}}{{end}}', '1:3', "range can't iterate over 1234"],
    ['{{.status.id | .status.id}}', '1:16', "can't give argument to non-function"],
  ]
  for (const [tmpl, pos, words] of cases) {
    test(JSON.stringify(tmpl), () => assert.throws(() => compileTemplate(tmpl).execute(pod), podctlError(2, `template: ${pos}:`, words)))
  }
})
