import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import type {PodSandboxConfig, PortMapping} from '../../../src/cri/types.js'
import {cniPortMappings, conflictingMapping, duplicateHostPort, hostIpsOverlap, refuseTakenHostPorts} from '../../../src/runtime/ports.js'
import {podctlError} from '../helpers.js'

const pod = (port_mappings: PortMapping[]): PodSandboxConfig => ({metadata: {name: 'p', namespace: 'n', uid: 'u', attempt: 0}, port_mappings})

describe('cniPortMappings: what portmap is given', () => {
  const cases: [string, PortMapping[], unknown[]][] = [
    ['none', [], []],
    ['host_port 0 means no host port (CRI), so nothing', [{container_port: 80}, {container_port: 81, host_port: 0}], []],
    ['TCP by default, lowercased; hostIP "" is every address', [{container_port: 80, host_port: 8080}], [{hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: ''}]],
    [
      'UDP and SCTP, host_ip kept',
      [{protocol: 1, container_port: 53, host_port: 5353, host_ip: '127.0.0.1'}, {protocol: 2, container_port: 9, host_port: 9999}],
      [{hostPort: 5353, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1'}, {hostPort: 9999, containerPort: 9, protocol: 'sctp', hostIP: ''}],
    ],
  ]
  for (const [label, mappings, want] of cases) test(label, () => assert.deepEqual(cniPortMappings(pod(mappings)), want))
})

describe('hostIpsOverlap', () => {
  const cases: [string, string, boolean][] = [
    ['', '', true],
    ['', '127.0.0.1', true],
    ['', '::1', true],
    ['0.0.0.0', '10.0.0.1', true],
    ['0.0.0.0', '::1', false],
    ['::', '::1', true],
    ['::', '0:0::0', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['fe80::1', 'fe80::2', false],
    ['10.0.0.1', '::ffff:10.0.0.2', false],
  ]
  for (const [a, b, want] of cases) {
    test(`${JSON.stringify(a)} and ${JSON.stringify(b)}: ${want}`, () => {
      assert.equal(hostIpsOverlap(a, b), want)
      assert.equal(hostIpsOverlap(b, a), want, 'symmetric')
    })
  }
})

describe('duplicateHostPort: one config mapping a host port twice', () => {
  const cases: [string, PortMapping[], [number, number] | undefined][] = [
    ['different ports', [{container_port: 80, host_port: 8080}, {container_port: 81, host_port: 8081}], undefined],
    ['same port, TCP and UDP', [{container_port: 53, host_port: 53}, {protocol: 1, container_port: 53, host_port: 53}], undefined],
    ['same port and protocol', [{container_port: 80, host_port: 8080}, {container_port: 81, host_port: 8080}], [0, 1]],
    ['same port, distinct host IPs', [{container_port: 80, host_port: 8080, host_ip: '127.0.0.1'}, {container_port: 81, host_port: 8080, host_ip: '10.0.0.1'}], undefined],
    ['same port, one on every address', [{container_port: 80, host_port: 8080, host_ip: '127.0.0.1'}, {container_port: 81, host_port: 8080}], [0, 1]],
    ['host port 0 twice is no host port at all', [{container_port: 80}, {container_port: 80}], undefined],
    ['the later pair', [{container_port: 1, host_port: 1}, {container_port: 2, host_port: 2}, {container_port: 3, host_port: 2}], [1, 2]],
  ]
  for (const [label, mappings, want] of cases) test(label, () => assert.deepEqual(duplicateHostPort(mappings), want))
})

describe('conflictingMapping: a host port another pod holds', () => {
  const others = [
    {id: 'a'.repeat(64), config: pod([{container_port: 80, host_port: 8080}])},
    {id: 'b'.repeat(64), config: pod([{protocol: 1, container_port: 53, host_port: 5353, host_ip: '127.0.0.1'}])},
  ]
  const cases: [string, PortMapping[], {index: number; podSandboxId: string} | undefined][] = [
    ['a free port', [{container_port: 80, host_port: 8081}], undefined],
    ['the same TCP port', [{container_port: 8000, host_port: 8080}], {index: 0, podSandboxId: 'a'.repeat(64)}],
    ['the same port over UDP is free', [{protocol: 1, container_port: 80, host_port: 8080}], undefined],
    ['UDP 5353 on every address overlaps 127.0.0.1', [{container_port: 1, host_port: 1}, {protocol: 1, container_port: 53, host_port: 5353}], {index: 1, podSandboxId: 'b'.repeat(64)}],
    ['UDP 5353 on another address is free', [{protocol: 1, container_port: 53, host_port: 5353, host_ip: '127.0.0.2'}], undefined],
    ['no host port', [{container_port: 8080}], undefined],
  ]
  for (const [label, wanted, want] of cases) {
    test(label, () => {
      const got = conflictingMapping(wanted, others)
      assert.deepEqual(got && {index: got.index, podSandboxId: got.podSandboxId}, want)
    })
  }
  test('refuseTakenHostPorts: a usage error naming the mapping, the port and the pod', () => {
    assert.throws(
      () => refuseTakenHostPorts(pod([{container_port: 1, host_port: 2}, {container_port: 80, host_port: 8080}]), others),
      podctlError(2, `port_mappings[1]: host port 8080/tcp on 0.0.0.0 is already mapped by pod "${'a'.repeat(64)}"`),
    )
  })
  test('refuseTakenHostPorts: no conflict, no error', () => refuseTakenHostPorts(pod([{container_port: 80, host_port: 9090}]), others))
})
