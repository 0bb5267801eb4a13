import assert from 'node:assert/strict'
import {chmodSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {getSetting, listSettings, readConfigDocument, setSettings, settingPath, splitAssignments} from '../../../src/runtime/config-file.js'
import {resolveSettings} from '../../../src/runtime/settings.js'
import {podctlError, tempDir} from '../helpers.js'

const dir = tempDir()
let n = 0
const newFile = (text?: string): string => {
  const path = join(dir, `podctl-${n++}.yaml`)
  if (text !== undefined) writeFileSync(path, text)
  return path
}

describe('settingPath', () => {
  const good: [string, string[]][] = [
    ['root', ['root']],
    ['default-network.subnet', ['default-network', 'subnet']],
    ['default-network', ['default-network']],
    ['runtimes.kata.path', ['runtimes', 'kata', 'path']],
    ['runtimes.kata.args', ['runtimes', 'kata', 'args']],
    ['runtimes.kata', ['runtimes', 'kata']],
  ]
  for (const [key, path] of good) test(key, () => assert.deepEqual(settingPath(key), path))

  const bad: [string, string][] = [
    ['roots', 'unknown setting "roots" (did you mean "root"?)'],
    ['runroot', '(did you mean "run-root"?)'],
    ['default-network.subnt', 'unknown setting "default-network.subnt" (did you mean "default-network.subnet"?)'],
    ['default-network.subnet.x', 'unknown setting "default-network.subnet.x"'],
    ['runtimes.kata.arg', '(did you mean "runtimes.kata.args"?)'],
    ['runtimes.Kata.path', '"Kata" is not a valid handler name'],
    ['root.x', 'root has no nested settings'],
    ['zzzzzz', 'unknown setting "zzzzzz"'],
  ]
  for (const [key, needle] of bad) test(`refuses ${key}`, () => assert.throws(() => settingPath(key), podctlError(2, needle)))
})

describe('splitAssignments', () => {
  const cases: [string, string[]][] = [
    ['a=1', ['a=1']],
    ['a=1,b=2', ['a=1', 'b=2']],
    ['runtimes.x.args=[--a,--b],debug=true', ['runtimes.x.args=[--a,--b]', 'debug=true']],
    ['runtimes.x={path: /x, args: [--a]},timeout=', ['runtimes.x={path: /x, args: [--a]}', 'timeout=']],
  ]
  for (const [text, want] of cases) test(text, () => assert.deepEqual(splitAssignments(text), want))
})

describe('setSettings', () => {
  test('creates a missing file, and its directory', async () => {
    const file = join(dir, 'new', 'dir', 'podctl.yaml')
    await setSettings(file, ['default-network.subnet=10.200.0.0/16', 'timeout=30'])
    assert.equal(readFileSync(file, 'utf8'), 'default-network:\n  subnet: 10.200.0.0/16\ntimeout: 30\n')
    assert.equal(statSync(file).mode & 0o777, 0o644)
  })

  test('keeps other keys and comments, and the file mode', async () => {
    const file = newFile('# podctl settings\nroot: /srv/podctl # the big disk\n\ndebug: false\n')
    chmodSync(file, 0o600)
    await setSettings(file, ['debug=true,runtimes.dbg.path=/usr/sbin/runc', 'runtimes.dbg.args=[--debug, --log-level=debug]'])
    assert.equal(
      readFileSync(file, 'utf8'),
      '# podctl settings\nroot: /srv/podctl # the big disk\n\ndebug: true\nruntimes:\n  dbg:\n    path: /usr/sbin/runc\n    args: [ --debug, --log-level=debug ]\n',
    )
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual(resolveSettings({config: file}).runtimes.dbg, {path: '/usr/sbin/runc', args: ['--debug', '--log-level=debug']})
  })

  test('KEY= removes the key, and maps it leaves empty', async () => {
    const file = newFile('timeout: 2m\nruntimes:\n  dbg: {path: /x}\n')
    await setSettings(file, ['timeout=', 'runtimes.dbg='])
    assert.equal(readFileSync(file, 'utf8'), '')
    assert.equal(resolveSettings({config: file}).timeoutMs, 60_000)
  })

  test('a map or a list in flow form', async () => {
    const file = newFile()
    await setSettings(file, ['default-network={name: n1, bridge: br1}', 'runtimes.k={path: kata-runtime}'])
    const s = resolveSettings({config: file})
    assert.deepEqual(s.defaultNetwork, {name: 'n1', bridge: 'br1', subnet: '10.85.0.0/16'})
    assert.deepEqual(s.runtimes.k, {path: 'kata-runtime'})
  })

  const refused: [string, string[], string][] = [
    ['an unknown key', ['roots=/x'], 'unknown setting "roots" (did you mean "root"?)'],
    ['no =', ['root'], '--set "root": expected KEY=VALUE'],
    ['a relative path', ['root=var/lib'], 'root: "var/lib" must be an absolute path'],
    ['a bad duration', ['timeout=soon'], 'timeout: "soon" is not a duration'],
    ['a non-boolean debug', ['debug=yes'], '"debug": "yes" is not true or false'],
    ['an unknown default runtime', ['default-runtime=kata'], 'default-runtime: "kata" is not a runtime handler'],
    ['args that are not a list', ['runtimes.runc.args=--debug'], 'runtimes.runc.args: must be a list'],
    ['a runtime option podctl owns', ['runtimes.runc.args=[--root=/x]'], 'runtimes.runc.args[0]: podctl sets --root itself'],
    ['a systemd cgroup manager', ['runtimes.crun.args=[--cgroup-manager=systemd]'], 'podctl places pods with cgroupfs paths'],
    ['a long bridge name', ['default-network.bridge=averyveryverylongbridge'], 'default-network.bridge'],
    ['bad YAML in a list', ['runtimes.runc.args=[--a'], '"runtimes.runc.args": "[--a" is not a YAML value'],
  ]
  for (const [label, assignments, needle] of refused) {
    test(`refuses ${label} and leaves the file as it was`, async () => {
      const before = '# keep me\nroot: /srv/podctl\n'
      const file = newFile(before)
      await assert.rejects(setSettings(file, ['debug=true', ...assignments]), podctlError(2, needle))
      assert.equal(readFileSync(file, 'utf8'), before)
      assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [])
    })
  }

  test('errors in the resulting file name the file', async () => {
    const file = newFile()
    await assert.rejects(setSettings(file, ['cni-conf-dir=net.d']), podctlError(2, `config file "${file}": cni-conf-dir: "net.d" must be an absolute path`))
  })
})

