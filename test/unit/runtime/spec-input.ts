// A container spec builder's input with fixed IDs and paths, for the tests
// of buildContainerSpec: each overrides what it is about.

import type {ContainerConfig} from '../../../src/cri/container-types.js'
import type {PodSandboxConfig} from '../../../src/cri/types.js'
import type {ContainerSpecInput} from '../../../src/runtime/container-spec.js'
import {defaultCapabilities} from '../../../src/runtime/oci-spec.js'

export const cid = 'cd'.repeat(32)
export const podId = 'ab'.repeat(32)
export const pod: PodSandboxConfig = {metadata: {name: 'web', namespace: 'default', uid: 'u-1', attempt: 0}}
export const bounding = [...defaultCapabilities, 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN']
export const cfg = (extra: Partial<ContainerConfig> = {}): ContainerConfig => ({metadata: {name: 'app', attempt: 0}, image: {image: 'busybox'}, ...extra})

export function specInput(config: ContainerConfig = cfg(), extra: Partial<ContainerSpecInput> = {}): ContainerSpecInput {
  return {
    containerId: cid,
    podSandboxId: podId,
    config,
    pod,
    imageName: 'docker.io/library/busybox:latest',
    image: {Cmd: ['sh']},
    rootfs: '/run/podctl/ctr/rootfs',
    pausePid: 4242,
    files: {hostname: '/s/hostname', hosts: '/s/hosts', resolvConf: '/s/resolv.conf'},
    shmPath: '/proc/4242/root/dev/shm',
    cgroupsPath: `/podctl/${podId}/${cid}`,
    cgroupV2: false,
    boundingCapabilities: bounding,
    defaultSeccompProfile: {defaultAction: 'SCMP_ACT_ERRNO'},
    ...extra,
  }
}
