// Runtime handlers on real pods: `runp -r runc`, `-r crun` (which refuses
// hybrid cgroup hosts: then one clear error and nothing left), a handler
// mapped in the config file to its own binary and options, and unknown or
// missing handlers. Each pod is looked at through the runtime that runs it
// (its `state` under the handler's own --root) and through /proc.

import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'

import {e2eOptions, TestEnv, which} from './harness.js'

describe('runtime handlers', e2eOptions(), () => {
  let env: TestEnv
  let traceLog: string
  let envLog: string
  let wrapper: string
  before(() => {
    env = new TestEnv(36)
    // A handler of the config file: runc behind a script that logs each call, and the
    // environment it was given, so the test sees it is the one used and what it got.
    traceLog = join(env.dir, 'traced.log')
    envLog = join(env.dir, 'traced-env.log')
    wrapper = join(env.dir, 'traced-runc')
    writeFileSync(
      wrapper,
      `#!/bin/sh\necho "$*" >> ${traceLog}\n` +
        `echo "NODE_EXTRA_CA_CERTS=\${NODE_EXTRA_CA_CERTS-unset} PODCTL_NODE_EXTRA_CA_CERTS=\${PODCTL_NODE_EXTRA_CA_CERTS-unset}" >> ${envLog}\n` +
        `echo "GLIBC_TUNABLES=\${GLIBC_TUNABLES-unset} PODCTL_GLIBC_TUNABLES=\${PODCTL_GLIBC_TUNABLES-unset}" >> ${envLog}\n` +
        // What podctl's node itself was started with (its environment at exec).
        `tr '\\0' '\\n' < /proc/$PPID/environ | grep '^GLIBC_TUNABLES=' | sed 's/^/node: /' >> ${envLog}\n` +
        `exec ${which('runc')} "$@"\n`,
    )
    chmodSync(wrapper, 0o755)
    appendFileSync(env.configFile, `runtimes:\n  traced:\n    path: ${wrapper}\n    args: [--debug]\n  ghost:\n    path: ${join(env.dir, 'no-such-runtime')}\n`)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  /** The runtime's own view of a pod: `<binary> --root <handler's root> state <id>`. */
  const runtimeState = (binary: string, handler: string, id: string) => {
    const r = spawnSync(binary, ['--root', join(env.runRoot, 'runtime', handler), 'state', id], {encoding: 'utf8'})
    return r.status === 0 ? (JSON.parse(r.stdout) as {status: string; pid: number}) : null
  }
  const containers = (binary: string, handler: string) => {
    const root = join(env.runRoot, 'runtime', handler)
    return existsSync(root) ? execFileSync(binary, ['--root', root, 'list', '-q'], {encoding: 'utf8'}).trim() : ''
  }

  test('runp -r runc: runc runs the pause, under its own root; the handler is reported', () => {
    const runc = which('runc')!
    const id = env.ok(['runp', '-r', 'runc', env.podConfig({metadata: {name: 'with-runc', namespace: 'default'}})]).trim()
    const {status, info} = env.inspect(id)
    const state = runtimeState(runc, 'runc', id)
    assert.equal(state?.status, 'running')
    assert.equal(state?.pid, info.pid)
    assert.ok(readFileSync(`/proc/${info.pid}/cmdline`, 'utf8').startsWith('/catatonit'), 'the pause is catatonit')
    assert.equal(status.runtimeHandler, 'runc')
    assert.equal(info.runtimeBinary, runc)
    assert.match(env.ok(['pods', '--id', id]), /\brunc\s*$/m)
    env.ok(['rmp', '-f', id])
    assert.equal(runtimeState(runc, 'runc', id), null)
    env.assertNoLeaks()
  })

  test('runp -r crun: runs, or on a hybrid cgroup host fails with one clear error naming crun and the cause, leaving nothing', (t) => {
    const crun = which('crun')
    if (!crun) {
      if (process.env.CI === 'true') assert.fail('crun is not installed (apt-get install crun)')
      t.skip('crun is not installed (apt-get install crun)')
      return
    }
    const r = env.podctl(['runp', '-r', 'crun', env.podConfig({metadata: {name: 'with-crun', namespace: 'default'}})])
    if (r.code === 0) {
      const id = r.stdout.trim()
      const {status, info} = env.inspect(id)
      assert.equal(runtimeState(crun, 'crun', id)?.pid, info.pid)
      assert.equal(status.runtimeHandler, 'crun')
      env.ok(['rmp', '-f', id])
    } else {
      const hybrid = existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').trim() !== ''
      assert.ok(hybrid, `crun failed on a host that is not hybrid: ${r.stderr}`)
      assert.equal(r.code, 1)
      assert.equal(r.stdout, '')
      const [error, hint, ...rest] = r.stderr.trimEnd().split('\n')
      assert.match(error, /^error: crun run of pod "[0-9a-f]{64}" failed: cgroups in hybrid mode not supported/)
      assert.match(hint, /^hint: crun refuses hybrid cgroup hosts .*use --runtime runc/)
      assert.deepEqual(rest, [], 'no stack trace')
      assert.equal(env.ok(['pods', '-q']), '')
      assert.equal(containers(crun, 'crun'), '', 'crun keeps no container')
    }
    env.assertNoLeaks()
  })

  test('a handler of the config file runs its own binary with its own options', () => {
    writeFileSync(traceLog, '')
    const id = env.ok(['runp', '--runtime', 'traced', env.podConfig({metadata: {name: 'traced', namespace: 'default'}})]).trim()
    const {status, info} = env.inspect(id)
    const root = join(env.runRoot, 'runtime', 'traced')
    const calls = readFileSync(traceLog, 'utf8').trim().split('\n')
    assert.ok(calls.some((c) => c.startsWith(`--debug --root ${root} --log `) && c.includes(` run --detach --bundle `) && c.endsWith(` ${id}`)), calls.join('\n'))
    // The runtime behind it holds the pod under the handler's own root.
    assert.equal(runtimeState(which('runc')!, 'traced', id)?.pid, info.pid)
    assert.equal(status.runtimeHandler, 'traced')
    assert.equal(info.runtimeBinary, wrapper)
    // stopp and rmp go through the same handler.
    env.ok(['rmp', '-f', id])
    assert.ok(readFileSync(traceLog, 'utf8').includes(`--debug --root ${root} delete --force ${id}`))
    assert.equal(containers(which('runc')!, 'traced'), '')
    env.assertNoLeaks()
  })

  test('NODE_EXTRA_CA_CERTS: podctl\'s node starts without it (no TLS to set up), the runtime it runs gets it as given', () => {
    // node warns at start-up when it cannot load the file: the premise, shown on bare node.
    const caCerts = join(env.dir, 'no-such-ca.pem')
    const bare = spawnSync(process.execPath, ['-e', '0'], {env: {...process.env, NODE_EXTRA_CA_CERTS: caCerts}, encoding: 'utf8'})
    assert.match(bare.stderr, /Ignoring extra certs/)
    writeFileSync(envLog, '')
    const given = {NODE_EXTRA_CA_CERTS: caCerts}
    const r = env.podctl(['runp', '-r', 'traced', env.podConfig({metadata: {name: 'ca-certs', namespace: 'default'}})], {env: given})
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stderr, /extra certs/, 'node did not load the certificates')
    const id = r.stdout.trim()
    assert.doesNotMatch(env.podctl(['rmp', '-f', id], {env: given}).stderr, /extra certs/)
    const seen = [...new Set(readFileSync(envLog, 'utf8').trim().split('\n'))].filter((line) => line.startsWith('NODE_EXTRA_CA_CERTS='))
    assert.deepEqual(seen, [`NODE_EXTRA_CA_CERTS=${caCerts} PODCTL_NODE_EXTRA_CA_CERTS=unset`])
    env.assertNoLeaks()
  })

  test('GLIBC_TUNABLES: node from the snapshot asks for huge pages, the runtime it runs gets the variable as given', () => {
    // As this test was started (unset, mostly), then a harmless tunable of the user's.
    const cases: [string | undefined, Record<string, string>][] = [
      [process.env.GLIBC_TUNABLES, {}],
      ['glibc.malloc.tcache_count=0', {GLIBC_TUNABLES: 'glibc.malloc.tcache_count=0'}],
    ]
    for (const [given, extra] of cases) {
      writeFileSync(envLog, '')
      const r = env.podctl(['runp', '-r', 'traced', env.podConfig({metadata: {name: 'tunables', namespace: 'default'}})], {env: extra})
      assert.equal(r.code, 0, r.stderr)
      env.ok(['rmp', '-f', r.stdout.trim()], {env: extra})
      const seen = [...new Set(readFileSync(envLog, 'utf8').trim().split('\n'))].filter((line) => !line.startsWith('NODE_EXTRA_CA_CERTS='))
      assert.deepEqual(seen, [
        `GLIBC_TUNABLES=${given ?? 'unset'} PODCTL_GLIBC_TUNABLES=unset`,
        // glibc rewrites the variable in place as it parses it, and /proc shows its first tunable only.
        'node: GLIBC_TUNABLES=glibc.malloc.hugetlb=1',
      ])
    }
    env.assertNoLeaks()
  })

  test('an unknown handler, or one whose binary is missing, is a clear error before anything is made', () => {
    const config = env.podConfig({metadata: {name: 'nowhere', namespace: 'default'}})
    const unknown = env.podctl(['runp', '-r', 'kata', config])
    assert.equal(unknown.code, 2, unknown.stderr)
    assert.match(unknown.stderr, /^error: no runtime for "kata" is configured.*\nhint: known handlers: runc, crun, traced, ghost; add one under "runtimes" in the config file\n$/)
    const missing = env.podctl(['runp', '-r', 'ghost', config])
    assert.equal(missing.code, 4, missing.stderr)
    assert.match(missing.stderr, /^error: OCI runtime ".*no-such-runtime" for handler "ghost" not found\n/)
    assert.equal(env.ok(['pods', '-q']), '')
    env.assertNoLeaks()
  })
})
