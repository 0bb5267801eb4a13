import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {parse} from 'yaml'

import {parseSimpleYaml} from '../../../src/runtime/yaml-lite.js'

describe('parseSimpleYaml', () => {
  // Each document in the subset must read exactly as the yaml package reads it.
  const simple = [
    '',
    '# only a comment\n',
    '---\nroot: /var/lib/podctl\n',
    'root: /r\nrun-root: /run/x # a comment\ntimeout: 30s\ndebug: true\n',
    'default-network:\n  name: pbench\n  bridge: pbench0\n  subnet: 10.232.0.0/16\n',
    'runtimes:\n  runc:\n    path: /usr/sbin/runc\n    args:\n      - --debug\n      - "--log-level"\n  crun: {}\n',
    'args:\n- a\n- b\nnext: 1\n',
    'list:\n  - name: a\n    port: 80\n  - name: b\n    hostPort: -1\n  -\n    name: c\n',
    'q: \'it\'\'s # not a comment\'\nd: "a # b" # c\nempty: ""\n',
    'n: ~\nm: null\nk:\nb: [] \nf: False\nt: TRUE\ny: yes\nz: 007\nneg: -12\nplus: +5\n',
    'url: http://example.com/a#b\ncolon: a:b\ndash: -x\nkey.with/slash: v\n',
    'a:\n  b:\n    c: 1\n  d: 2\ne: 3\r\nf: 4\r\n',
    '- 1\n- two\n- three: 3\n',
  ]
  for (const text of simple) {
    test(`reads ${JSON.stringify(text).slice(0, 60)} as yaml does`, () => {
      const fast = parseSimpleYaml(text)
      assert.ok(fast, 'in the subset')
      assert.deepEqual(fast.value, parse(text, {uniqueKeys: true}) ?? null)
    })
  }

  // Outside the subset: the caller falls back to the full parser.
  const other = [
    'a: 1\na: 2\n',
    'a: {b: 1}\n',
    'a: [1, 2]\n',
    'a: &x 1\nb: *x\n',
    'a: !!str 1\n',
    'a: |\n  text\n',
    'a: >\n  text\n',
    'a: multi\n  line\n',
    'a: "esc\\n"\n',
    'a:\tb\n',
    '---\na: 1\n---\nb: 2\n',
    '%YAML 1.2\n---\na: 1\n',
    'a: 1.5\n',
    'a: 1e3\n',
    'a: 0x1f\n',
    'a: .inf\n',
    'a: 12345678901234567890\n',
    '"quoted key": 1\n',
    'a: b: c\n',
    'a:\n  b: 1\n c: 2\n',
    'a: 1\n  b: 2\n',
    '__proto__: 1\n',
    'just a scalar\n',
    '- - nested\n',
    'a: "unterminated\n',
    'a: "x" y\n',
  ]
  for (const text of other) {
    test(`leaves ${JSON.stringify(text).slice(0, 60)} to the full parser`, () => {
      assert.equal(parseSimpleYaml(text), undefined)
    })
  }
})
