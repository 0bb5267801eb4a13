import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import {sysctlFailure} from '../../../src/runtime/oci-runtime.js'

describe('sysctlFailure: a sysctl the kernel refused, named as its config field', () => {
  const runc = (detail: string) => `runc create failed: unable to start container process: error during container init: ${detail}`
  const cases: [string, string, ReturnType<typeof sysctlFailure>][] = [
    [
      'runc 1.1, no such sysctl',
      runc('open /proc/sys/net/ipv4/nonexistent: no such file or directory'),
      {field: 'linux.sysctls.net.ipv4.nonexistent', why: "no such sysctl in the pod's namespaces", cause: 'open /proc/sys/net/ipv4/nonexistent: no such file or directory'},
    ],
    [
      'runc 1.1, a value the kernel refuses',
      runc('write /proc/sys/kernel/shmmax: invalid argument'),
      {field: 'linux.sysctls.kernel.shmmax', why: 'the kernel refused the value', cause: 'write /proc/sys/kernel/shmmax: invalid argument'},
    ],
    [
      'an interface name with a dot stays one part of the field',
      runc('open /proc/sys/net/ipv4/conf/eth0.100/forwarding: no such file or directory'),
      {field: 'linux.sysctls.net.ipv4.conf.eth0.100.forwarding', why: "no such sysctl in the pod's namespaces", cause: 'open /proc/sys/net/ipv4/conf/eth0.100/forwarding: no such file or directory'},
    ],
    [
      'crun quotes the path',
      'open `/proc/sys/fs/mqueue/nope`: No such file or directory',
      {field: 'linux.sysctls.fs.mqueue.nope', why: "no such sysctl in the pod's namespaces", cause: 'open `/proc/sys/fs/mqueue/nope`: No such file or directory'},
    ],
    [
      'any other errno',
      runc('write /proc/sys/net/core/somaxconn: permission denied'),
      {field: 'linux.sysctls.net.core.somaxconn', why: 'the runtime could not set it', cause: 'write /proc/sys/net/core/somaxconn: permission denied'},
    ],
    ['not a sysctl failure', runc('open /sys/fs/cgroup/x: no such file or directory'), undefined],
    ['crun on a hybrid host', 'cgroups in hybrid mode not supported, drop all controllers from cgroupv2', undefined],
  ]
  for (const [label, text, want] of cases) test(label, () => assert.deepEqual(sysctlFailure(text), want))
})
