import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import type {ContainerConfig, LinuxContainerSecurityContext} from '../../../src/cri/container-types.js'
import {NamespaceMode, type PodSandboxConfig} from '../../../src/cri/types.js'
import {
  buildContainerSpec,
  containerNamespaces,
  type ImageProcessConfig,
  processArgs,
  processCapabilities,
  processEnv,
  processUser,
} from '../../../src/runtime/container-spec.js'
import {defaultCapabilities, maskedPaths} from '../../../src/runtime/oci-spec.js'
import {podctlError} from '../helpers.js'
import {bounding, cfg, cid, pod, podId, specInput as input} from './spec-input.js'

const withSc = (sc: LinuxContainerSecurityContext, extra: Partial<ContainerConfig> = {}) => cfg({linux: {security_context: sc}, ...extra})

describe('container spec: command and args (kubelet rules)', () => {
  const image: ImageProcessConfig = {Entrypoint: ['/entry'], Cmd: ['--cmd']}
  const cases: [string, Partial<ContainerConfig>, ImageProcessConfig, string[]][] = [
    ['image Entrypoint and Cmd', {}, image, ['/entry', '--cmd']],
    ['args replace Cmd only', {args: ['a']}, image, ['/entry', 'a']],
    ['command replaces both', {command: ['/bin/sh']}, image, ['/bin/sh']],
    ['command and args', {command: ['/bin/sh'], args: ['-c', 'x']}, image, ['/bin/sh', '-c', 'x']],
    ['Cmd alone', {}, {Cmd: ['sh']}, ['sh']],
    ['args alone without Entrypoint', {args: ['echo', 'hi']}, {Cmd: ['sh']}, ['echo', 'hi']],
  ]
  for (const [name, config, img, want] of cases) test(name, () => assert.deepEqual(processArgs(cfg(config), img), want))
  test('nothing to run is an error', () => assert.throws(() => processArgs(cfg(), {}), podctlError(2, 'no command specified')))
})

describe('container spec: env, user, cwd', () => {
  test('image env first, config keys replace it, PATH and HOSTNAME defaulted', () => {
    const env = processEnv(cfg({envs: [{key: 'A', value: 'config'}, {key: 'B', value: ''}]}), {Env: ['A=image', 'PATH=/bin']}, 'web')
    assert.deepEqual(env, ['A=config', 'PATH=/bin', 'HOSTNAME=web', 'B='])
    assert.ok(processEnv(cfg(), {}).some((e) => e.startsWith('PATH=/usr/local/sbin')))
  })
  const users: [string, ContainerConfig, ImageProcessConfig, {uid: number; gid: number; additionalGids: number[]}][] = [
    ['root by default', cfg(), {}, {uid: 0, gid: 0, additionalGids: [0]}],
    ['image uid', cfg(), {User: '1000'}, {uid: 1000, gid: 0, additionalGids: [0]}],
    ['image uid:gid', cfg(), {User: '1000:50'}, {uid: 1000, gid: 50, additionalGids: [50]}],
    ['run_as_user wins over the image', withSc({run_as_user: {value: 7}}), {User: '1000:50'}, {uid: 7, gid: 0, additionalGids: [0]}],
    ['run_as_group', withSc({run_as_user: {value: 7}, run_as_group: {value: 8}}), {}, {uid: 7, gid: 8, additionalGids: [8]}],
  ]
  for (const [name, config, image, want] of users) test(`user: ${name}`, () => assert.deepEqual(processUser(config, image), want))
  test('an image user name needs the image\'s /etc/passwd', () => assert.throws(() => processUser(cfg(), {User: 'nobody'}), podctlError(2, 'image user "nobody"', 'no user "nobody"', 'has no /etc/passwd')))
  test('supplemental groups, with the primary GID, sorted', () => assert.deepEqual(processUser(withSc({supplemental_groups: [11, 10]}), {}).additionalGids, [0, 10, 11]))
  test('cwd: config, else image, else /', () => {
    assert.equal(buildContainerSpec(input(cfg({working_dir: '/w'}), {image: {Cmd: ['sh'], WorkingDir: '/i'}})).process.cwd, '/w')
    assert.equal(buildContainerSpec(input(cfg(), {image: {Cmd: ['sh'], WorkingDir: '/i'}})).process.cwd, '/i')
    assert.equal(buildContainerSpec(input()).process.cwd, '/')
  })
})

