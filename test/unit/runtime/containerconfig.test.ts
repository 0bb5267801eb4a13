import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {parseContainerConfig, readContainerConfig} from '../../../src/runtime/containerconfig.js'
import {podctlError, tempDir} from '../helpers.js'

const parse = (text: string) => parseContainerConfig(text, 'c.yaml')
const base = 'metadata: {name: app}\nimage: {image: busybox}\n'

describe('container config: decoding', () => {
  test('crictl YAML with snake_case and lowerCamelCase keys', () => {
    const {config, warnings} = parse(`${base}command: [sh, -c]\nargs: ["echo hi"]\nworkingDir: /w\nenvs:\n  - key: A\n    value: b\nlog_path: app/0.log\nlinux:\n  resources: {memory_limit_in_bytes: 1048576}\n  security_context:\n    capabilities: {add_capabilities: [NET_ADMIN]}\n    run_as_user: {value: 1000}\n`)
    assert.deepEqual(warnings, [])
    assert.deepEqual(config.command, ['sh', '-c'])
    assert.equal(config.working_dir, '/w')
    assert.deepEqual(config.envs, [{key: 'A', value: 'b'}])
    assert.equal(config.metadata.attempt, 0)
    assert.equal(config.linux?.resources?.memory_limit_in_bytes, 1048576)
    assert.deepEqual(config.linux?.security_context?.run_as_user, {value: 1000})
  })
  test('JSON as crictl examples give it', () => {
    const {config} = parseContainerConfig(JSON.stringify({metadata: {name: 'busybox'}, image: {image: 'busybox'}, command: ['top'], log_path: 'busybox.0.log', linux: {}}), 'c.json')
    assert.deepEqual(config.command, ['top'])
  })
  test('an unknown key is warned about with a did-you-mean', () => {
    const {warnings} = parse(`${base}comand: [sh]\nlinux:\n  security_context: {privilegd: true}\n`)
    assert.equal(warnings.length, 2)
    assert.match(warnings[0], /unknown key "comand" ignored \(did you mean "command"\?\)/)
    assert.match(warnings[1], /unknown key "linux.security_context.privilegd" ignored \(did you mean "privileged"\?\)/)
  })
  test('enum names and numbers for propagation', () => {
    assert.equal(parse(`${base}mounts: [{container_path: /a, host_path: /tmp, propagation: PROPAGATION_BIDIRECTIONAL}]\n`).config.mounts?.[0].propagation, 2)
    assert.throws(() => parse(`${base}mounts: [{container_path: /a, host_path: /tmp, propagation: PROPAGATION_SHARED}]\n`), podctlError(2, 'mounts[0].propagation', 'PROPAGATION_HOST_TO_CONTAINER'))
    assert.equal(parse(`${base}mounts: [{container_path: /a, host_path: /tmp, propagation: 0}]\n`).config.mounts?.[0].propagation, 0)
  })
  test('selinux_relabel, propagation and run_as_username are taken: they are checked at create, against the host and the image', () => {
    const {config} = parse(`${base}mounts: [{container_path: /a, host_path: /tmp, selinux_relabel: true, propagation: 1}]\nlinux: {security_context: {run_as_username: nobody}}\n`)
    assert.equal(config.mounts?.[0].selinux_relabel, true)
    assert.equal(config.linux?.security_context?.run_as_username, 'nobody')
  })
  test('a file is read; a missing one says "container config"', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'c.yaml'), base)
    assert.equal(readContainerConfig(join(dir, 'c.yaml')).config.metadata.name, 'app')
    assert.throws(() => readContainerConfig(join(dir, 'none.yaml')), podctlError(2, 'container config', 'not found'))
  })
})

describe('container config: refusals by name', () => {
  const cases: [string, string, string[]][] = [
    ['no metadata', 'image: {image: busybox}\n', ['metadata is not set']],
    ['no name', 'metadata: {attempt: 1}\nimage: {image: busybox}\n', ['metadata.name is not set']],
    ['no image', 'metadata: {name: a}\n', ['image.image is not set']],
    ['env key with =', `${base}envs: [{key: "A=B", value: x}]\n`, ['envs[0].key']],
    ['relative mount', `${base}mounts: [{container_path: data, host_path: /tmp}]\n`, ['mounts[0].container_path', 'absolute']],
    ['relative device path', `${base}devices: [{container_path: dev/x, host_path: /dev/null, permissions: rwm}]\n`, ['devices[0].container_path', 'absolute']],
    ['device permissions', `${base}devices: [{container_path: /dev/x, host_path: /dev/null, permissions: rwx}]\n`, ['devices[0].permissions', 'r, w and m']],
    ['absolute log path', `${base}log_path: /var/log/x\n`, ['log_path', 'relative']],
    ['log path with ..', `${base}log_path: ../x\n`, ['log_path', '".."']],
    ['stdin_once without stdin', `${base}stdin_once: true\n`, ['stdin_once']],
    ['selinux options', `${base}linux: {security_context: {selinux_options: {type: spc_t}}}\n`, ['linux.security_context.selinux_options']],
    ['run_as_group alone', `${base}linux: {security_context: {run_as_group: {value: 1}}}\n`, ['run_as_group', 'run_as_user']],
    ['bad capability', `${base}linux: {security_context: {capabilities: {add_capabilities: ["net admin"]}}}\n`, ['add_capabilities[0]']],
    ['relative masked path', `${base}linux: {security_context: {masked_paths: [proc]}}\n`, ['masked_paths[0]']],
    ['TARGET pid', `${base}linux: {security_context: {namespace_options: {pid: TARGET, target_id: x}}}\n`, ['target_id']],
    ['user namespace', `${base}linux: {security_context: {namespace_options: {userns_options: {mode: POD}}}}\n`, ['userns_options']],
    ['apparmor profile', `${base}linux: {security_context: {apparmor_profile: localhost/x}}\n`, ['apparmor_profile']],
    ['bad seccomp path', `${base}linux: {security_context: {seccomp_profile_path: foo}}\n`, ['seccomp']],
    ['windows', `${base}windows: {security_context: {run_as_username: x}}\n`, ['windows']],
    ['wrong type', `${base}tty: "yes"\n`, ['tty', 'true or false']],
    ['a relative working_dir', `${base}working_dir: tmp\n`, ['working_dir: "tmp" must be an absolute path']],
    ['a NUL in an env value', `${base}envs: [{key: A, value: "x\\0y"}]\n`, ['envs[0].value: "x\\u0000y" contains a NUL character']],
    ['a NUL in an argument', `${base}command: ["/bin/echo", "a\\0b"]\n`, ['command[1]', 'NUL']],
    ['an invalid image reference', 'metadata: {name: a}\nimage: {image: "UPPER/Case"}\n', ['image.image: invalid image reference "UPPER/Case": repository names must be lowercase']],
    ['labels beyond 16 KiB', `${base}labels: {a: "${'x'.repeat(17000)}"}\n`, ['labels and annotations hold 17001 bytes; a container may carry at most 16384']],
  ]
  for (const [name, text, needles] of cases) test(name, () => assert.throws(() => parse(text), podctlError(2, ...needles)))
})
