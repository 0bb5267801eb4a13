// Garbage in: every malformed input exits non-zero with a one-line message
// that names the problem (the field path for config errors), prints no stack
// trace, and leaves nothing behind. And the state dir is not a way out.

import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, repoRoot, type Result, TestEnv} from './harness.js'

const md = {name: 'bad', namespace: 'default'}
const withLinux = (linux: object) => ({metadata: md, linux})
const withNs = (ns: object) => withLinux({security_context: {namespace_options: ns}})
const ownCaps = readFileSync('/proc/self/status', 'utf8').match(/^CapEff:\s*([0-9a-f]+)/m)?.[1] ?? '0'
const hasSysResource = ((BigInt(`0x${ownCaps}`) >> 24n) & 1n) === 1n

/** [what, config (object → JSON, string as is), expected fragment of the error line] */
const badConfigs: [string, object | string, RegExp][] = [
  ['truncated JSON', '{"metadata": {"name": ', /is not valid JSON/],
  ['invalid YAML', 'metadata: [unclosed\n  name: x', /is not valid YAML/],
  ['empty file', '', /is empty/],
  ['only whitespace', '  \n\t\n', /is empty/],
  ['a YAML list', '- metadata\n- name\n', /must be an object, got a list/],
  ['a JSON array', '[]', /must be an object, got a list/],
  ['a number', '42', /must be an object/],
  ['a string', '"hello"', /must be an object/],
  ['no metadata', {}, /metadata is not set/],
  ['null metadata', {metadata: null}, /metadata is not set/],
  ['metadata a string', {metadata: 'x'}, /metadata: must be an object/],
  ['no name', {metadata: {namespace: 'n'}}, /metadata\.name is not set/],
  ['no namespace', {metadata: {name: 'n'}}, /metadata\.namespace is not set/],
  ['empty name', {metadata: {name: '', namespace: 'n'}}, /metadata\.name is not set/],
  ['name with a slash', {metadata: {name: 'a/b', namespace: 'n'}}, /metadata\.name contains "\/"/],
  ['name ..', {metadata: {name: '..', namespace: 'n'}}, /metadata\.name may not be "\.\."/],
  ['namespace ../../etc', {metadata: {name: 'a', namespace: '../../etc'}}, /metadata\.namespace contains "\/"/],
  ['name with NUL', {metadata: {name: 'a\u0000b', namespace: 'n'}}, /metadata\.name contains "\\u0000"/],
  ['name with a space', {metadata: {name: 'a b', namespace: 'n'}}, /metadata\.name contains " "/],
  ['300-character name', {metadata: {name: 'a'.repeat(300), namespace: 'n'}}, /metadata\.name is 300 characters long; the limit is 253/],
  ['1 MiB name', {metadata: {name: 'a'.repeat(1 << 20), namespace: 'n'}}, /bytes; the limit is 1048576/],
  ['uid with a slash', {metadata: {...md, uid: '../x'}}, /metadata\.uid contains "\/"/],
  ['negative attempt', {metadata: {...md, attempt: -1}}, /metadata\.attempt: -1 is out of range for uint32/],
  ['attempt a word', {metadata: {...md, attempt: 'x'}}, /metadata\.attempt: must be an integer/],
  ['fractional attempt', {metadata: {...md, attempt: 1.5}}, /metadata\.attempt: must be an integer/],
  ['labels a list', {metadata: md, labels: ['a']}, /labels: must be a map of strings/],
  ['label value a number', {metadata: md, labels: {a: 1}}, /labels\.a: must be a string/],
  ['annotation value an object', {metadata: md, annotations: {a: {b: 1}}}, /annotations\.a: must be a string/],
  ['port_mappings an object', {metadata: md, port_mappings: {container_port: 80}}, /port_mappings: must be a list/],
  ['container_port 0', {metadata: md, port_mappings: [{container_port: 0}]}, /port_mappings\[0\]\.container_port: 0 is not a port/],
  ['container_port 70000', {metadata: md, port_mappings: [{container_port: 70000}]}, /port_mappings\[0\]\.container_port: 70000 is not a port/],
  ['negative host_port', {metadata: md, port_mappings: [{container_port: 80, host_port: -1}]}, /port_mappings\[0\]\.host_port: -1 is not a port/],
  ['host_port 65536', {metadata: md, port_mappings: [{container_port: 80, host_port: 65536}]}, /port_mappings\[0\]\.host_port: 65536 is not a port/],
  ['bad host_ip', {metadata: md, port_mappings: [{container_port: 80, host_ip: '1.2.3'}]}, /port_mappings\[0\]\.host_ip: "1\.2\.3" is not an IP address/],
  ['unknown protocol name', {metadata: md, port_mappings: [{container_port: 80, protocol: 'TCPX'}]}, /port_mappings\[0\]\.protocol: the string "TCPX" is not a valid Protocol/],
  ['unknown protocol number', {metadata: md, port_mappings: [{container_port: 80, protocol: 7}]}, /port_mappings\[0\]\.protocol: 7 is not a valid Protocol/],
  ['bad DNS server', {metadata: md, dns_config: {servers: ['8.8.8']}}, /dns_config\.servers\[0\]: "8\.8\.8" is not an IP address/],
  ['7 search domains', {metadata: md, dns_config: {searches: ['a', 'b', 'c', 'd', 'e', 'f', 'g']}}, /dns_config\.searches has 7 domains; at most 6/],
  ['search domain with a space', {metadata: md, dns_config: {searches: ['a b']}}, /dns_config\.searches\[0\]: "a b" is not a domain name/],
  ['bad hostname', {metadata: md, hostname: 'bad_host!'}, /hostname: "bad_host!" is not a valid host name/],
  ['relative log_directory', {metadata: md, log_directory: 'logs'}, /log_directory: "logs" must be an absolute path/],
  ['unknown namespace mode', withNs({network: 'BRIDGE'}), /namespace_options\.network: the string "BRIDGE" is not a valid NamespaceMode/],
  ['TARGET network', withNs({network: 3}), /namespace_options\.network: TARGET is not supported/],
  ['CONTAINER ipc', withNs({ipc: 'CONTAINER'}), /namespace_options\.ipc: CONTAINER is not supported/],
  ['target_id', withNs({target_id: 'abc'}), /namespace_options\.target_id is not supported/],
  ['user namespace', withNs({userns_options: {mode: 'POD'}}), /userns_options: user namespaces are not supported yet/],
  ['run_as_group alone', withLinux({security_context: {run_as_group: {value: 1000}}}), /run_as_group is set without run_as_user/],
  ['SELinux label', withLinux({security_context: {selinux_options: {user: 'system_u'}}}), /selinux_options: SELinux labels are not supported/],
  ['privileged "yes"', withLinux({security_context: {privileged: 'yes'}}), /security_context\.privileged: must be true or false/],
  ['linux a number', {metadata: md, linux: 5}, /linux: must be an object/],
  ['sysctl value a number', withLinux({sysctls: {'net.ipv4.ip_forward': 1}}), /sysctls\.net\.ipv4\.ip_forward: must be a string/],
  ['windows section', {metadata: md, windows: {security_context: {run_as_username: 'x'}}}, /windows: Windows pod settings are not supported/],
  ['duplicate YAML key', 'metadata:\n  name: a\n  name: b\n  namespace: n\n', /is not valid YAML: duplicate key "name" \(line 3, column 3\)/],
  ['a key as snake and camel', {metadata: md, log_directory: '/a', logDirectory: '/b'}, /logDirectory: given twice/],
  ['relative seccomp profile', withLinux({security_context: {seccomp: {profile_type: 'Localhost', localhost_ref: 'p.json'}}}), /seccomp\.localhost_ref: "p\.json" must be an absolute path/],
  ['missing seccomp profile', withLinux({security_context: {seccomp: {profile_type: 2, localhost_ref: '/nonexistent/p.json'}}}), /seccomp\.localhost_ref: seccomp profile "\/nonexistent\/p\.json" is outside the seccomp profile root \/var\/lib\/kubelet\/seccomp/],
]
if (!hasSysResource) {
  badConfigs.push(['negative oom_score_adj without CAP_SYS_RESOURCE', withLinux({resources: {oom_score_adj: -500}}), /oom_score_adj: -500 needs CAP_SYS_RESOURCE/])
}

