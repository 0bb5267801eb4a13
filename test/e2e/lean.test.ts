// The lean path (bin/run.js without oclif) and oclif's own must agree: same
// stdout, stderr and exit code for the same command line.

import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, TestEnv} from './harness.js'

describe('lean path parity', e2eOptions(), () => {
  let env: TestEnv
  let ids: string[]
  before(() => {
    env = new TestEnv(71)
    const hostNet = {linux: {security_context: {namespace_options: {network: 'NODE'}}}}
    ids = [env.runPod('lean-a', {...hostNet, labels: {app: 'x'}}), env.runPod('lean-b', hostNet)]
  })
  after(() => env.teardown())

  test('every verb gives the same output either way', () => {
    const lines: string[][] = [
      ['pods', '-q'],
      ['pods', '-o', 'json'],
      ['pods', '-o=yaml', '--label', 'app=x'],
      ['pods', '-v', '--no-trunc'],
      ['pods', '-qs', 'ready', '-n', '1'],
      ['pods', '--name', '^lean-b$', '-q'],
      ['pods', '-n', 'x'],
      ['pods', '--state', 'up'],
      ['inspectp', '-q', ids[0]],
      ['inspectp', '-o', 'table', '-q', ids[1].slice(0, 6)],
      ['inspectp', 'no-such-pod'],
      ['inspectp', '-q', '--namespace', 'default'],
      ['stopp', 'ffffffffffff'],
      ['rmp', 'ffffffffffff'],
      ['runp', env.podConfig('{"metadata": {}}', 'bad.json')],
      ['runp'],
      ['gc', '--dry-run'],
      ['config', '--list'],
      ['config', '--list', '-o', 'yaml', '--root', '/srv/podctl'],
      ['config', '--get', 'default-network.subnet'],
      ['config', '--get', 'default-network.subnt'],
      ['config'],
      ['config', '--set', 'bogus=1'],
      ['info'],
      ['info', '-o', 'yaml', '--cni-bin-dir', '/nonexistent'],
      ['version'],
      ['version', '-o', 'json'],
      ['runp', 'jsonschema'],
      ['runp', 'js'],
    ]
    for (const args of lines) {
      const lean = env.podctl(args)
      const oclif = env.podctl(args, {env: {PODCTL_NO_LEAN: '1'}})
      assert.deepEqual(lean, oclif, `podctl ${args.join(' ')}`)
    }
  })

  test('config --set writes the same file either way', () => {
    const files = ['lean', 'oclif'].map((how) => env.podConfig('# kept\nroot: /srv/podctl\n', `settings-${how}.yaml`))
    const set = ['--set', 'timeout=2m,runtimes.dbg.path=runc', '--set', 'runtimes.dbg.args=[--debug]']
    env.ok(['config', '-c', files[0], ...set])
    env.ok(['config', '-c', files[1], ...set], {env: {PODCTL_NO_LEAN: '1'}})
    assert.equal(readFileSync(files[0], 'utf8'), readFileSync(files[1], 'utf8'))
  })

  test('global flags before the verb, as crictl takes them, work on both paths', () => {
    const first = ['--root', env.root, '-D', 'pods', '-q']
    const after = ['pods', '-q', '--root', env.root, '-D']
    const want = env.podctl(after, {env: {PODCTL_ROOT: '/nonexistent'}})
    assert.equal(want.code, 0, want.stderr)
    assert.deepEqual(want.stdout.trim().split('\n').sort(), [...ids].sort())
    for (const extra of [{}, {PODCTL_NO_LEAN: '1'}] as Record<string, string>[]) {
      const got = env.podctl(first, {env: {PODCTL_ROOT: '/nonexistent', ...extra}})
      assert.equal(got.code, 0, got.stderr)
      assert.equal(got.stdout, want.stdout)
    }
  })

  test('help and unknown flags go to oclif', () => {
    const help = env.podctl(['pods', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^List pods\n\nUSAGE\n/)
    const bogus = env.podctl(['pods', '--bogus'])
    assert.equal(bogus.code, 2)
    assert.match(bogus.stderr, /Nonexistent flag: --bogus/)
  })
})
