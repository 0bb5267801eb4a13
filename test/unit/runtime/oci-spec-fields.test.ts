// The OCI spec of the pause container, field by field of PodSandboxConfig:
// one table per CRI field, each row a config and what the runtime spec must
// say for it (checked against the CRI and the OCI runtime spec).

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import type {LinuxContainerResources, PodSandboxConfig} from '../../../src/cri/types.js'
import {podCgroupsPath} from '../../../src/runtime/cgroups.js'
import {buildPauseSpec, defaultCapabilities, effectiveResources, type OciSpec, type PauseSpecInput} from '../../../src/runtime/oci-spec.js'
import {defaultSeccompProfile} from '../../../src/runtime/seccomp.js'
import {podctlError} from '../helpers.js'

const id = '5e'.repeat(32)
const md = {name: 'fields', namespace: 'default', uid: 'u-f', attempt: 0}
const bounding = [...defaultCapabilities, 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN', 'CAP_SYS_RESOURCE']
const runtimeDefault = defaultSeccompProfile()

type Linux = NonNullable<PodSandboxConfig['linux']>

function spec(config: Omit<Partial<PodSandboxConfig>, 'metadata'> = {}, extra: Partial<PauseSpecInput> = {}): OciSpec {
  const hostNetwork = config.linux?.security_context?.namespace_options?.network === 2
  return buildPauseSpec({
    podSandboxId: id,
    config: {metadata: md, ...config},
    rootfs: '/var/lib/podctl/pause/rootfs',
    netnsPath: hostNetwork ? undefined : '/run/podctl/netns/x',
    files: {hostname: '/p/hostname', hosts: '/p/hosts', resolvConf: '/p/resolv.conf'},
    cgroupsPath: podCgroupsPath(config.linux?.cgroup_parent, id),
    cgroupV2: false,
    boundingCapabilities: bounding,
    args: ['/catatonit', '-P'],
    defaultSeccompProfile: runtimeDefault,
    ...extra,
  })
}
const sc = (securityContext: NonNullable<Linux['security_context']>, extra: Partial<PauseSpecInput> = {}) => spec({linux: {security_context: securityContext}}, extra)
const nsOf = (s: OciSpec) => Object.fromEntries(s.linux.namespaces.map((n) => [n.type, n.path ?? 'new']))
const mount = (s: OciSpec, destination: string) => s.mounts.find((m) => m.destination === destination)
const capsOf = (s: OciSpec) => s.process.capabilities as Record<string, string[]>

describe('namespace_options → linux.namespaces (CRI NamespaceOption; OCI linux.namespaces)', () => {
  const netns = '/run/podctl/netns/x'
  const cases: [string, Record<string, number>, Record<string, string>][] = [
    ['all POD (the default)', {}, {mount: 'new', pid: 'new', ipc: 'new', uts: 'new', network: netns}],
    ['network NODE: no network and no uts namespace', {network: 2}, {mount: 'new', pid: 'new', ipc: 'new'}],
    ['pid NODE: no pid namespace', {pid: 2}, {mount: 'new', ipc: 'new', uts: 'new', network: netns}],
    ['pid CONTAINER: the pause still gets a pid namespace of its own', {pid: 1}, {mount: 'new', pid: 'new', ipc: 'new', uts: 'new', network: netns}],
    ['ipc NODE: no ipc namespace', {ipc: 2}, {mount: 'new', pid: 'new', uts: 'new', network: netns}],
    ['every namespace NODE', {network: 2, pid: 2, ipc: 2}, {mount: 'new'}],
  ]
  for (const [label, options, want] of cases) test(label, () => assert.deepEqual(nsOf(sc({namespace_options: options})), want))

  test('ipc NODE binds the host /dev/shm and drops the private mqueue', () => {
    const s = sc({namespace_options: {ipc: 2}})
    assert.equal(mount(s, '/dev/shm')?.source, '/dev/shm')
    assert.equal(mount(s, '/dev/mqueue'), undefined)
  })
})

describe('hostname → spec.hostname (a UTS namespace of its own)', () => {
  const cases: [string, Omit<Partial<PodSandboxConfig>, 'metadata'>, string | undefined][] = [
    ['the configured one', {hostname: 'web-1.example'}, 'web-1.example'],
    ['else the pod name', {}, 'fields'],
    ['none for a host-network pod (the host UTS namespace)', {linux: {security_context: {namespace_options: {network: 2}}}}, undefined],
  ]
  for (const [label, config, want] of cases) test(label, () => assert.equal(spec(config).hostname, want))
})

describe('log_directory → the sandbox-log-directory annotation', () => {
  const cases: [string | undefined, string][] = [
    ['/var/log/pods/default_web_u', '/var/log/pods/default_web_u'],
    [undefined, ''],
  ]
  for (const [dir, want] of cases) {
    test(String(dir), () => assert.equal((spec({log_directory: dir}).annotations as Record<string, string>)['io.kubernetes.cri.sandbox-log-directory'], want))
  }
})

describe('linux.sysctls → linux.sysctl, names in dotted form', () => {
  const cases: [string, Record<string, string>, Record<string, string> | undefined][] = [
    ['none', {}, undefined],
    ['dotted names as given', {'net.core.somaxconn': '1024', 'kernel.shmmax': '68719476736'}, {'net.core.somaxconn': '1024', 'kernel.shmmax': '68719476736'}],
    ['the slash form converted', {'net/ipv4/ip_unprivileged_port_start': '80', 'fs/mqueue/msg_max': '20'}, {'net.ipv4.ip_unprivileged_port_start': '80', 'fs.mqueue.msg_max': '20'}],
    ['a multi-word value kept', {'kernel.sem': '250 32000 32 128'}, {'kernel.sem': '250 32000 32 128'}],
  ]
  for (const [label, sysctls, want] of cases) test(label, () => assert.deepEqual(spec({linux: {sysctls}}).linux.sysctl, want))
  test('no default sysctls are added (unlike containerd 2.x), even for a pod network', () => {
    assert.equal(spec({}).linux.sysctl, undefined)
  })
})

describe('linux.cgroup_parent → linux.cgroupsPath (cgroupfs driver; slices expanded)', () => {
  const cases: [string | undefined, string][] = [
    [undefined, `/podctl/${id}`],
    ['/kubepods/burstable', `/kubepods/burstable/${id}`],
    ['/test.slice', `/test.slice/${id}`],
    ['test.slice', `/test.slice/${id}`],
    ['kubepods-burstable.slice', `/kubepods.slice/kubepods-burstable.slice/${id}`],
    ['/kubepods.slice/kubepods-besteffort.slice', `/kubepods.slice/kubepods-besteffort.slice/${id}`],
  ]
  for (const [parent, want] of cases) test(String(parent), () => assert.equal(spec({linux: {cgroup_parent: parent}}).linux.cgroupsPath, want))
})

describe('linux.resources + linux.overhead → linux.resources (OCI LinuxResources)', () => {
  const deny = [{allow: false, access: 'rwm'}]
  const cases: [string, Pick<Linux, 'resources' | 'overhead'>, Record<string, unknown>][] = [
    ['none: only the device rule', {}, {devices: deny}],
    [
      'cpu shares, quota, period and cpuset',
      {resources: {cpu_shares: 512, cpu_quota: 50_000, cpu_period: 100_000, cpuset_cpus: '0', cpuset_mems: '0'}},
      {devices: deny, cpu: {shares: 512, quota: 50_000, period: 100_000, cpus: '0', mems: '0'}},
    ],
    ['a memory limit and memory+swap', {resources: {memory_limit_in_bytes: 64 << 20, memory_swap_limit_in_bytes: 128 << 20}}, {devices: deny, memory: {limit: 64 << 20, swap: 128 << 20}}],
    [
      'overhead added to resources',
      {resources: {cpu_shares: 256, cpu_quota: 20_000, cpu_period: 100_000, memory_limit_in_bytes: 96 << 20}, overhead: {cpu_shares: 64, cpu_quota: 5_000, memory_limit_in_bytes: 32 << 20}},
      {devices: deny, cpu: {shares: 320, quota: 25_000, period: 100_000}, memory: {limit: 128 << 20}},
    ],
    ['overhead alone', {overhead: {cpu_shares: 100, memory_limit_in_bytes: 10 << 20}}, {devices: deny, cpu: {shares: 100}, memory: {limit: 10 << 20}}],
    [
      'huge pages of one size summed',
      {resources: {hugepage_limits: [{page_size: '2MB', limit: 4 << 20}]}, overhead: {hugepage_limits: [{page_size: '2MB', limit: 2 << 20}, {page_size: '1GB', limit: 1 << 30}]}},
      {devices: deny, hugepageLimits: [{pageSize: '2MB', limit: 6 << 20}, {pageSize: '1GB', limit: 1 << 30}]},
    ],
    ['unified files, resources over overhead', {resources: {unified: {'memory.high': '1G'}}, overhead: {unified: {'memory.high': '2G', 'pids.max': '10'}}}, {devices: deny, unified: {'memory.high': '1G', 'pids.max': '10'}}],
    ['an unlimited quota stays unlimited', {resources: {cpu_quota: -1}, overhead: {cpu_quota: 10_000}}, {devices: deny, cpu: {quota: -1}}],
  ]
  for (const [label, linux, want] of cases) test(label, () => assert.deepEqual(spec({linux}).linux.resources, want))

  const oom: [string, Pick<Linux, 'resources' | 'overhead'>, number | undefined][] = [
    ['oom_score_adj from resources', {resources: {oom_score_adj: 500}, overhead: {oom_score_adj: 100}}, 500],
    ['oom_score_adj from overhead when resources has none', {resources: {cpu_shares: 2}, overhead: {oom_score_adj: 100}}, 100],
    ['no oom_score_adj', {resources: {cpu_shares: 2}}, undefined],
  ]
  for (const [label, linux, want] of oom) test(label, () => assert.equal(spec({linux}).process.oomScoreAdj, want))
})

describe('effectiveResources: the fields it adds beside the summed ones', () => {
  const cases: [string, [LinuxContainerResources, LinuxContainerResources], Partial<LinuxContainerResources>][] = [
    ['swap summed', [{memory_swap_limit_in_bytes: 100}, {memory_swap_limit_in_bytes: 20}], {memory_swap_limit_in_bytes: 120}],
    ['cpusets from resources first', [{cpuset_cpus: '0'}, {cpuset_cpus: '1', cpuset_mems: '0'}], {cpuset_cpus: '0', cpuset_mems: '0'}],
  ]
  for (const [label, [r, o], want] of cases) {
    test(label, () => {
      const got = effectiveResources(r, o) as Record<string, unknown>
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, k)
    })
  }
  test('fields neither side sets stay absent', () => {
    assert.deepEqual(Object.keys(effectiveResources({cpu_shares: 1}, {cpu_shares: 2})).sort(), ['cpu_period', 'cpu_quota', 'cpu_shares', 'memory_limit_in_bytes'])
  })
})