describe('bad input', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(53)
  })
  after(() => env.teardown())

  /** Non-zero, one "error:" line (plus at most a hint), no stack trace. */
  function assertCleanError(r: Result, code: number, fragment: RegExp, what: string): void {
    assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stderr}`)
    assert.equal(r.stdout, '', `${what}: nothing on stdout`)
    const lines = r.stderr.split('\n').filter((l) => l && !l.startsWith('warning:'))
    assert.ok(lines.length >= 1 && lines.length <= 2, `${what}: one error line and at most a hint:\n${r.stderr}`)
    assert.match(lines[0], /^error: /)
    assert.match(lines[0], fragment, what)
    if (lines[1]) assert.match(lines[1], /^hint: /)
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
  }

  test(`${badConfigs.length} malformed pod configs`, () => {
    assert.ok(badConfigs.length >= 40)
    for (const [what, config, fragment] of badConfigs) {
      const r = env.podctl(['runp', env.podConfig(config)])
      assertCleanError(r, 2, fragment, what)
    }
    assert.equal(env.ok(['pods', '-q']), '', 'no pod was made')
    env.assertNoLeaks()
  })

  test('files that are not pod configs: a directory, a FIFO, /dev/zero, binary garbage, nothing', () => {
    const dir = join(env.dir, 'a-directory')
    mkdirSync(dir)
    const fifo = join(env.dir, 'a-fifo')
    execFileSync('mkfifo', [fifo])
    const garbage = join(env.dir, 'garbage.bin')
    writeFileSync(garbage, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 0xff, 0xfe, 0x00, 0x10]))
    const cases: [string, string, RegExp][] = [
      ['a directory', dir, /is a directory, not a file/],
      ['a FIFO', fifo, /is not a regular file/],
      ['/dev/zero', '/dev/zero', /is not a regular file/],
      ['binary garbage', garbage, /is not a text file/],
      ['a missing file', join(env.dir, 'missing.json'), /pod config ".*missing\.json" not found/],
    ]
    for (const [what, path, fragment] of cases) assertCleanError(env.podctl(['runp', path]), 2, fragment, what)
    env.assertNoLeaks()
  })

  test('bad command lines: unknown flags, missing arguments, bad global settings', () => {
    const id = env.runPod('present', {linux: {security_context: {namespace_options: {network: 2}}}})
    const cases: [string, string[], number, RegExp, Record<string, string>?][] = [
      ['runp without a file', ['runp'], 2, /Missing 1 required arg/],
      ['stopp without an ID', ['stopp'], 2, /Missing 1 required arg/],
      ['rmp without an ID', ['rmp'], 2, /no pod ID given/],
      ['an unknown flag', ['pods', '--bogus'], 2, /Nonexistent flag: --bogus/],
      ['an unknown output format', ['inspectp', '-o', 'xml', id], 2, /Expected --output=xml to be one of: json, yaml, table/],
      ['a bad --timeout', ['pods', '--timeout', 'soon'], 2, /--timeout: "soon" is not a duration/],
      ['a relative --root', ['pods', '--root', 'state'], 2, /--root: "state" must be an absolute path/],
      ['an unknown runtime handler', ['runp', '-r', 'kata', env.podConfig({metadata: md})], 2, /no runtime for "kata" is configured/],
      ['an unknown pod ID', ['inspectp', 'abcdef0123'], 3, /pod "abcdef0123" not found/],
      ['an unknown pod for rmp', ['rmp', 'abcdef0123'], 3, /pod "abcdef0123" not found/],
      ['an empty pod ID', ['inspectp', ''], 2, /pod ID cannot be empty/],
      ['a bad --state', ['inspectp', '--state', 'up'], 2, /--state should be ready or notready/],
      ['a bad --name regex', ['pods', '--name', '('], 2, /--name: "\(" is not a valid regular expression/],
      ['CNI plugins missing', ['runp', env.podConfig({metadata: {name: 'nocni', namespace: 'n'}})], 4, /CNI plugin "bridge" not found in \/nonexistent/, {PODCTL_CNI_BIN_DIR: '/nonexistent'}],
    ]
    for (const [what, args, code, fragment, extraEnv] of cases) {
      const r = env.podctl(args, {env: extraEnv})
      assert.equal(r.code, code, `${what}: exit ${r.code}\n${r.stderr}`)
      // One error line (warnings may precede it, e.g. the default network being written).
      const errors = r.stderr.split('\n').filter((l) => l.startsWith('error:'))
      assert.equal(errors.length, 1, `${what}: one error line\n${r.stderr}`)
      assert.match(errors[0], fragment, what)
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
    }
    const broken = join(env.dir, 'broken.yaml')
    for (const [what, text, fragment] of [
      ['an unknown config key', 'roots: /x\n', /config file ".*broken\.yaml": roots: unknown setting/],
      ['a config file that is not YAML', 'a: [\n', /is not valid YAML/],
      ['a bad bridge name', 'default-network:\n  bridge: this-name-is-far-too-long\n', /default-network\.bridge: "this-name-is-far-too-long" is not a valid interface name/],
    ] as const) {
      writeFileSync(broken, text)
      const r = env.podctl(['pods'], {env: {PODCTL_CONFIG: broken}})
      assert.equal(r.code, 2, `${what}: ${r.stderr}`)
      assert.match(r.stderr, fragment, what)
    }
    // --debug shows the stack for bugs and user errors alike; without it, never.
    const debug = env.podctl(['inspectp', '--debug', 'abcdef0123'])
    assert.match(debug.stderr, /\n\s+at /)
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('state directories are root-only; a symlink planted in them is never followed', () => {
    const id = env.runPod('secure', {linux: {security_context: {namespace_options: {network: 2}}}})
    assert.equal(statSync(env.root).mode & 0o777, 0o700)
    assert.equal(statSync(env.runRoot).mode & 0o777, 0o700)
    assert.equal(statSync(join(env.root, 'pods', id)).mode & 0o777, 0o700)
    assert.equal(statSync(join(env.root, 'pods', id, 'sandbox.json')).mode & 0o777, 0o600)
    // A planted symlink named like a pod, pointing out of the state dir.
    const outside = join(env.dir, 'outside')
    mkdirSync(outside)
    writeFileSync(join(outside, 'sandbox.json'), JSON.stringify({id: 'f'.repeat(64), config: {metadata: md}}))
    const planted = join(env.root, 'pods', 'f'.repeat(64))
    symlinkSync(outside, planted)
    assert.deepEqual(env.ok(['pods', '-q']).split('\n').filter(Boolean), [id], 'the symlink is not a pod')
    env.ok(['rmp', '-af'])
    assert.ok(existsSync(join(outside, 'sandbox.json')), 'nothing outside the state dir was removed')
    assert.ok(lstatSync(planted).isSymbolicLink())
    env.ok(['gc'])
    assert.ok(existsSync(join(outside, 'sandbox.json')), 'gc did not follow it either')
    spawnSync('rm', [planted])
    env.assertNoLeaks()
  })

  test('podctl refuses to run as non-root with one clear line', (t) => {
    const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(join(repoRoot, 'bin/run.js'))})`])
    if (probe.status !== 0) {
      t.skip('the checkout is not readable by nobody, so podctl cannot be started as nobody here')
      return
    }
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, join(repoRoot, 'bin/run.js'), 'pods'], {
      encoding: 'utf8',
      // A non-root user has a HOME of their own; oclif reads its data dir there.
      env: env.env({HOME: '/tmp'}),
    })
    assert.equal(r.status, 4, r.stderr)
    assert.match(r.stderr, /^error: podctl must run as root/)
    assert.equal(r.stderr.trim().split('\n').length, 2, 'the error and its hint')
  })
})
