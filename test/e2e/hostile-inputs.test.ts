// The inputs containers and images added (docs/user-input.md, "Containers"
// and "Images"): each refused value fails with one line naming the field,
// exit 2, before anything is made; odd values that are accepted reach their
// place literally and print escaped; and nothing is left behind.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {assertClean, conmonMissing, conmonsOf} from './container-helpers.js'
import {e2eOptionsWith, TestEnv} from './harness.js'
import {missingRegistryTools, type Registry, registryWithBusybox} from './registry.js'

describe('container and image inputs', e2eOptionsWith('container tests', missingRegistryTools, conmonMissing), () => {
  let env: TestEnv
  let reg: Registry
  let image: string
  let pod: string
  let logDir: string

  before(async () => {
    env = new TestEnv(163)
    ;({reg, image} = await registryWithBusybox(env.dir))
    env.ok(['pull', image])
    logDir = join(env.dir, 'logs')
  })
  /** Each test's own pod, removed at its end with everything in it. */
  const runPod = () => {
    pod = env.ok(['runp', env.podConfig({metadata: {name: `inputs-${n++}`, namespace: 'hostile', uid: 'u-inputs'}, log_directory: logDir})]).trim()
  }
  const removePod = () => {
    env.ok(['rmp', '-f', pod])
    assertClean(env)
  }
  after(async () => {
    env?.teardown()
    assert.deepEqual(env ? conmonsOf(env) : [], [], 'conmon processes left behind')
    await reg?.stop()
  })

  let n = 0
  const containerFile = (config: object) => {
    const path = join(env.dir, `c-${n++}.json`)
    writeFileSync(path, JSON.stringify(config))
    return path
  }
  const containerDirs = () => {
    const dir = join(env.root, 'pods', pod, 'containers')
    return existsSync(dir) ? readdirSync(dir) : []
  }

  test('container configs: each refused value fails with one line naming the field, exit 2, and makes nothing', () => {
    runPod()
    const cases: [string, object, RegExp][] = [
      ['a name with a bidi override', {metadata: {name: 'evil\u202egnp.exe'}}, /metadata\.name contains "\\u202e" \(U\+202E\), which is not allowed in a name/],
      ['a name with a zero-width space', {metadata: {name: 'web\u200b'}}, /metadata\.name contains "\\u200b" \(U\+200B\)/],
      ['a name with a newline', {metadata: {name: 'a\nb'}}, /metadata\.name contains "\\n" \(U\+000A\)/],
      ['an invalid image reference', {image: {image: 'UPPER/Case:v1'}}, /image\.image: invalid image reference "UPPER\/Case:v1": repository names must be lowercase/],
      ['an image reference with an escape sequence', {image: {image: 'a\u001b[31mb'}}, /invalid image reference "a\\u001b\[31mb": "a\\u001b\[31mb" is not a valid repository name component/],
      ['a relative working_dir', {working_dir: 'tmp'}, /working_dir: "tmp" must be an absolute path/],
      ['a NUL in working_dir', {working_dir: '/tmp\u0000x'}, /working_dir: "\/tmp\\u0000x" contains a NUL character/],
      ['a NUL in an env value', {envs: [{key: 'A', value: 'x\u0000y'}]}, /envs\[0\]\.value: "x\\u0000y" contains a NUL character/],
      ['an env key with =', {envs: [{key: 'A=B', value: 'x'}]}, /envs\[0\]\.key: "A=B" contains "="/],
      ['a NUL in an argument', {command: ['/bin/echo', 'a\u0000b']}, /command\[1\]: "a\\u0000b" contains a NUL character/],
      ['a NUL in a host_path', {mounts: [{container_path: '/m', host_path: '/tmp/a\u0000b'}]}, /mounts\[0\]\.host_path: "\/tmp\/a\\u0000b" contains a NUL character/],
      ['a relative host_path', {mounts: [{container_path: '/m', host_path: 'tmp'}]}, /mounts\[0\]\.host_path: "tmp" must be an absolute path/],
      ['a relative container_path', {mounts: [{container_path: 'm', host_path: '/tmp'}]}, /mounts\[0\]\.container_path: "m" must be an absolute path/],
      ['a log_path climbing out', {log_path: '../../etc/cron.d/x'}, /log_path: "\.\.\/\.\.\/etc\/cron\.d\/x" may not contain "\.\."/],
      ['an absolute log_path', {log_path: '/etc/x.log'}, /log_path: "\/etc\/x\.log" must be relative to the pod's log_directory/],
      ['labels beyond 16 KiB', {labels: {big: 'x'.repeat(17_000)}}, /labels and annotations hold 17003 bytes; a container may carry at most 16384/],
      ['a device that is not a device node', {devices: [{container_path: '/dev/x', host_path: '/etc/passwd', permissions: 'rwm'}]}, /devices\[0\]\.host_path: "\/etc\/passwd" is not a device node/],
      ['device permissions that are not cgroup access', {devices: [{container_path: '/dev/x', host_path: '/dev/null', permissions: 'rwx'}]}, /devices\[0\]\.permissions: "rwx" is not cgroup access/],
      ['an AppArmor profile', {linux: {security_context: {apparmor_profile: 'localhost/x'}}}, /apparmor_profile: AppArmor profiles are not supported/],
      ['a Localhost seccomp profile outside the root', {linux: {security_context: {seccomp: {profile_type: 'Localhost', localhost_ref: '/etc/shadow'}}}}, /seccomp profile "\/etc\/shadow" is outside the seccomp profile root/],
    ]
    for (const [label, extra, message] of cases) {
      const r = env.podctl(['create', pod, containerFile({metadata: {name: 'refused'}, image: {image}, command: ['/bin/true'], ...extra})])
      assert.equal(r.code, 2, `${label}: ${r.stderr}`)
      assert.match(r.stderr, message, label)
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1, `${label}: one error line\n${r.stderr}`)
      assert.doesNotMatch(r.stderr, /\u001b|\n\s+at /, `${label}: no raw escape, no stack trace`)
      assert.doesNotMatch(r.stderr, /root:|\$6\$/, `${label}: no file content quoted`)
    }
    assert.equal(env.ok(['ps', '-aq']), '')
    assert.deepEqual(containerDirs(), [], 'no container directory')
    assert.ok(!existsSync('/etc/x.log') && !existsSync(join(env.dir, 'etc')), 'no log file outside the log directory')
    removePod()
  })

  test('odd values that are accepted reach their place literally: exec arguments, env values, labels (printed escaped), a log_path in a subdirectory', () => {
    runPod()
    const labels = {note: 'line one\nline two\u001b[31m red'}
    const id = env
      .ok([
        'create',
        pod,
        containerFile({
          metadata: {name: 'odd'},
          image: {image},
          command: ['/bin/sleep', '600'],
          envs: [{key: 'MULTI', value: 'a\nb $(id) `id`'}],
          labels,
          log_path: 'odd/sub/c.log',
        }),
      ])
      .trim()
    env.ok(['start', id])
    // exec arguments are argv elements, never a shell line: ; $() and a leading - are passed as they are.
    assert.equal(env.ok(['exec', id, '/bin/echo', '-e', 'a;b', '$(id)', '-n']), 'a;b $(id) -n\n')
    assert.equal(env.ok(['exec', id, '/bin/sh', '-c', 'printf %s "$MULTI"']), 'a\nb $(id) `id`')
    // Labels come back whole in JSON, their control characters escaped: never raw on the terminal.
    const inspected = env.ok(['inspect', id])
    assert.doesNotMatch(inspected, /\u001b/)
    assert.deepEqual(JSON.parse(inspected).status.labels, labels)
    const listed = env.ok(['ps', '-a', '-o', 'json'])
    assert.doesNotMatch(listed, /\u001b/)
    assert.ok(existsSync(join(logDir, 'odd', 'sub', 'c.log')), 'the log under the pod\'s log_directory')
    env.ok(['rm', '-f', id])
    assert.deepEqual(containerDirs(), [])
    removePod()
  })

  test('image references and registry auth files: refused in one line, exit 2, with no file quoted, no hang, nothing stored', () => {
    const before = env.ok(['images', '-q'])
    for (const [ref, message] of [
      ['../../etc/passwd', /invalid image reference "\.\.\/\.\.\/etc\/passwd": "\.\." is not a registry host/],
      ['busybox@sha256:abc', /a sha256 digest is 64 lowercase hex digits/],
      ['busybox:-x', /"-x" is not a valid tag/],
      ['a\u001b]0;title\u0007b', /invalid image reference "a\\u001b\]0;title\\u0007b"/],
    ] as const) {
      const r = env.podctl(['pull', ref])
      assert.equal(r.code, 2, r.stderr)
      assert.match(r.stderr, message)
      assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000b-\u001f]/, 'no raw control character')
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('error:')).length, 1)
    }
    // An auth file that is a FIFO (REGISTRY_AUTH_FILE, as podman reads it): refused at once, not waited on.
    const fifo = join(env.dir, 'auth.fifo')
    execFileSync('mkfifo', [fifo])
    const r = env.podctl(['pull', image], {env: {REGISTRY_AUTH_FILE: fifo}})
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, new RegExp(`registry auth file "${fifo}" is not a regular file`))
    // An auth file that is not JSON (any file root can read): its content is never quoted.
    const secret = join(env.dir, 'shadow-like')
    writeFileSync(secret, 'root:$6$secrethash:19000:0:99999:7:::\n')
    const notJson = env.podctl(['pull', image], {env: {REGISTRY_AUTH_FILE: secret}})
    assert.equal(notJson.code, 2, notJson.stderr)
    assert.match(notJson.stderr, new RegExp(`registry auth file "${secret}" is not valid JSON`))
    assert.doesNotMatch(notJson.stderr, /secrethash|root:/)
    assert.equal(env.ok(['images', '-q']), before, 'nothing was stored')
    assertClean(env)
  })
})
