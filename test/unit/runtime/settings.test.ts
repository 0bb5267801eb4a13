import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {builtinDefaults, checkSettingsText, effectiveConfig, formatDuration, parseDuration, resolveSettings, type SettingsOverrides} from '../../../src/runtime/settings.js'
import {podctlError, tempDir} from '../helpers.js'

const dir = tempDir()
let n = 0
/** A config file with this YAML text. */
function configFile(text: string): string {
  const path = join(dir, `podctl-${n++}.yaml`)
  writeFileSync(path, text)
  return path
}

describe('resolveSettings', () => {
  test('an empty config file gives the built-in defaults', () => {
    const config = configFile('')
    assert.deepEqual(resolveSettings({config}), {...builtinDefaults, configFile: config})
  })

  const fileText = `
root: /file/root
run-root: /file/run
cni-conf-dir: /file/net.d
cni-bin-dir: /file/bin:/file/bin2
default-runtime: crun
runtimes: {kata: {path: /usr/bin/kata-runtime}, runc: {path: /usr/local/sbin/runc}}
default-network: {subnet: 10.99.0.0/16}
cgroup-parent: kubepods-burstable.slice
timeout: 30s
debug: true
`
  const precedence: [string, SettingsOverrides, Record<string, unknown>][] = [
    [
      'the file beats the defaults',
      {},
      {
        root: '/file/root',
        runRoot: '/file/run',
        cniConfDir: '/file/net.d',
        cniBinDirs: ['/file/bin', '/file/bin2'],
        defaultRuntime: 'crun',
        cgroupParent: 'kubepods-burstable.slice',
        timeoutMs: 30_000,
        debug: true,
      },
    ],
    [
      'overrides beat the file',
      {root: '/flag/root', runRoot: '/flag/run', cniConfDir: '/flag/net.d', cniBinDir: '/flag/bin', timeout: '2m', debug: false},
      {root: '/flag/root', runRoot: '/flag/run', cniConfDir: '/flag/net.d', cniBinDirs: ['/flag/bin'], timeoutMs: 120_000, debug: false},
    ],
    ['trailing slashes are dropped', {root: '/flag/root//', runRoot: '/'}, {root: '/flag/root', runRoot: '/'}],
  ]
  for (const [label, overrides, want] of precedence) {
    test(label, () => {
      const config = configFile(fileText)
      const got = resolveSettings({...overrides, config}) as unknown as Record<string, unknown>
      for (const [key, value] of Object.entries(want)) assert.deepEqual(got[key], value, key)
      assert.equal(got.configFile, config)
    })
  }

  test('runtimes and default-network merge over the defaults', () => {
    const s = resolveSettings({config: configFile(fileText)})
    assert.deepEqual(s.runtimes, {runc: {path: '/usr/local/sbin/runc'}, crun: {path: 'crun'}, kata: {path: '/usr/bin/kata-runtime'}})
    assert.deepEqual(s.defaultNetwork, {name: 'podctl', bridge: 'podctl0', subnet: '10.99.0.0/16'})
  })

  test('a handler maps to a binary and its global options; a built-in one keeps its path', () => {
    const s = resolveSettings({config: configFile('default-runtime: dbg\nruntimes:\n  dbg: {path: /usr/sbin/runc, args: [--debug, --log-level=debug]}\n  crun: {args: [--cgroup-manager=cgroupfs]}\n')})
    assert.equal(s.defaultRuntime, 'dbg')
    assert.deepEqual(s.runtimes.dbg, {path: '/usr/sbin/runc', args: ['--debug', '--log-level=debug']})
    assert.deepEqual(s.runtimes.crun, {path: 'crun', args: ['--cgroup-manager=cgroupfs']})
  })

  test('checkSettingsText checks text as a load would, naming the file', () => {
    checkSettingsText('root: /x\n', '/etc/podctl/podctl.yaml')
    assert.throws(() => checkSettingsText('root: x\n', '/etc/podctl/podctl.yaml'), podctlError(2, 'config file "/etc/podctl/podctl.yaml": root: "x" must be an absolute path'))
  })

  test('max-pods: the kubelet\'s 110 by default, or the file\'s', () => {
    assert.equal(resolveSettings({config: configFile('')}).maxPods, 110)
    assert.equal(resolveSettings({config: configFile('max-pods: 3\n')}).maxPods, 3)
  })

  test('a bare number of seconds in the file', () => {
    assert.equal(resolveSettings({config: configFile('timeout: 15\n')}).timeoutMs, 15_000)
  })

  const bad: [string, string, SettingsOverrides, string][] = [
    ['an unknown key', 'root: /x\nstate-dir: /y\n', {}, 'state-dir: unknown setting'],
    ['a camelCase key', 'runRoot: /y\n', {}, 'runRoot: unknown setting'],
    ['invalid YAML', 'root: [\n', {}, 'is not valid YAML'],
    ['a list document', '- root\n', {}, 'must be a map of settings'],
    ['a numeric root', 'root: 5\n', {}, 'root: must be a non-empty string'],
    ['an empty root', 'root: ""\n', {}, 'root: must be a non-empty string'],
    ['a string debug', 'debug: "yes"\n', {}, 'debug: must be true or false'],
    ['a list timeout', 'timeout: [1]\n', {}, 'timeout: must be a duration'],
    ['a bad timeout in the file', 'timeout: soon\n', {}, '"soon" is not a duration'],
    ['a new runtime without path', 'runtimes: {kata: {args: [--debug]}}\n', {}, 'runtimes.kata: must be a map with "path"'],
    ['a misspelt top-level key', 'defualt-runtime: crun\n', {}, 'defualt-runtime: unknown setting (did you mean "default-runtime"?)'],
    ['a misspelt handler key', 'runtimes: {runc: {pth: /x}}\n', {}, 'runtimes.runc.pth: unknown setting (did you mean "path"?)'],
    ['a misspelt network key', 'default-network: {subnett: 10.1.0.0/16}\n', {}, 'default-network.subnett: unknown setting (did you mean "subnet"?)'],
    ['a default runtime with no handler', 'default-runtime: kata\n', {}, 'default-runtime: "kata" is not a runtime handler'],
    ['a misspelt default runtime', 'default-runtime: rnuc\n', {}, '"rnuc" is not a runtime handler (did you mean "runc"?)'],
    ['args as a string', 'runtimes: {runc: {args: --debug}}\n', {}, 'runtimes.runc.args: must be a list'],
    ['an arg that is not an option', 'runtimes: {runc: {args: [debug]}}\n', {}, 'runtimes.runc.args[0]: "debug" is not an option'],
    ['an arg podctl sets', 'runtimes: {runc: {args: ["--log=/tmp/x"]}}\n', {}, 'runtimes.runc.args[0]: podctl sets --log itself'],
    ['systemd cgroups', 'runtimes: {runc: {args: [--systemd-cgroup]}}\n', {}, 'runtimes.runc.args[0]: --systemd-cgroup: podctl places pods with cgroupfs paths'],
    ['a runtime as a string', 'runtimes: {runc: /bin/runc}\n', {}, 'runtimes.runc: must be a map with "path"'],
    ['a bad handler name', 'runtimes: {"Bad Name": {path: /x}}\n', {}, 'runtimes.Bad Name: not a valid handler name'],
    ['an unknown runtime key', 'runtimes: {runc: {path: /x, root: /y}}\n', {}, 'runtimes.runc.root: unknown setting'],
    ['runtimes a list', 'runtimes: [runc]\n', {}, 'runtimes: must be a map'],
    ['an unknown network key', 'default-network: {gateway: 10.0.0.1}\n', {}, 'default-network.gateway: unknown setting'],
    ['a long bridge name', 'default-network: {bridge: averyveryverylongbridge}\n', {}, 'default-network.bridge: "averyveryverylongbridge" is not a valid interface name'],
    ['a bad subnet', 'default-network: {subnet: 10.0.0.0}\n', {}, 'default-network.subnet: "10.0.0.0" is not a CIDR'],
    ['a relative root in the file', 'root: var/lib/podctl\n', {}, '"var/lib/podctl" must be an absolute path'],
    ['a relative --root', '', {root: 'state'}, '--root: "state" must be an absolute path'],
    ['a relative --run-root', '', {runRoot: './run'}, '--run-root: "./run" must be an absolute path'],
    ['a relative --cni-conf-dir', '', {cniConfDir: 'net.d'}, '--cni-conf-dir: "net.d" must be an absolute path'],
    ['a relative entry in --cni-bin-dir', '', {cniBinDir: '/opt/cni/bin:bin'}, '--cni-bin-dir: "bin" must be an absolute path'],
    ['a bad --timeout', '', {timeout: '10 minutes'}, '--timeout: "10 minutes" is not a duration'],
    ['a relative seccomp profile root', 'seccomp-profile-root: profiles\n', {}, 'seccomp-profile-root: "profiles" must be an absolute path'],
    ['a relative cgroup parent', 'cgroup-parent: kubepods\n', {}, 'cgroup-parent: "kubepods" is not a cgroup parent'],
    ['a slice with a path', 'cgroup-parent: a/b.slice\n', {}, 'cgroup-parent: "a/b.slice" is not a cgroup parent'],
    ['a cgroup parent climbing out', 'cgroup-parent: /podctl/../x\n', {}, 'cgroup-parent: "/podctl/../x" is not a cgroup parent'],
    ['a cgroup parent with a colon', 'cgroup-parent: "/a:b"\n', {}, 'cgroup-parent: "/a:b" is not a cgroup parent'],
    ['registries a list', 'registries: [docker.io]\n', {}, 'registries: must be a map of registry host'],
    ['a registry host with a path', 'registries: {docker.io/library: {insecure: true}}\n', {}, 'registries.docker.io/library: "docker.io/library" is not a registry host'],
    ['a misspelt registry key', 'registries: {docker.io: {mirror: [x]}}\n', {}, 'registries.docker.io.mirror: unknown setting (did you mean "mirrors"?)'],
    ['a mirror with a path', 'registries: {docker.io: {mirrors: [http://m/v2]}}\n', {}, 'registries.docker.io.mirrors[0]: "http://m/v2" must be an http:// or https:// URL with no path'],
    ['a mirror of another scheme', 'registries: {docker.io: {mirrors: ["ftp://m"]}}\n', {}, 'must be an http:// or https:// URL'],
    ['mirrors as a string', 'registries: {docker.io: {mirrors: http://m}}\n', {}, 'registries.docker.io.mirrors: must be a list'],
    ['insecure as a string', 'registries: {r:5000: {insecure: "yes"}}\n', {}, 'registries.r:5000.insecure: must be true or false'],
    ['a relative CA file', 'registries: {r: {ca-files: [ca.pem]}}\n', {}, 'registries.r.ca-files[0]: "ca.pem" must be an absolute path'],
    ['an empty pause image', 'pause-image: ""\n', {}, 'pause-image: must be a non-empty string'],
    ['max-pods of zero', 'max-pods: 0\n', {}, 'max-pods: 0 is not a number of pods from 1 to 10000'],
    ['max-pods as a string', 'max-pods: "many"\n', {}, 'max-pods: "many" is not a number of pods'],
    ['a fractional max-pods', 'max-pods: 1.5\n', {}, 'max-pods: 1.5 is not a number of pods'],
    ['max-pods beyond the limit', 'max-pods: 10001\n', {}, 'max-pods: 10001 is not a number of pods from 1 to 10000'],
  ]
  for (const [label, text, overrides, needle] of bad) {
    test(`refuses ${label}`, () => {
      const config = configFile(text)
      assert.throws(() => resolveSettings({...overrides, config}), podctlError(2, needle))
    })
  }

  test('registries: mirrors as URLs (a bare host is HTTPS), insecure, CA files; pause-image', () => {
    const config = configFile(
      'registries:\n  docker.io:\n    mirrors: [http://127.0.0.1:5000, mirror.example.com]\n  10.0.0.5:5000:\n    insecure: true\n    ca-files: [/etc/podctl/ca.pem]\npause-image: registry.k8s.io/pause:3.9\n',
    )
    const s = resolveSettings({config})
    assert.deepEqual(s.registries, {'docker.io': {mirrors: ['http://127.0.0.1:5000', 'https://mirror.example.com']}, '10.0.0.5:5000': {insecure: true, caFiles: ['/etc/podctl/ca.pem']}})
    assert.equal(s.pauseImage, 'registry.k8s.io/pause:3.9')
  })

  test('errors in the file name the file', () => {
    const config = configFile('bogus: 1\n')
    assert.throws(() => resolveSettings({config}), podctlError(2, `config file "${config}": bogus: unknown setting`))
  })
  test('a config file the user named must exist', () => {
    const config = join(dir, 'missing.yaml')
    assert.throws(() => resolveSettings({config}), podctlError(2, `config file "${config}" not found`))
  })
  test('a directory as config file', () => {
    assert.throws(() => resolveSettings({config: dir}), podctlError(2, `config file "${dir}" is a directory`))
  })

  test('runtime-endpoint: unset is in-process; the flag beats the file; only unix endpoints, named by where they came from', () => {
    assert.equal(resolveSettings({config: configFile('')}).runtimeEndpoint, undefined)
    const config = configFile('runtime-endpoint: unix:///run/podctl/cri.sock\n')
    assert.equal(resolveSettings({config}).runtimeEndpoint, 'unix:///run/podctl/cri.sock')
    assert.equal(resolveSettings({config, runtimeEndpoint: '/run/other.sock'}).runtimeEndpoint, '/run/other.sock')
    assert.throws(() => resolveSettings({config, runtimeEndpoint: 'tcp://127.0.0.1:1'}), podctlError(2, '--runtime-endpoint: "tcp://127.0.0.1:1": only unix:// endpoints'))
    const relative = configFile('runtime-endpoint: unix://run/cri.sock\n')
    assert.throws(() => resolveSettings({config: relative}), podctlError(2, `config file "${relative}": runtime-endpoint: "unix://run/cri.sock": the socket path must be absolute`))
  })
})