describe('security_context → process and linux (CRI LinuxSandboxSecurityContext)', () => {
  const users: [string, NonNullable<Linux['security_context']>, Record<string, unknown>][] = [
    ['root by default', {}, {uid: 0, gid: 0}],
    ['run_as_user 1000, run_as_group 3000, supplemental_groups [4000]', {run_as_user: {value: 1000}, run_as_group: {value: 3000}, supplemental_groups: [4000]}, {uid: 1000, gid: 3000, additionalGids: [4000]}],
    ['run_as_user alone: group 0', {run_as_user: {value: 65534}}, {uid: 65534, gid: 0}],
    ['supplemental_groups_policy Strict: the same groups (the pause rootfs has no /etc/group to merge)', {run_as_user: {value: 1}, supplemental_groups: [5], supplemental_groups_policy: 1}, {uid: 1, gid: 0, additionalGids: [5]}],
  ]
  for (const [label, securityContext, want] of users) test(`process.user: ${label}`, () => assert.deepEqual(sc(securityContext).process.user, want))

  const readonly: [string, boolean | undefined][] = [
    ['readonly_rootfs true', true],
    ['readonly_rootfs false: still read-only, the pause rootfs is shared by every pod (containerd does the same)', false],
    ['unset', undefined],
  ]
  for (const [label, ro] of readonly) test(`root.readonly: ${label}`, () => assert.equal((sc({readonly_rootfs: ro}).root as {readonly: boolean}).readonly, true))

  const privilege: [string, boolean, {caps: string[]; nnp: boolean; masked: boolean; sys: string}][] = [
    ['unprivileged: the default set, no new privileges, masked paths, /sys ro', false, {caps: defaultCapabilities, nnp: true, masked: true, sys: 'ro'}],
    ['privileged: every capability this process has, no masks, /sys rw', true, {caps: bounding, nnp: false, masked: false, sys: 'rw'}],
  ]
  for (const [label, privileged, want] of privilege) {
    test(label, () => {
      const s = sc({privileged})
      for (const set of ['bounding', 'effective', 'permitted']) assert.deepEqual(capsOf(s)[set], want.caps, set)
      assert.equal(capsOf(s).inheritable, undefined, 'no inheritable capabilities (CVE-2022-24769)')
      assert.equal(capsOf(s).ambient, undefined)
      assert.equal(s.process.noNewPrivileges, want.nnp)
      assert.equal(Array.isArray(s.linux.maskedPaths), want.masked)
      assert.ok(mount(s, '/sys')?.options?.includes(want.sys))
    })
  }
  test('capabilities this process lacks are never granted', () => {
    assert.deepEqual(capsOf(sc({}, {boundingCapabilities: ['CAP_KILL', 'CAP_SYS_ADMIN']})).effective, ['CAP_KILL'])
  })

  const local = {defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['mkdir'], action: 'SCMP_ACT_ERRNO'}]}
  const seccomps: [string, NonNullable<Linux['security_context']>, unknown][] = [
    ['unset: none (CRI: Unconfined for the sandbox)', {}, undefined],
    ['RuntimeDefault: podctl\'s profile', {seccomp: {profile_type: 0}}, runtimeDefault],
    ['Unconfined: none', {seccomp: {profile_type: 1}}, undefined],
    ['Localhost: the loaded profile', {seccomp: {profile_type: 2, localhost_ref: '/etc/p.json'}}, local],
    ['privileged wins over RuntimeDefault', {privileged: true, seccomp: {profile_type: 0}}, undefined],
    ['deprecated seccomp_profile_path runtime/default', {seccomp_profile_path: 'runtime/default'}, runtimeDefault],
    ['deprecated seccomp_profile_path docker/default', {seccomp_profile_path: 'docker/default'}, runtimeDefault],
    ['deprecated seccomp_profile_path unconfined', {seccomp_profile_path: 'unconfined'}, undefined],
    ['deprecated seccomp_profile_path localhost/<path>', {seccomp_profile_path: 'localhost//etc/p.json'}, local],
    ['seccomp wins over the deprecated path', {seccomp: {profile_type: 1}, seccomp_profile_path: 'runtime/default'}, undefined],
  ]
  for (const [label, securityContext, want] of seccomps) test(`seccomp: ${label}`, () => assert.deepEqual(sc(securityContext, {seccompProfile: local}).linux.seccomp, want))
  test('seccomp: an unknown deprecated path is a usage error naming the field', () => {
    assert.throws(() => sc({seccomp_profile_path: 'strict'}), podctlError(2, 'linux.security_context.seccomp_profile_path', '"strict"'))
  })
})
