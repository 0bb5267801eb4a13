// podctl info on the real binary: ready on a working node without making
// anything, and not ready, with exit status 4, a reason and a message, for
// each thing it checks: CNI plugins, CNI config, the OCI runtime.

import assert from 'node:assert/strict'
import {chmodSync, existsSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {parse as parseYaml} from 'yaml'

import {e2eOptions, type Result, TestEnv} from './harness.js'

interface Condition {
  type: string
  status: boolean
  reason: string
  message: string
}

function conditions(r: Result): Record<string, Condition> {
  const report = JSON.parse(r.stdout)
  return Object.fromEntries(report.status.conditions.map((c: Condition) => [c.type, c]))
}

/** Not ready: the report on stdout, exit 4, one error line naming the reasons and a hint, no stack. */
function assertNotReady(r: Result, reasons: string): void {
  assert.equal(r.code, 4, `exit code; stderr: ${r.stderr}`)
  assert.equal(r.stderr, `error: node not ready: ${reasons}\nhint: the message of each condition says what is missing\n`)
}

describe('podctl info', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(83)
  })
  after(() => env.teardown())

  test('ready: both conditions true, the effective config, and nothing made', () => {
    const r = env.podctl(['info'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    const c = conditions(r)
    assert.deepEqual(Object.keys(c), ['RuntimeReady', 'NetworkReady'])
    assert.equal(c.RuntimeReady.status, true)
    assert.equal(c.RuntimeReady.reason, '')
    assert.match(c.RuntimeReady.message, /^runc \S+ at \/\S+\/runc; pause rootfs not built yet \(runp builds it from \/\S+\/catatonit\); cgroup v[12]/)
    assert.equal(c.NetworkReady.status, true)
    assert.match(c.NetworkReady.message, new RegExp(`^no CNI config in ${env.confDir}: runp writes podctl's network "${env.network}"`))
    const report = JSON.parse(r.stdout)
    assert.equal(report.config.root, env.root)
    assert.equal(report.config['run-root'], env.runRoot)
    assert.equal(report.config['config-file'], env.configFile)
    assert.deepEqual(report.config['default-network'], {name: env.network, bridge: env.bridge, subnet: `${env.subnetPrefix}.0/24`})
    assert.deepEqual(report.network.plugins.map((p: {type: string}) => p.type), ['bridge', 'host-local', 'portmap', 'loopback'])
    assert.equal(report.cgroup.driver, 'cgroupfs')
    assert.ok([1, 2].includes(report.cgroup.version))
    // info only looks.
    for (const dir of [env.root, env.runRoot, env.confDir]) assert.equal(existsSync(dir), false, `${dir} was made`)
  })

  test('-o yaml gives the same report', () => {
    assert.deepEqual(parseYaml(env.ok(['info', '-o', 'yaml'])), JSON.parse(env.ok(['info'])))
  })

  test('after a pod ran: the pause rootfs is ready, the network is the conflist runp wrote', () => {
    const id = env.runPod('info-pod')
    const report = JSON.parse(env.ok(['info']))
    assert.equal(report.pause.built, true)
    assert.match(report.status.conditions[0].message, /; pause rootfs ready \(/)
    assert.equal(report.network.builtin, false)
    assert.equal(report.network.file, join(env.confDir, `87-${env.network}-bridge.conflist`))
    env.ok(['rmp', '-f', id])
  })

  test('not ready: CNI plugins missing (an empty --cni-bin-dir)', () => {
    const empty = join(env.dir, 'empty-bin')
    mkdirSync(empty, {recursive: true})
    const r = env.podctl(['info', '--cni-bin-dir', empty])
    assertNotReady(r, 'NetworkReady is false (CNIPluginNotFound)')
    const c = conditions(r)
    assert.equal(c.RuntimeReady.status, true)
    assert.equal(c.NetworkReady.status, false)
    assert.match(c.NetworkReady.message, new RegExp(`^CNI plugin "bridge" not found in ${empty} \\(install the CNI plugins`))
  })

  test('not ready: an invalid CNI config, named', () => {
    const confDir = join(env.dir, 'bad-net.d')
    mkdirSync(confDir, {recursive: true})
    writeFileSync(join(confDir, '10-bad.conflist'), '{"cniVersion": "1.0.0", "name": "bad", "plugins": [')
    const r = env.podctl(['info', '--cni-conf-dir', confDir])
    assertNotReady(r, 'NetworkReady is false (CNIConfigInvalid)')
    assert.match(conditions(r).NetworkReady.message, new RegExp(`^CNI config "${confDir}/10-bad.conflist" is not valid JSON`))
  })

  test('not ready: the OCI runtime missing, or not working', () => {
    const config = (path: string) => {
      const file = join(env.dir, `runtime-${path.replaceAll('/', '_')}.yaml`)
      writeFileSync(file, `default-runtime: odd\nruntimes:\n  odd: {path: ${path}}\n`)
      return file
    }
    let r = env.podctl(['info', '-c', config(join(env.dir, 'no-such-runtime'))])
    assertNotReady(r, 'RuntimeReady is false (OCIRuntimeNotFound)')
    assert.match(conditions(r).RuntimeReady.message, /^OCI runtime "\S+no-such-runtime" for handler "odd" not found/)

    const broken = join(env.dir, 'broken-runtime')
    writeFileSync(broken, '#!/bin/sh\necho "no such option: $1" >&2\nexit 3\n')
    chmodSync(broken, 0o755)
    r = env.podctl(['info', '-c', config(broken)])
    assertNotReady(r, 'RuntimeReady is false (OCIRuntimeNotWorking)')
    assert.match(conditions(r).RuntimeReady.message, /does not work: "\S+broken-runtime --version" exited with status 3: no such option: --version/)
  })

  test('both not ready: both reasons', () => {
    const empty = join(env.dir, 'empty-bin')
    const config = join(env.dir, 'both.yaml')
    writeFileSync(config, `default-runtime: gone\nruntimes:\n  gone: {path: ${join(env.dir, 'gone')}}\n`)
    assertNotReady(env.podctl(['info', '-c', config, '--cni-bin-dir', empty]), 'RuntimeReady is false (OCIRuntimeNotFound), NetworkReady is false (CNIPluginNotFound)')
  })

  test('nothing is left', () => env.assertNoLeaks())
})
