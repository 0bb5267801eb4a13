import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {podFilter, type PodFilterFlagValues} from '../../../src/flags/filter.js'
import {podctlError} from '../helpers.js'

describe('podFilter', () => {
  test('no flags: no filter, all pods', () => {
    assert.deepEqual(podFilter({}), {id: undefined, name: undefined, namespace: undefined, state: undefined, labelSelector: undefined, last: 0})
  })

  const states: [string, string][] = [
    ['ready', 'SANDBOX_READY'],
    ['Ready', 'SANDBOX_READY'],
    ['NOTREADY', 'SANDBOX_NOTREADY'],
    ['notready', 'SANDBOX_NOTREADY'],
  ]
  for (const [state, want] of states) test(`--state ${state} -> ${want}`, () => assert.equal(podFilter({state}).state, want))

  const labels: [string[], Record<string, string> | undefined][] = [
    [[], undefined],
    [['app=web'], {app: 'web'}],
    [['app=web', 'tier=db'], {app: 'web', tier: 'db'}],
    [['app='], {app: ''}],
    [['app=a', 'app=b'], {app: 'b'}],
  ]
  for (const [label, want] of labels) test(`--label ${JSON.stringify(label)}`, () => assert.deepEqual(podFilter({label}).labelSelector, want))

  const last: [PodFilterFlagValues, number][] = [
    [{latest: true}, 1],
    [{last: 3}, 3],
    [{last: 3, latest: true}, 3],
    [{last: 0, latest: true}, 1],
    [{last: 0}, 0],
  ]
  for (const [flags, want] of last) test(`${JSON.stringify(flags)} -> last ${want}`, () => assert.equal(podFilter(flags).last, want))

  test('--name and --namespace are unanchored regular expressions; --id passes through', () => {
    const f = podFilter({name: 'web-\\d+', namespace: 'kube', id: '3f2a'})
    assert.ok(f.name instanceof RegExp && f.namespace instanceof RegExp)
    assert.ok(f.name.test('my-web-12'))
    assert.ok(!f.name.test('web-x'))
    assert.ok(f.namespace.test('kube-system'))
    assert.equal(f.id, '3f2a')
  })

  test('--name-exact and --namespace-exact are plain strings, matched whole by the runtime', () => {
    const f = podFilter({'name-exact': 'web.1', 'namespace-exact': 'default'})
    assert.equal(f.name, 'web.1')
    assert.equal(f.namespace, 'default')
  })

  const bad: [string, PodFilterFlagValues, string][] = [
    ['--name with --name-exact', {name: 'a', 'name-exact': 'a'}, '--name and --name-exact cannot be used together'],
    ['--namespace with --namespace-exact', {namespace: 'a', 'namespace-exact': 'a'}, '--namespace and --namespace-exact cannot be used together'],
    ['an unknown state', {state: 'running'}, '--state should be ready or notready'],
    ['an empty state', {state: ''}, '--state should be ready or notready'],
    ['a label without =', {label: ['x']}, 'incorrectly specified label: x'],
    ['a label with two =', {label: ['a=b=c']}, 'incorrectly specified label: a=b=c'],
    ['a label without key', {label: ['=v']}, 'incorrectly specified label: =v'],
    ['one bad label among good ones', {label: ['a=b', 'oops']}, 'incorrectly specified label: oops'],
    ['a bad --name regex', {name: '(web'}, '--name: "(web" is not a valid regular expression'],
    ['a bad --namespace regex', {namespace: '[a-'}, '--namespace: "[a-" is not a valid regular expression'],
  ]
  for (const [label, flags, needle] of bad) test(`refuses ${label}`, () => assert.throws(() => podFilter(flags), podctlError(2, needle)))
})
