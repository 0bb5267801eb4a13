// inspectp's info shows what was applied, checked against the system rather
// than against podctl's record: the spec equals the config.json the runtime
// ran from (its `state` names the bundle), the CNI result's addresses,
// MACs and host veth are the ones on the pod's eth0 and the host's bridge,
// the netns path is the pause's network namespace, the cgroups path the
// pause's cgroup.

import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, describe, test} from 'node:test'
import {parse as parseYaml} from 'yaml'

import {procCgroupPaths} from './config-helpers.js'
import {e2eOptions, TestEnv} from './harness.js'

describe('inspectp shows the effective OCI spec and CNI result', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(37)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  const inPod = (pid: number, ...cmd: string[]) => execFileSync('nsenter', ['-t', String(pid), '-n', ...cmd], {encoding: 'utf8'}).trim()

  test('the spec the runtime ran, and the network CNI made, as the system shows them', () => {
    const id = env.runPod('inspected', {
      port_mappings: [{container_port: 80, host_port: 23701}],
      linux: {sysctls: {'net.ipv4.ip_local_port_range': '20000 29999'}, resources: {cpu_shares: 300, memory_limit_in_bytes: 48 << 20}},
    })
    const {info} = env.inspect(id)

    // The runtime's own record of the container: its PID and the bundle it was created from.
    const state = JSON.parse(execFileSync('runc', ['--root', join(env.runRoot, 'runtime', 'runc'), 'state', id], {encoding: 'utf8'})) as {pid: number; status: string; bundle: string}
    assert.equal(info.pid, state.pid)
    assert.equal(info.processStatus, state.status)
    assert.deepEqual(info.runtimeSpec, JSON.parse(readFileSync(join(state.bundle, 'config.json'), 'utf8')), 'info.runtimeSpec is the config.json runc ran')
    const pid = state.pid

    // The netns path is the pause's network namespace; the cgroups path its cgroup.
    const pinned = statSync(info.netNamespacePath)
    const own = statSync(`/proc/${pid}/ns/net`)
    assert.deepEqual([pinned.dev, pinned.ino], [own.dev, own.ino])
    assert.equal(info.netNamespaceClosed, false)
    assert.deepEqual(new Set(procCgroupPaths(pid)), new Set([info.cgroupsPath]))

    // The CNI result names what is on the pod's eth0 and on the host.
    const result = info.cniResult as {interfaces: {name: string; mac: string; sandbox?: string}[]; ips: {interface: number; address: string; gateway: string}[]}
    const eth0 = result.interfaces.find((i) => i.name === 'eth0' && i.sandbox)!
    assert.equal(eth0.sandbox, info.netNamespacePath)
    // (ip, not /sys/class/net: the host's sysfs shows the host's network namespace whatever the reader's.)
    assert.match(inPod(pid, 'ip', '-o', 'link', 'show', 'eth0'), new RegExp(`link/ether ${eth0.mac} `))
    const ip = result.ips[0]
    assert.equal(result.interfaces[ip.interface], eth0)
    assert.match(inPod(pid, 'ip', '-o', '-4', 'addr', 'show', 'eth0'), new RegExp(`inet ${ip.address.replaceAll('.', '\\.')} `))
    assert.match(inPod(pid, 'ip', '-4', 'route', 'show', 'default'), new RegExp(`^default via ${ip.gateway.replaceAll('.', '\\.')} dev eth0`))
    const veth = result.interfaces.find((i) => i.name.startsWith('veth'))!
    assert.match(execFileSync('ip', ['-o', 'link', 'show', veth.name], {encoding: 'utf8'}), new RegExp(`master ${env.bridge}\\b`))
    const bridge = result.interfaces.find((i) => i.name === env.bridge)!
    assert.equal(readFileSync(`/sys/class/net/${env.bridge}/address`, 'utf8').trim(), bridge.mac)
    assert.match(execFileSync('ip', ['-o', '-4', 'addr', 'show', env.bridge], {encoding: 'utf8'}), new RegExp(`inet ${ip.gateway.replaceAll('.', '\\.')}/`))

    // The same info in YAML.
    assert.deepEqual(parseYaml(env.ok(['inspectp', '-o', 'yaml', id])).info, env.inspect(id).info)

    // Once stopped, nothing is applied any more, and info says so.
    env.ok(['stopp', id])
    const stopped = env.inspect(id).info
    assert.equal(stopped.pid, 0)
    assert.equal(stopped.cniResult, null)
    assert.equal(stopped.netNamespaceClosed, true)
    env.ok(['rmp', id])
    const gone = env.podctl(['inspectp', id])
    assert.equal(gone.code, 3, gone.stderr)
    env.assertNoLeaks()
  })
})
