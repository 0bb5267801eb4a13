// pods and inspectp: filters, output shapes and ID prefixes, on real pods.

import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {parse as parseYaml} from 'yaml'

import {e2eOptions, TestEnv} from './harness.js'

describe('listing and inspecting pods', e2eOptions(), () => {
  let env: TestEnv
  const ids: Record<string, string> = {}
  before(() => {
    env = new TestEnv(21)
    // Host network keeps these quick; the filters do not care about the network.
    const hostNet = {linux: {security_context: {namespace_options: {network: 'NODE'}}}}
    ids.alpha = env.runPod('alpha', {...hostNet, labels: {app: 'web', env: 'prod'}}, 'team-a')
    ids.alpha2 = env.runPod('alpha2', {...hostNet, labels: {app: 'web', env: 'dev'}}, 'team-a')
    ids.beta = env.runPod('beta', {...hostNet, labels: {app: 'db'}}, 'team-b')
    env.ok(['stopp', ids.beta])
  })
  after(() => env.teardown())

  const quiet = (...args: string[]) => env.ok(['pods', '-q', ...args]).split('\n').filter(Boolean)

  test('pods lists newest first; -q prints full IDs only', () => {
    assert.deepEqual(quiet(), [ids.beta, ids.alpha2, ids.alpha])
  })

  test('filters: --name and --namespace are unanchored regexes, --label ANDs, --state, --id prefix', () => {
    assert.deepEqual(quiet('--name', 'alpha'), [ids.alpha2, ids.alpha])
    assert.deepEqual(quiet('--name', '^alpha$'), [ids.alpha])
    assert.deepEqual(quiet('--namespace', 'team-b'), [ids.beta])
    assert.deepEqual(quiet('--label', 'app=web', '--label', 'env=prod'), [ids.alpha])
    assert.deepEqual(quiet('--state', 'NotReady'), [ids.beta])
    assert.deepEqual(quiet('-s', 'ready'), [ids.alpha2, ids.alpha])
    assert.deepEqual(quiet('--id', ids.alpha.slice(0, 10)), [ids.alpha])
    assert.deepEqual(quiet('--id', 'fffffffffffffff'), [])
    assert.deepEqual(quiet('--latest'), [ids.beta])
    assert.deepEqual(quiet('-n', '2'), [ids.beta, ids.alpha2])
  })

  test('bad filter values are usage errors', () => {
    const state = env.podctl(['pods', '--state', 'running'])
    assert.equal(state.code, 2)
    assert.match(state.stderr, /--state should be ready or notready/)
    const label = env.podctl(['pods', '--label', 'novalue'])
    assert.equal(label.code, 2)
    assert.match(label.stderr, /incorrectly specified label: novalue/)
    const format = env.podctl(['pods', '-o', 'xml'])
    assert.equal(format.code, 2)
    assert.doesNotMatch(format.stderr, /\n\s+at /, 'no stack trace')
  })

  test('table: 13-character IDs unless --no-trunc; NotReady shown', () => {
    const lines = env.ok(['pods']).trimEnd().split('\n')
    assert.equal(lines.length, 4)
    assert.match(lines[1], new RegExp(`^${ids.beta.slice(0, 13)}\\s{3,}`))
    assert.match(lines[1], /\sNotReady\s+beta\s+team-b\s+0\s+\(default\)$/)
    assert.equal(lines[0].indexOf('CREATED'), 20, 'columns are at least 20 wide, as crictl')
    const full = env.ok(['pods', '--no-trunc']).split('\n')[1]
    assert.ok(full.startsWith(ids.beta + '   '))
  })

  test('-o json gives {"items": [...]} with CRI keys; -o yaml the same', () => {
    const json = JSON.parse(env.ok(['pods', '-o', 'json']))
    assert.deepEqual(Object.keys(json), ['items'])
    assert.equal(json.items.length, 3)
    const alpha = json.items.find((p: {id: string}) => p.id === ids.alpha)
    assert.deepEqual(Object.keys(alpha), ['id', 'metadata', 'state', 'createdAt', 'labels', 'annotations', 'runtimeHandler'])
    assert.equal(alpha.state, 'SANDBOX_READY')
    assert.deepEqual(alpha.labels, {app: 'web', env: 'prod'})
    assert.equal(alpha.metadata.namespace, 'team-a')
    assert.deepEqual(parseYaml(env.ok(['pods', '-o', 'yaml'])), json)
  })

  test('-v prints a block per pod', () => {
    const text = env.ok(['pods', '-v', '--id', ids.alpha])
    assert.match(text, new RegExp(`^ID: ${ids.alpha}\nName: alpha\nUID: [0-9a-f-]{36}\nNamespace: team-a\nStatus: Ready\nCreated: .+ \\+0000 UTC\nLabels:\n\tapp -> web\n\tenv -> prod\nRuntime: \\(default\\)\n$`))
  })

  test('inspectp: one ID an object, several an array; -q drops info; filters without IDs', () => {
    const one = JSON.parse(env.ok(['inspectp', ids.alpha]))
    assert.deepEqual(Object.keys(one), ['status', 'info'])
    const many = JSON.parse(env.ok(['inspectp', ids.alpha, ids.beta]))
    assert.ok(Array.isArray(many))
    assert.deepEqual(many.map((s: {status: {id: string}}) => s.status.id), [ids.alpha, ids.beta])
    const q = JSON.parse(env.ok(['inspectp', '-q', ids.alpha]))
    assert.deepEqual(Object.keys(q), ['status'])
    const filtered = JSON.parse(env.ok(['inspectp', '-q', '--namespace', 'team-a']))
    assert.deepEqual(filtered.map((s: {status: {id: string}}) => s.status.id), [ids.alpha2, ids.alpha])
    assert.equal(parseYaml(env.ok(['inspectp', '-o', 'yaml', '-q', ids.beta])).status.state, 'SANDBOX_NOTREADY')
    const table = env.ok(['inspectp', '-o', 'table', '-q', ids.alpha])
    assert.match(table, new RegExp(`^ID: ${ids.alpha}\nName: alpha\nUID: .+\nNamespace: team-a\nAttempt: 0\nStatus: SANDBOX_READY\nCreated: .+\nLabels:\n\tapp -> web\n\tenv -> prod\n$`))
    const none = env.podctl(['inspectp', '--name', 'nothing-matches'])
    assert.equal(none.code, 2)
    assert.match(none.stderr, /nothing found per filter/)
  })

  test('IDs by unique prefix or by name; an ambiguous prefix lists the matches', () => {
    assert.equal(JSON.parse(env.ok(['inspectp', '-q', ids.alpha.slice(0, 5)])).status.id, ids.alpha)
    assert.equal(JSON.parse(env.ok(['inspectp', '-q', 'alpha2'])).status.id, ids.alpha2)
    // Run pods until two IDs share a first hex digit (at most 17: pigeonhole).
    const all = Object.values(ids)
    const extra: string[] = []
    const clash = () => all.concat(extra).find((a, i, arr) => arr.some((b, j) => j !== i && b[0] === a[0]))
    while (!clash()) extra.push(env.runPod(`extra${extra.length}`, {linux: {security_context: {namespace_options: {network: 2}}}}))
    const prefix = clash()![0]
    const r = env.podctl(['inspectp', prefix])
    assert.equal(r.code, 2)
    assert.match(r.stderr, new RegExp(`pod ID prefix "${prefix}" is ambiguous: it matches \\d+ pods: ${prefix}[0-9a-f]{12}, ${prefix}`))
    const unknown = env.podctl(['inspectp', 'no-such-pod'])
    assert.equal(unknown.code, 3)
    assert.match(unknown.stderr, /pod "no-such-pod" not found/)
    for (const id of extra) env.ok(['rmp', '-f', id])
  })

  test('rmp -a removes every pod and reports each', () => {
    const out = env.ok(['rmp', '-af'])
    for (const id of Object.values(ids)) assert.match(out, new RegExp(`Removed sandbox ${id}`))
    assert.equal(env.ok(['pods', '-q']), '')
    const empty = env.podctl(['rmp', '-a'])
    assert.equal(empty.code, 0)
    assert.match(empty.stderr, /No pods to remove/)
    env.assertNoLeaks()
  })
})
