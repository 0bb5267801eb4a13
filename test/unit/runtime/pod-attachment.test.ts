import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {podAttachment} from '../../../src/runtime/pod-attachment.js'
import {type PodRecord, recordVersion} from '../../../src/runtime/store.js'

const id = 'a'.repeat(64)
const record = (config: Partial<PodRecord['config']> = {}): PodRecord => ({
  version: recordVersion,
  id,
  name: 'web_default_u_0',
  createdAt: '1',
  phase: 'ready',
  config: {metadata: {name: 'web', namespace: 'default', uid: 'u', attempt: 0}, ...config},
  runtimeHandler: '',
  runtimePath: '/usr/bin/runc',
  cgroupParent: '/podctl',
  netnsPath: `/run/podctl/netns/${id}`,
})

describe('podAttachment', () => {
  test('the CNI_ARGS a kubelet runtime sets, and the cgroup path', () => {
    const att = podAttachment(record())
    assert.equal(att.containerId, id)
    assert.equal(att.netns, `/run/podctl/netns/${id}`)
    assert.equal(att.ifName, 'eth0')
    assert.deepEqual(att.args, {IgnoreUnknown: '1', K8S_POD_NAMESPACE: 'default', K8S_POD_NAME: 'web', K8S_POD_INFRA_CONTAINER_ID: id, K8S_POD_UID: 'u'})
    assert.equal(att.capabilityArgs.cgroupPath, `/podctl/${id}`)
    assert.equal(att.capabilityArgs.portMappings, undefined)
    assert.equal(att.capabilityArgs.dns, undefined)
  })

  test('port mappings and DNS become capability args', () => {
    const att = podAttachment(record({port_mappings: [{container_port: 80, host_port: 8080}], dns_config: {servers: ['10.0.0.10']}, annotations: {a: 'b'}}))
    assert.deepEqual(att.capabilityArgs.portMappings, [{hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: ''}])
    assert.deepEqual(att.capabilityArgs.dns, {servers: ['10.0.0.10'], searches: [], options: []})
    assert.deepEqual(att.capabilityArgs['io.kubernetes.cri.pod-annotations'], {a: 'b'})
  })

  test('on DEL with the netns gone, netns is empty (CNI spec)', () => {
    assert.equal(podAttachment(record(), true).netns, '')
  })
})