describe('parseDuration', () => {
  const good: [string, number][] = [
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['2', 2000],
    ['1.5', 1500],
    ['0.5s', 500],
    ['1h', 3_600_000],
    ['1h2m3s4ms', 3_723_004],
    ['  10s ', 10_000],
    ['1m1ms', 60_001],
  ]
  for (const [text, ms] of good) test(`${JSON.stringify(text)} -> ${ms} ms`, () => assert.equal(parseDuration(text, '--timeout'), ms))

  const bad: {text: string; needle: string; todo?: string}[] = [
    {text: '', needle: 'is not a duration'},
    {text: 'soon', needle: '"soon" is not a duration'},
    {text: '10x', needle: 'is not a duration'},
    {text: '-5s', needle: 'is not a duration'},
    {text: '1m 30s', needle: 'is not a duration'},
    {text: '1m30', needle: 'is not a duration'},
    {text: 's', needle: 'is not a duration'},
    {text: '1d', needle: 'is not a duration'},
    {text: '1e3', needle: 'is not a duration'},
    {text: '0s', needle: 'must be greater than zero'},
    {text: '0ms', needle: 'must be greater than zero'},
    {text: '0', needle: 'must be greater than zero'},
    {text: '0.0001', needle: 'must be greater than zero'},
    {text: '0.1ms', needle: 'must be greater than zero'},
  ]
  for (const {text, needle, todo} of bad) {
    test(`refuses ${JSON.stringify(text)}`, {todo}, () => assert.throws(() => parseDuration(text, '--timeout'), podctlError(2, '--timeout: ', needle)))
  }
})