describe('container spec: capabilities', () => {
  const cases: [string, LinuxContainerSecurityContext, (caps: string[]) => void][] = [
    ['defaults', {}, (c) => assert.deepEqual(c, defaultCapabilities)],
    ['add NET_ADMIN', {capabilities: {add_capabilities: ['NET_ADMIN']}}, (c) => assert.ok(c.includes('CAP_NET_ADMIN'))],
    ['drop CHOWN', {capabilities: {drop_capabilities: ['CHOWN']}}, (c) => assert.ok(!c.includes('CAP_CHOWN'))],
    ['drop ALL', {capabilities: {drop_capabilities: ['ALL']}}, (c) => assert.deepEqual(c, [])],
    ['drop ALL, add one', {capabilities: {drop_capabilities: ['ALL'], add_capabilities: ['NET_RAW']}}, (c) => assert.deepEqual(c, ['CAP_NET_RAW'])],
    ['add ALL is the bounding set', {capabilities: {add_capabilities: ['ALL']}}, (c) => assert.deepEqual([...c].sort(), [...bounding].sort())],
    ['outside the bounding set is left out', {capabilities: {add_capabilities: ['SYS_TIME']}}, (c) => assert.ok(!c.includes('CAP_SYS_TIME'))],
    ['privileged gets the bounding set', {privileged: true}, (c) => assert.deepEqual(c, bounding)],
  ]
  for (const [name, sc, check] of cases) test(name, () => check(processCapabilities(withSc(sc), bounding).effective))
  test('ambient capabilities are also inheritable', () => {
    const caps = processCapabilities(withSc({capabilities: {add_capabilities: ['NET_ADMIN'], add_ambient_capabilities: ['NET_ADMIN']}}), bounding)
    assert.deepEqual(caps.ambient, ['CAP_NET_ADMIN'])
    assert.deepEqual(caps.inheritable, ['CAP_NET_ADMIN'])
  })
})

describe('container spec: namespaces', () => {
  const p = (ns: Record<string, number>): PodSandboxConfig => ({...pod, linux: {security_context: {namespace_options: ns}}})
  const cases: [string, ContainerConfig, PodSandboxConfig, boolean, {type: string; path?: string}[]][] = [
    ['joins net, uts, ipc and pid of the pause', cfg(), pod, false, [
      {type: 'mount'},
      {type: 'network', path: '/proc/4242/ns/net'},
      {type: 'uts', path: '/proc/4242/ns/uts'},
      {type: 'ipc', path: '/proc/4242/ns/ipc'},
      {type: 'pid', path: '/proc/4242/ns/pid'},
    ]],
    ['pid CONTAINER: its own', withSc({namespace_options: {pid: NamespaceMode.CONTAINER}}), pod, false, [
      {type: 'mount'},
      {type: 'network', path: '/proc/4242/ns/net'},
      {type: 'uts', path: '/proc/4242/ns/uts'},
      {type: 'ipc', path: '/proc/4242/ns/ipc'},
      {type: 'pid'},
    ]],
    ['host network, ipc and pid pod: only mount and cgroup', withSc({namespace_options: {pid: NamespaceMode.POD}}), p({network: 2, ipc: 2, pid: 2}), true, [{type: 'mount'}, {type: 'cgroup'}]],
    ['pid NODE: none', withSc({namespace_options: {pid: NamespaceMode.NODE}}), p({network: 2, ipc: 2}), false, [{type: 'mount'}]],
  ]
  for (const [name, config, podConfig, v2, want] of cases) test(name, () => assert.deepEqual(containerNamespaces({config, pod: podConfig, pausePid: 4242, cgroupV2: v2}), want))
})

