// Hostile values in a pod config, on the command line and from CRI clients:
// a file path that climbs out of its directory or names a FIFO, a directory
// under /proc, a CNI plugin that leaves a child holding its stdout, a name
// pattern with catastrophic backtracking, and pods that carry too much. Each
// is refused (or survived) promptly with a clear message, echoes no file's
// content, and leaves nothing behind.

import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {e2eOptions, type Result, TestEnv} from './harness.js'
import {RawCri, startServe, stopServe} from './serve-helpers.js'

const md = {name: 'hostile', namespace: 'default'}
const localhost = (ref: string) => ({metadata: md, linux: {security_context: {seccomp: {profile_type: 'Localhost', localhost_ref: ref}}}})

function assertRefused(r: Result, fragment: RegExp, what: string): void {
  assert.equal(r.code, 2, `${what}: exit ${r.code}\n${r.stderr}`)
  assert.equal(r.stdout, '', `${what}: nothing on stdout`)
  const first = r.stderr.split('\n').find((l) => l && !l.startsWith('warning:')) ?? ''
  assert.match(first, /^error: /, what)
  assert.match(first, fragment, what)
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
}

describe('hostile paths, hangs and sizes', e2eOptions(), () => {
  let env: TestEnv
  let profiles: string
  before(() => {
    env = new TestEnv(130)
    profiles = join(env.dir, 'seccomp')
    mkdirSync(profiles)
    writeFileSync(env.configFile, `${readFileSync(env.configFile, 'utf8')}seccomp-profile-root: ${profiles}\n`)
  })
  after(() => env.teardown())

  test('a Localhost seccomp profile outside the profile root is refused, naming the root, quoting nothing', () => {
    const secret = join(env.dir, 'secret')
    writeFileSync(secret, 'root:$6$SECRETHASH:19000:0:99999:7:::\n')
    symlinkSync(secret, join(profiles, 'link.json'))
    writeFileSync(join(profiles, 'notjson.json'), 'root:$6$SECRETHASH:19000:0:99999:7:::\n')
    const cases: [string, string, RegExp][] = [
      ['../ to /etc/shadow', `${profiles}/../../../../../etc/shadow`, /is outside the seccomp profile root .*\/seccomp/],
      ['../ to a file beside the root', `${profiles}/../secret`, /is outside the seccomp profile root/],
      ['a symbolic link out of the root', join(profiles, 'link.json'), /is outside the seccomp profile root/],
      ['the deprecated path with ../', `${profiles}/../secret`, /is outside the seccomp profile root/],
      ['a file in the root that is not JSON', join(profiles, 'notjson.json'), /is not valid JSON: syntax error/],
    ]
    for (const [what, ref, fragment] of cases) {
      const config = what.startsWith('the deprecated') ? {metadata: md, linux: {security_context: {seccomp_profile_path: `localhost/${ref}`}}} : localhost(ref)
      const r = env.podctl(['runp', env.podConfig(config)])
      assertRefused(r, fragment, what)
      assert.doesNotMatch(r.stderr, /SECRETHASH|root:\$|root:x:/, `${what}: no file content in the message`)
    }
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })

  test('FIFOs named as a seccomp profile or --config are refused at once, not waited on', () => {
    const fifo = join(profiles, 'fifo.json')
    execFileSync('mkfifo', [fifo])
    assertRefused(env.podctl(['runp', env.podConfig(localhost(fifo))]), /seccomp profile ".*fifo\.json" is not a regular file/, 'FIFO profile')
    const configFifo = join(env.dir, 'config.fifo')
    execFileSync('mkfifo', [configFifo])
    assertRefused(env.podctl(['pods', '--config', configFifo]), /config file ".*config\.fifo" is not a regular file/, '--config FIFO')
    assertRefused(env.podctl(['config', '--config', configFifo, '--set', 'debug=true']), /config file ".*config\.fifo" is not a regular file/, 'config --set on a FIFO')
    assertRefused(env.podctl(['runp', env.podConfig(localhost('/proc/self/environ'))]), /is outside the seccomp profile root/, '/proc file')
    env.assertNoLeaks()
  })

  test('serve: FIFO profiles do not starve later calls, and SIGTERM still stops it', async () => {
    const fifo = join(profiles, 'serve-fifo.json')
    execFileSync('mkfifo', [fifo])
    const served = await startServe(env)
    const cri = new RawCri(served.socket)
    try {
      // More than node's four fs pool threads: a blocking open of each would hold them all.
      const calls = await Promise.all(
        Array.from({length: 6}, (_, i) => cri.call('RunPodSandbox', {config: {...localhost(fifo), metadata: {name: `fifo-${i}`, namespace: 'serve', uid: `u${i}`}}})),
      )
      for (const {err} of calls) {
        assert.equal(err?.code, 3, `INVALID_ARGUMENT: ${err?.details}`)
        assert.match(err?.details ?? '', /is not a regular file/)
      }
      const version = await cri.ok('Version', {})
      assert.ok(version.runtime_name)
      assert.deepEqual((await cri.ok('ListPodSandbox', {})).items, [])
    } finally {
      cri.close()
    }
    const exit = await stopServe(served)
    assert.equal(exit.code, 0, `serve exits on SIGTERM: ${served.log()}`)
    env.assertNoLeaks()
  })

  test('a log_directory under /proc or /sys is refused before anything is made', () => {
    for (const dir of ['/proc/self/logs', '/sys/kernel/podctl', '/proc/1/fd/x']) {
      assertRefused(env.podctl(['runp', env.podConfig({metadata: md, log_directory: dir})]), /log_directory: ".*" is under \/(proc|sys)/, dir)
    }
    env.assertNoLeaks()
  })

  test('a CNI plugin that leaves a child holding its stdout: runp and rmp wait for the plugin, not the child', () => {
    const bin = join(env.dir, 'cni-bin')
    mkdirSync(bin)
    const pids = join(env.dir, 'stragglers')
    const real = ['/opt/cni/bin', '/usr/lib/cni', '/usr/libexec/cni'].find((d) => existsSync(join(d, 'bridge')))
    assert.ok(real, 'a bridge plugin')
    for (const plugin of readdirSync(real)) if (plugin !== 'bridge') symlinkSync(join(real, plugin), join(bin, plugin))
    writeFileSync(join(bin, 'bridge'), `#!/bin/sh\nsleep 600 &\necho $! >> ${pids}\nexec ${join(real, 'bridge')} "$@"\n`)
    chmodSync(join(bin, 'bridge'), 0o755)
    const binEnv = {PODCTL_CNI_BIN_DIR: bin}
    try {
      const r = env.podctl(['runp', '--timeout', '30s', env.podConfig({metadata: {name: 'straggler', namespace: 'default'}})], {env: binEnv})
      assert.equal(r.code, 0, `runp: ${r.stderr}`)
      const id = r.stdout.trim()
      assert.match(env.inspect(id).status.network.ip, /^10\.231\.130\./)
      const rm = env.podctl(['rmp', '-f', '--timeout', '30s', id], {env: binEnv})
      assert.equal(rm.code, 0, `rmp: ${rm.stderr}`)
      assert.ok(readFileSync(pids, 'utf8').trim().split('\n').length >= 2, 'the plugin left a child on ADD and DEL')
    } finally {
      for (const pid of existsSync(pids) ? readFileSync(pids, 'utf8').trim().split('\n') : []) spawnSync('kill', [pid])
    }
    env.assertNoLeaks()
  })

  test('--name patterns run in linear time (as crictl RE2); back-references are refused', () => {
    const name = `${'a'.repeat(40)}x`
    const id = env.runPod(name)
    // (a+)+$ against 40 a's and an x backtracks 2^40 times in V8's default engine.
    assert.equal(env.ok(['pods', '-q', '--name', '(a+)+$']), '')
    assert.equal(env.ok(['pods', '-q', '--name', '(a+)+x$']).trim(), id)
    assertRefused(env.podctl(['pods', '--name', '(a)\\1']), /--name: "\(a\)\\\\1" is not a valid regular expression: back-references and lookaround are not supported/, 'back-reference')
    assertRefused(env.podctl(['inspectp', '--name', '(?=a)']), /--name: .* is not a valid regular expression/, 'lookahead')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('a pod may carry at most 16 KiB of labels and annotations: runp and RunPodSandbox refuse more, and the listing stays whole', async () => {
    const big = {metadata: md, annotations: {blob: 'x'.repeat(20_000)}}
    assertRefused(env.podctl(['runp', env.podConfig(big)]), /labels and annotations hold 20004 bytes; a pod may carry at most 16384/, 'big annotation')
    assertRefused(env.podctl(['runp', env.podConfig({metadata: md, labels: {['k'.repeat(400)]: 'v'}})]), /labels: a key of 400 bytes; the limit is 317/, 'long key')
    const served = await startServe(env)
    const cri = new RawCri(served.socket)
    try {
      const {err} = await cri.call('RunPodSandbox', {config: {...big, metadata: {name: 'big', namespace: 'serve', uid: 'big'}}})
      assert.equal(err?.code, 3, `INVALID_ARGUMENT: ${err?.details}`)
      assert.match(err?.details ?? '', /a pod may carry at most 16384/)
      assert.deepEqual((await cri.ok('ListPodSandbox', {})).items, [])
    } finally {
      cri.close()
      await stopServe(served)
    }
    env.assertNoLeaks()
  })
})
