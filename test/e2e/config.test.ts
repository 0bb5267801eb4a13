// podctl config on the real binary: --set writes the file (created if
// missing, comments kept, refused edits leave it as it was), --get and
// --list give the effective values and where each came from, and other verbs
// read what --set wrote.

import assert from 'node:assert/strict'
import {readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, type Result, TestEnv} from './harness.js'

/** A usage error: exit 2, one error line and one hint line, no stack trace. */
function assertUsageError(r: Result, needle: string): void {
  assert.equal(r.code, 2, `exit code; stderr: ${r.stderr}`)
  assert.equal(r.stdout, '')
  const lines = r.stderr.trimEnd().split('\n')
  assert.ok(lines[0].startsWith('error: ') && lines[0].includes(needle), `${JSON.stringify(lines[0])} names ${JSON.stringify(needle)}`)
  assert.ok(lines.length <= 2 && (lines[1] ?? 'hint: ').startsWith('hint: '), `no more than a hint: ${r.stderr}`)
}

describe('podctl config', e2eOptions(), () => {
  let env: TestEnv
  let file: string
  before(() => {
    env = new TestEnv(82)
    file = join(env.dir, 'etc', 'podctl', 'podctl.yaml')
  })
  after(() => env.teardown())

  test('--set creates the file and its directory; --get reads it back', () => {
    assert.equal(env.ok(['config', '-c', file, '--set', 'timeout=2m', '--set', 'default-network.subnet=10.231.82.0/24,runtimes.dbg.path=runc']), '')
    assert.equal(readFileSync(file, 'utf8'), 'timeout: 2m\ndefault-network:\n  subnet: 10.231.82.0/24\nruntimes:\n  dbg:\n    path: runc\n')
    assert.equal(env.ok(['config', '-c', file, '--get', 'timeout']), '2m\n')
    assert.equal(env.ok(['config', '-c', file, '--get', 'default-network.subnet']), '10.231.82.0/24\n')
    assert.equal(env.ok(['config', '-c', file, '--get', 'runtimes.dbg']), '{"path":"runc"}\n')
    // A setting with nothing in the file: its default.
    assert.equal(env.ok(['config', '-c', file, '--get', 'default-network.name']), 'podctl\n')
  })

  test('what --set wrote is what the other verbs use', () => {
    env.ok(['config', '-c', file, '--set', 'default-runtime=dbg'])
    const info = JSON.parse(env.ok(['info', '-c', file]))
    assert.equal(info.config.timeout, '2m')
    assert.equal(info.config['default-runtime'], 'dbg')
    assert.equal(info.runtime.handler, 'dbg')
    assert.match(info.runtime.path, /\/runc$/)
    env.ok(['config', '-c', file, '--set', 'default-runtime='])
  })

  test('--set keeps comments and the other keys; KEY= removes a key', () => {
    const commented = join(env.dir, 'commented.yaml')
    writeFileSync(commented, '# node-wide settings\nroot: /srv/podctl # the big disk\ndebug: false\n')
    env.ok(['config', '-c', commented, '--set', 'debug=', '--set', 'runtimes.runc.args=[--debug]'])
    assert.equal(readFileSync(commented, 'utf8'), '# node-wide settings\nroot: /srv/podctl # the big disk\nruntimes:\n  runc:\n    args: [ --debug ]\n')
    assert.equal(env.ok(['config', '-c', commented, '--get', 'runtimes.runc']), '{"path":"runc","args":["--debug"]}\n')
  })

  test('a refused --set names the key and leaves the file as it was', () => {
    const before = readFileSync(file, 'utf8')
    const refusals: [string, string][] = [
      ['roots=/x', 'unknown setting "roots" (did you mean "root"?)'],
      ['default-network.subnt=10.0.0.0/8', '(did you mean "default-network.subnet"?)'],
      ['root=relative/dir', `config file "${file}": root: "relative/dir" must be an absolute path`],
      ['timeout=soon', 'timeout: "soon" is not a duration'],
      ['default-runtime=kata', 'default-runtime: "kata" is not a runtime handler'],
      ['runtimes.dbg.args=[--root=/elsewhere]', 'runtimes.dbg.args[0]: podctl sets --root itself'],
      ['debug=yes', '"debug": "yes" is not true or false'],
      ['timeout', '--set "timeout": expected KEY=VALUE'],
    ]
    for (const [assignment, needle] of refusals) {
      assertUsageError(env.podctl(['config', '-c', file, '--set', 'debug=true', '--set', assignment]), needle)
      assert.equal(readFileSync(file, 'utf8'), before, assignment)
    }
    assert.deepEqual(readdirSync(join(env.dir, 'etc', 'podctl')), ['podctl.yaml'], 'no temp file left')
  })

  test('--list: every setting, its effective value, and where it came from', () => {
    // The env sets PODCTL_ROOT, PODCTL_RUN_ROOT, PODCTL_CNI_CONF_DIR and PODCTL_CONFIG; its file names the network.
    const entries = JSON.parse(env.ok(['config', '--list', '-o', 'json', '--root', join(env.dir, 'flag-root')], {env: {PODCTL_CNI_BIN_DIR: '', PODCTL_TIMEOUT: '45s'}}))
    const byKey = Object.fromEntries(entries.map((e: {key: string; value: unknown; source: string}) => [e.key, [e.value, e.source]]))
    assert.deepEqual(byKey.root, [join(env.dir, 'flag-root'), 'flag'])
    assert.deepEqual(byKey['run-root'], [env.runRoot, 'env'])
    assert.deepEqual(byKey.timeout, ['45s', 'env'])
    assert.deepEqual(byKey['default-network.name'], [env.network, 'file'])
    assert.deepEqual(byKey['default-network.bridge'], [env.bridge, 'file'])
    assert.deepEqual(byKey['default-runtime'], ['runc', 'default'])
    assert.deepEqual(byKey.debug, [false, 'default'])
    const table = env.ok(['config', '--list'])
    assert.match(table, /^KEY\s+VALUE\s+SOURCE\n/)
    assert.match(table, new RegExp(`\\nroot\\s+${env.root}\\s+env\\n`))
  })

  test('command-line mistakes: exit 2 with one line', () => {
    assertUsageError(env.podctl(['config']), 'one of --get, --set or --list is required')
    assertUsageError(env.podctl(['config', '--get', 'root', '--list']), 'cannot be combined')
    assertUsageError(env.podctl(['config', '--get', 'cni-bin-dirs']), 'unknown setting "cni-bin-dirs" (did you mean "cni-bin-dir"?)')
    assertUsageError(env.podctl(['config', '-c', file, '--get', 'runtimes.gbd.path']), 'no runtime handler "gbd" (did you mean "dbg"?)')
  })

  test('a config file with an unknown key is an error naming it, for every verb', () => {
    const broken = join(env.dir, 'broken.yaml')
    writeFileSync(broken, 'root: /srv/podctl\ndefualt-runtime: crun\n')
    for (const args of [['config', '--list'], ['info'], ['pods']]) {
      assertUsageError(env.podctl([...args, '-c', broken]), `config file "${broken}": defualt-runtime: unknown setting (did you mean "default-runtime"?)`)
    }
  })
})