describe('container spec: the whole spec', () => {
  test('rootfs, pod files, shm, masks, annotations, tty', () => {
    const spec = buildContainerSpec(input(cfg({tty: true, annotations: {a: 'b'}})))
    assert.deepEqual(spec.root, {path: '/run/podctl/ctr/rootfs', readonly: false})
    assert.equal(spec.process.terminal, true)
    const at = (d: string) => spec.mounts.find((m) => m.destination === d)
    assert.equal(at('/etc/hosts')?.source, '/s/hosts')
    assert.equal(at('/etc/resolv.conf')?.source, '/s/resolv.conf')
    assert.equal(at('/etc/hostname')?.source, '/s/hostname')
    assert.equal(at('/dev/shm')?.source, '/proc/4242/root/dev/shm')
    assert.deepEqual(spec.linux.maskedPaths, maskedPaths)
    assert.equal(spec.linux.cgroupsPath, `/podctl/${podId}/${cid}`)
    assert.deepEqual(spec.annotations, {
      a: 'b',
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.container-name': 'app',
      'io.kubernetes.cri.image-name': 'docker.io/library/busybox:latest',
      'io.kubernetes.cri.sandbox-id': podId,
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'u-1',
    })
    assert.equal(spec.linux.seccomp, undefined)
  })
  test('readonly rootfs also makes the pod files read-only', () => {
    const spec = buildContainerSpec(input(withSc({readonly_rootfs: true})))
    assert.equal((spec.root as {readonly: boolean}).readonly, true)
    assert.ok(spec.mounts.find((m) => m.destination === '/etc/hosts')?.options?.includes('ro'))
  })
  test('mounts: readonly honoured, and one at a default place replaces it', () => {
    const spec = buildContainerSpec(input(cfg({mounts: [{container_path: '/data', host_path: '/srv', readonly: true}, {container_path: '/etc/hosts', host_path: '/my/hosts'}]})))
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/data'), {destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'rprivate', 'ro']})
    assert.deepEqual(spec.mounts.filter((m) => m.destination === '/etc/hosts').map((m) => m.source), ['/my/hosts'])
  })
  test('privileged: no masks, rw sysfs, no seccomp', () => {
    const spec = buildContainerSpec(input(withSc({privileged: true, seccomp: {profile_type: 0}})))
    assert.equal(spec.linux.maskedPaths, undefined)
    assert.equal(spec.linux.seccomp, undefined)
    assert.ok(spec.mounts.find((m) => m.destination === '/sys')?.options?.includes('rw'))
  })
  test('masked and readonly paths as given; no_new_privs; seccomp RuntimeDefault; resources', () => {
    const spec = buildContainerSpec(
      input(cfg({linux: {security_context: {masked_paths: ['/proc/x'], readonly_paths: [], no_new_privs: true, seccomp: {profile_type: 0}}, resources: {memory_limit_in_bytes: 1 << 24, cpu_shares: 512, oom_score_adj: 100}}})),
    )
    assert.deepEqual(spec.linux.maskedPaths, ['/proc/x'])
    assert.deepEqual(spec.linux.readonlyPaths, [])
    assert.equal(spec.process.noNewPrivileges, true)
    assert.deepEqual(spec.linux.seccomp, {defaultAction: 'SCMP_ACT_ERRNO'})
    assert.equal(spec.process.oomScoreAdj, 100)
    assert.deepEqual((spec.linux.resources as {memory: unknown}).memory, {limit: 1 << 24})
    assert.deepEqual((spec.linux.resources as {cpu: unknown}).cpu, {shares: 512})
  })
})
