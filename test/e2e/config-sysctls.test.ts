// linux.sysctls on a real pod, read from inside its namespaces (nsenter into
// the pause process: /proc/sys shows the reader's network and IPC
// namespaces), with the host's own values checked unchanged; the sysctls a
// pod may not set are refused, and the ones the kernel refuses inside the
// pod are reported by their field, each leaving nothing behind.

import assert from 'node:assert/strict'
import {after, afterEach, before, describe, test} from 'node:test'

import {assertRefused, hostSysctl, readIn, sysctlFile} from './config-helpers.js'
import {e2eOptions, TestEnv} from './harness.js'

/** A sysctl's value as the kernel prints it, whitespace (tabs in kernel.sem) made single spaces. */
const norm = (value: string) => value.trim().split(/\s+/).join(' ')

describe('linux.sysctls', e2eOptions(), () => {
  let env: TestEnv
  before(() => {
    env = new TestEnv(33)
  })
  after(() => env.teardown())
  afterEach(() => env.podctl(['rmp', '-af']))

  /** The pod's value of each sysctl, read in its network and IPC namespaces. */
  const podValues = (pid: number, names: string[]) => Object.fromEntries(names.map((n) => [n, norm(readIn(pid, ['-n', '-i'], sysctlFile(n)))]))
  const hostValues = (names: string[]) => Object.fromEntries(names.map((n) => [n, norm(hostSysctl(n))]))

  // Values that differ from both the host's defaults and a fresh namespace's.
  const wanted: Record<string, string> = {
    'net.ipv4.ip_local_port_range': '20000 29999',
    'net.ipv4.tcp_keepalive_time': '611',
    'kernel.shmmax': '123456789',
    'kernel.shm_rmid_forced': '1',
    'kernel.msgmax': '12345',
    'kernel.sem': '101 2001 31 41',
    'fs.mqueue.msg_max': '21',
  }
  const names = Object.keys(wanted)

  test('net.*, System V IPC and mqueue sysctls are set in the pod\'s namespaces, never on the host', () => {
    const host = hostValues(names)
    // The slash form is accepted too (crictl passes it through; runc writes the dotted one).
    const sysctls = {...wanted, 'net/ipv4/tcp_keepalive_time': wanted['net.ipv4.tcp_keepalive_time']}
    delete (sysctls as Record<string, string>)['net.ipv4.tcp_keepalive_time']
    const id = env.runPod('sysctls', {linux: {sysctls}})
    const {info} = env.inspect(id)
    assert.deepEqual(podValues(info.pid, names), wanted)
    assert.deepEqual(hostValues(names), host, 'the host keeps its own values')
    // inspectp shows what was applied, in the dotted form the runtime took.
    assert.deepEqual(info.runtimeSpec.linux.sysctl, wanted)
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('a sysctl of the pod\'s eth0 is set: the pause is made only once CNI ADD has made eth0', () => {
    const id = env.runPod('eth0-sysctl', {linux: {sysctls: {'net.ipv4.conf.eth0.arp_ignore': '1'}}})
    assert.equal(norm(readIn(env.inspect(id).info.pid, ['-n'], sysctlFile('net.ipv4.conf.eth0.arp_ignore'))), '1')
    env.ok(['rmp', '-f', id])
    env.assertNoLeaks()
  })

  test('with the host network, IPC sysctls still apply in the pod; with the host IPC, net.* ones still do', () => {
    const host = hostValues(names)
    const hostNet = env.runPod('host-net', {linux: {sysctls: {'kernel.shmmax': '123456789'}, security_context: {namespace_options: {network: 'NODE'}}}})
    const hostIpc = env.runPod('host-ipc', {linux: {sysctls: {'net.ipv4.ip_local_port_range': '20000 29999'}, security_context: {namespace_options: {ipc: 'NODE'}}}})
    assert.equal(norm(readIn(env.inspect(hostNet).info.pid, ['-i'], sysctlFile('kernel.shmmax'))), '123456789')
    assert.equal(norm(readIn(env.inspect(hostIpc).info.pid, ['-n'], sysctlFile('net.ipv4.ip_local_port_range'))), '20000 29999')
    assert.deepEqual(hostValues(names), host, 'the host keeps its own values')
    env.ok(['rmp', '-f', hostNet, hostIpc])
    env.assertNoLeaks()
  })

  test('sysctls that would change the host, or are not sysctls, are refused before anything is made', () => {
    const host = hostValues(['kernel.panic', 'vm.swappiness', 'net.ipv4.ip_local_port_range', 'kernel.shmmax'])
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['not namespaced', {sysctls: {'kernel.panic': '5'}}, /linux\.sysctls\.kernel\.panic: not a namespaced sysctl, so it would change the whole host/],
      ['not namespaced (vm)', {sysctls: {'vm.swappiness': '1'}}, /linux\.sysctls\.vm\.swappiness: not a namespaced sysctl/],
      ['the host name', {sysctls: {'kernel.hostname': 'x'}}, /linux\.sysctls\.kernel\.hostname: set the pod's host name with the hostname field instead/],
      [
        'net.* with the host network',
        {sysctls: {'net.ipv4.ip_local_port_range': '20000 29999'}, security_context: {namespace_options: {network: 'NODE'}}},
        /linux\.sysctls\.net\.ipv4\.ip_local_port_range: a host-network pod shares the host's network namespace/,
      ],
      [
        'IPC with the host IPC',
        {sysctls: {'kernel.shmmax': '1'}, security_context: {namespace_options: {ipc: 'NODE'}}},
        /linux\.sysctls\.kernel\.shmmax: a host-IPC pod shares the host's IPC namespace/,
      ],
      ['mixed separators', {sysctls: {'net.ipv4/ip_forward': '1'}}, /linux\.sysctls\.net\.ipv4\/ip_forward: mixes '\/' and '\.'/],
      ['not a name', {sysctls: {'ip_forward': '1'}}, /linux\.sysctls\.ip_forward: not a sysctl name/],
      ['given twice', {sysctls: {'net.ipv4.ip_forward': '1', 'net/ipv4/ip_forward': '0'}}, /linux\.sysctls\.net\/ipv4\/ip_forward: given twice/],
      ['a control character', {sysctls: {'net.ipv4.ip_forward': '1\n'}}, /linux\.sysctls\.net\.ipv4\.ip_forward: the value "1\\n" contains a control character/],
    ]
    for (const [what, linux, message] of cases) assertRefused(env, linux, message, what)
    assert.deepEqual(hostValues(Object.keys(host)), host)
    env.assertNoLeaks()
  })

  test('a sysctl the kernel refuses inside the pod is reported by its field, and the pod is rolled back', () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      ['no such sysctl', {'net.ipv4.no_such_sysctl': '1'}, /^error: linux\.sysctls\.net\.ipv4\.no_such_sysctl: no such sysctl in the pod's namespaces \(runc run of pod "[0-9a-f]{64}": open \/proc\/sys\/net\/ipv4\/no_such_sysctl: no such file or directory\)$/],
      ['a value the kernel refuses', {'net/ipv4/ip_local_port_range': '30000 20000'}, /^error: linux\.sysctls\.net\.ipv4\.ip_local_port_range: the kernel refused the value \(runc run of pod "[0-9a-f]{64}": write \/proc\/sys\/net\/ipv4\/ip_local_port_range: invalid argument\)$/],
      ['an IPC value the kernel refuses', {'kernel.shmmax': 'lots'}, /^error: linux\.sysctls\.kernel\.shmmax: the kernel refused the value/],
    ]
    for (const [what, sysctls, message] of cases) {
      const r = env.podctl(['runp', env.podConfig({metadata: {name: 'kernel-refused', namespace: 'default'}, linux: {sysctls}})])
      assert.equal(r.code, 2, `${what}: ${r.stderr}`)
      assert.equal(r.stdout, '')
      // One line: the error names the field, the pod it was rolled back from and the kernel's answer.
      assert.match(r.stderr.trimEnd(), message, what)
      assert.equal(r.stderr.trimEnd().split('\n').length, 1, `${what}: one line: ${r.stderr}`)
      assert.equal(env.ok(['pods', '-q']), '', `${what}: the pod was rolled back`)
      // The rolled-back pod's ID is in the message: leaks() looks for its cgroups and processes too.
      env.assertNoLeaks()
    }
  })
})