describe('getSetting and listSettings', () => {
  const text =
    'root: /srv/podctl\ndefault-network: {subnet: 10.9.0.0/16}\nruntimes: {dbg: {path: /usr/sbin/runc, args: [--debug]}}\ntimeout: 90\nregistries: {docker.io: {mirrors: [http://127.0.0.1:5000]}, 10.0.0.5:5000: {insecure: true}}\n'

  test('get: the effective value, nested by dots, subtrees as objects', async () => {
    const file = newFile(text)
    const settings = resolveSettings({config: file, runRoot: '/flag/run'})
    const doc = await readConfigDocument(file)
    assert.equal(getSetting(settings, doc, 'root'), '/srv/podctl')
    assert.equal(getSetting(settings, doc, 'run-root'), '/flag/run')
    assert.equal(getSetting(settings, doc, 'default-network.subnet'), '10.9.0.0/16')
    assert.equal(getSetting(settings, doc, 'default-network.name'), 'podctl')
    assert.equal(getSetting(settings, doc, 'timeout'), '90s')
    assert.deepEqual(getSetting(settings, doc, 'runtimes.dbg'), {path: '/usr/sbin/runc', args: ['--debug']})
    assert.equal(getSetting(settings, doc, 'cni-bin-dir'), '/opt/cni/bin:/usr/lib/cni:/usr/libexec/cni')
    assert.deepEqual(getSetting(settings, doc, 'registries.docker.io.mirrors'), ['http://127.0.0.1:5000'])
    assert.equal(getSetting(settings, doc, 'registries.10.0.0.5:5000.insecure'), true)
    assert.equal(getSetting(settings, doc, 'pause-image'), '')
    assert.throws(() => getSetting(settings, doc, 'runtimes.dgb.path'), podctlError(2, 'no runtime handler "dgb" (did you mean "dbg"?)'))
  })

  test('list: every leaf, with where it came from', async () => {
    const file = newFile(text)
    const settings = resolveSettings({config: file, runRoot: '/flag/run', cniConfDir: '/env/net.d'})
    const sources: Record<string, 'flag' | 'env'> = {'run-root': 'flag', 'cni-conf-dir': 'env'}
    const entries = listSettings(settings, await readConfigDocument(file), (key) => sources[key])
    assert.deepEqual(entries, [
      {key: 'root', value: '/srv/podctl', source: 'file'},
      {key: 'run-root', value: '/flag/run', source: 'flag'},
      {key: 'cni-conf-dir', value: '/env/net.d', source: 'env'},
      {key: 'cni-bin-dir', value: '/opt/cni/bin:/usr/lib/cni:/usr/libexec/cni', source: 'default'},
      {key: 'default-runtime', value: 'runc', source: 'default'},
      {key: 'runtimes.runc.path', value: 'runc', source: 'default'},
      {key: 'runtimes.crun.path', value: 'crun', source: 'default'},
      {key: 'runtimes.dbg.path', value: '/usr/sbin/runc', source: 'file'},
      {key: 'runtimes.dbg.args', value: ['--debug'], source: 'file'},
      {key: 'default-network.name', value: 'podctl', source: 'default'},
      {key: 'default-network.bridge', value: 'podctl0', source: 'default'},
      {key: 'default-network.subnet', value: '10.9.0.0/16', source: 'file'},
      {key: 'cgroup-parent', value: '/podctl', source: 'default'},
      {key: 'seccomp-profile-root', value: '/var/lib/kubelet/seccomp', source: 'default'},
      {key: 'timeout', value: '90s', source: 'file'},
      {key: 'debug', value: false, source: 'default'},
      {key: 'runtime-endpoint', value: '', source: 'default'},
      {key: 'registries.docker.io.mirrors', value: ['http://127.0.0.1:5000'], source: 'file'},
      {key: 'registries.10.0.0.5:5000.insecure', value: true, source: 'file'},
      {key: 'pause-image', value: '', source: 'default'},
      {key: 'stream-listen', value: '127.0.0.1:0', source: 'default'},
      {key: 'stream-base-url', value: '', source: 'default'},
      {key: 'max-pods', value: 110, source: 'default'},
    ])
  })
})