describe('formatDuration', () => {
  const cases: [number, string][] = [
    [60_000, '1m'],
    [90_000, '90s'],
    [3_600_000, '1h'],
    [1500, '1500ms'],
    [1, '1ms'],
  ]
  for (const [ms, text] of cases) {
    test(`${ms} ms -> ${text}, read back the same`, () => {
      assert.equal(formatDuration(ms), text)
      assert.equal(parseDuration(text, 'timeout'), ms)
    })
  }
})

describe('effectiveConfig', () => {
  test("the settings in the file's keys and forms", () => {
    assert.deepEqual(effectiveConfig({...builtinDefaults, timeoutMs: 30_000}), {
      root: '/var/lib/podctl',
      'run-root': '/run/podctl',
      'cni-conf-dir': '/etc/cni/net.d',
      'cni-bin-dir': '/opt/cni/bin:/usr/lib/cni:/usr/libexec/cni',
      'default-runtime': 'runc',
      runtimes: {runc: {path: 'runc'}, crun: {path: 'crun'}},
      'default-network': {name: 'podctl', bridge: 'podctl0', subnet: '10.85.0.0/16'},
      'cgroup-parent': '/podctl',
      'seccomp-profile-root': '/var/lib/kubelet/seccomp',
      timeout: '30s',
      debug: false,
      'runtime-endpoint': '',
      registries: {},
      'pause-image': '',
      'stream-listen': '127.0.0.1:0',
      'stream-base-url': '',
      'max-pods': 110,
    })
  })
})
