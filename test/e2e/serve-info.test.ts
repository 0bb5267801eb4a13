// version and info in client mode (--runtime-endpoint) against `podctl serve`:
// they print what the runtime at the socket answers (Version; Status with
// verbose info), in crictl's shapes, not the facts of the node the client
// runs on. The real crictl 1.26.1 on the same socket is the reference.

import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {type Result, startPaths, TestEnv, which} from './harness.js'
import {criToolOptions, RawCri, runCriTool, type Served, startServe, stopServe} from './serve-helpers.js'

describe('version and info ask the CRI runtime at --runtime-endpoint', criToolOptions('crictl'), () => {
  let env: TestEnv
  let served: Served
  before(async () => {
    env = new TestEnv(92)
    served = await startServe(env)
  })
  after(async () => {
    await stopServe(served)
    env.teardown()
  })

  /**
   * In client mode, with state roots and a config of its own: what comes from
   * there instead of from the socket would show as the client's root or runtime.
   */
  const clientRoot = () => join(env.dir, 'client-root')
  function remote(args: string[], endpoint = served.endpoint, extraEnv: Record<string, string> = {}): Result {
    const config = join(env.dir, 'client.yaml')
    writeFileSync(config, 'default-runtime: clientside\nruntimes:\n  clientside: {path: /nonexistent/clientside}\n')
    return env.podctl(['--runtime-endpoint', endpoint, ...args], {
      env: {PODCTL_ROOT: clientRoot(), PODCTL_RUN_ROOT: join(env.runRoot, 'client-run'), PODCTL_CONFIG: config, ...extraEnv},
    })
  }

  test('version prints the runtime\'s Version answer exactly as crictl version does, from every start path', () => {
    const crictl = runCriTool('crictl', served, ['version'])
    assert.equal(crictl.code, 0, crictl.stderr)
    assert.match(crictl.stdout, /^Version: {2}0\.1\.0\nRuntimeName: {2}podctl\nRuntimeVersion: {2}\S+\nRuntimeApiVersion: {2}v1\n$/)
    for (const [path, pathEnv] of Object.entries(startPaths)) {
      const r = remote(['version'], served.endpoint, pathEnv)
      assert.equal(r.code, 0, `${path}: ${r.stderr}`)
      assert.equal(r.stdout, crictl.stdout, path)
      assert.equal(r.stderr, '', `${path}: no warning that the runtime is not asked`)
    }
    // The verb first, the global flag after it, as the pod verbs take it too.
    const after = env.podctl(['version', '--runtime-endpoint', served.endpoint], {env: {PODCTL_ROOT: clientRoot()}})
    assert.equal(after.stdout, crictl.stdout)
    // In-process, the local node's runtime and plugins follow the four lines.
    const local = env.ok(['version'])
    assert.ok(local.startsWith(crictl.stdout), local)
    assert.match(local, /^OCIRuntimeHandler: {2}runc$/m)
  })

  test('version -o json and -o yaml carry the four Version fields and nothing of the client\'s node', () => {
    const want = {version: '0.1.0', runtimeName: 'podctl', runtimeApiVersion: 'v1'}
    const json = JSON.parse(remote(['version', '-o', 'json']).stdout)
    assert.deepEqual(Object.keys(json), ['version', 'runtimeName', 'runtimeVersion', 'runtimeApiVersion'])
    assert.deepEqual({...json, runtimeVersion: undefined}, {...want, runtimeVersion: undefined})
    assert.deepEqual(parseYaml(remote(['version', '-o', 'yaml']).stdout), json)
  })

  test('info prints Status with verbose info as crictl info does: the same JSON text, and the same YAML data', () => {
    const crictl = runCriTool('crictl', served, ['info'])
    assert.equal(crictl.code, 0, crictl.stderr)
    const r = remote(['info'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.equal(r.stdout, crictl.stdout)

    const report = JSON.parse(r.stdout)
    assert.deepEqual(Object.keys(report), ['status', 'config'])
    assert.deepEqual(report.status.conditions.map((c: {type: string; status: boolean}) => [c.type, c.status]), [['RuntimeReady', true], ['NetworkReady', true]])
    // serve's settings, not the client's: its root and its runtime handler.
    assert.equal(report.config.root, env.root)
    assert.equal(report.config.defaultRuntime, 'runc')
    assert.equal(report.config.defaultNetwork.name, env.network)
    assert.ok(!r.stdout.includes('clientside') && !r.stdout.includes(clientRoot()), r.stdout)

    // crictl's YAML sorts keys (sigs.k8s.io/yaml); podctl keeps the JSON's order: the data is the same.
    const crictlYaml = runCriTool('crictl', served, ['info', '-o', 'yaml'])
    assert.equal(crictlYaml.code, 0, crictlYaml.stderr)
    assert.deepEqual(parseYaml(remote(['info', '-o', 'yaml']).stdout), parseYaml(crictlYaml.stdout))
    assert.deepEqual(parseYaml(crictlYaml.stdout), report)
  })

  test('info exits as in-process when the remote runtime is not ready, and prints its report all the same', async () => {
    const config = join(env.dir, 'serve-gone.yaml')
    writeFileSync(config, `default-runtime: gone\nruntimes:\n  gone: {path: ${join(env.dir, 'gone')}}\n`)
    const notReady = await startServe(env, ['-c', config], {}, 'gone.sock')
    try {
      const crictl = runCriTool('crictl', notReady, ['info'])
      const r = remote(['info'], notReady.endpoint)
      assert.equal(r.code, 4, r.stderr)
      assert.match(r.stderr, /^error: node not ready: RuntimeReady is false \(OCIRuntimeNotFound\)$/m)
      assert.equal(r.stdout, crictl.stdout)
      assert.equal(JSON.parse(r.stdout).config.defaultRuntime, 'gone')
    } finally {
      await stopServe(notReady)
    }
  })

  test('Status is not ready, with the reason, when conmon is missing or the CNI plugins are', async () => {
    // conmon hidden from this serve alone: a mount namespace of its own where the one
    // installed is covered by an empty, non-executable file (the host's is untouched).
    const conmon = which('conmon')!
    const cover = join(env.dir, 'not-conmon')
    writeFileSync(cover, '', {mode: 0o644})
    const emptyBin = join(env.dir, 'empty-bin')
    mkdirSync(emptyBin, {recursive: true})
    const script = `mount --bind ${cover} ${conmon} && exec "$@"`
    const hidden = await startServe(env, ['--cni-bin-dir', emptyBin], {PATH: '/usr/sbin:/usr/bin:/sbin:/bin'}, 'no-conmon.sock', ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh'])
    const cri = new RawCri(hidden.socket)
    try {
      const {status} = await cri.ok('Status')
      const c = Object.fromEntries((status.conditions as {type: string; status: boolean; reason: string; message: string}[]).map((x) => [x.type, x]))
      assert.equal(c.RuntimeReady.status, false)
      assert.equal(c.RuntimeReady.reason, 'ContainerMonitorNotFound')
      assert.match(c.RuntimeReady.message, /conmon not found: podctl runs one per container as its monitor \(install it/)
      assert.equal(c.NetworkReady.status, false)
      assert.equal(c.NetworkReady.reason, 'CNIPluginNotFound')
      assert.match(c.NetworkReady.message, new RegExp(`^CNI plugin "\\w+" not found in ${emptyBin}`))
      // crictl info says the same.
      const crictl = runCriTool('crictl', hidden, ['info'])
      assert.deepEqual(JSON.parse(crictl.stdout).status.conditions.map((x: {reason: string}) => x.reason), ['ContainerMonitorNotFound', 'CNIPluginNotFound'])
    } finally {
      cri.close()
      await stopServe(hidden)
    }
    // The served one, with conmon, is ready and says where conmon is.
    const ready = JSON.parse(remote(['info']).stdout).status.conditions[0]
    assert.equal(ready.status, true)
    assert.match(ready.message, new RegExp(`; conmon at ${conmon}$`))
  })

  test('nothing listening: version and info fail with one line naming the endpoint', () => {
    const missing = `unix://${join(env.runRoot, 'nobody.sock')}`
    for (const verb of ['version', 'info']) {
      const r = remote([verb], missing)
      assert.equal(r.code, 4, `${verb}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      assert.match(r.stderr, new RegExp(`^error: cannot connect to the CRI runtime at "${missing}": `, 'm'))
    }
  })

  test('nothing is left behind', () => {
    env.assertNoLeaks()
  })
})
