import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import type {PodSandboxConfig} from '../../../src/cri/types.js'
import {buildPauseSpec, defaultCapabilities, effectiveResources, type OciSpec, type PauseSpecInput, podHostname} from '../../../src/runtime/oci-spec.js'
import {podctlError} from '../helpers.js'

const id = 'ab'.repeat(32)
const files = {hostname: '/state/pods/x/hostname', hosts: '/state/pods/x/hosts', resolvConf: '/state/pods/x/resolv.conf'}
const defaultProfile = {defaultAction: 'SCMP_ACT_ALLOW', syscalls: []}
/** Bounding set of the test "host": most defaults, minus CAP_AUDIT_WRITE, plus SYS_ADMIN. */
const bounding = [...defaultCapabilities.filter((c) => c !== 'CAP_AUDIT_WRITE'), 'CAP_SYS_ADMIN', 'CAP_NET_ADMIN']

function input(config: Partial<PodSandboxConfig> = {}, extra: Partial<PauseSpecInput> = {}): PauseSpecInput {
  return {
    podSandboxId: id,
    config: {metadata: {name: 'web', namespace: 'default', uid: 'u-1', attempt: 0}, ...config},
    rootfs: '/state/pause/rootfs',
    netnsPath: '/run/podctl/netns/x',
    files,
    cgroupsPath: `/podctl/${id}`,
    cgroupV2: false,
    boundingCapabilities: bounding,
    args: ['/catatonit', '-P'],
    defaultSeccompProfile: defaultProfile,
    ...extra,
  }
}
const withSc = (securityContext: Record<string, unknown>, extra: Partial<PauseSpecInput> = {}) =>
  input({linux: {security_context: securityContext}}, extra)

const nsTypes = (spec: OciSpec) => spec.linux.namespaces.map((n) => n.type)
const mount = (spec: OciSpec, destination: string) => spec.mounts.find((m) => m.destination === destination)
const caps = (spec: OciSpec) => (spec.process.capabilities as {bounding: string[]; effective: string[]; permitted: string[]})

describe('buildPauseSpec: the default pod', () => {
  const spec = buildPauseSpec(input({annotations: {'team': 'blue'}, log_directory: '/var/log/pods/x'}))

  test('own mount, pid, ipc, uts and network namespaces; network by path', () => {
    assert.deepEqual(spec.linux.namespaces, [{type: 'mount'}, {type: 'pid'}, {type: 'ipc'}, {type: 'uts'}, {type: 'network', path: '/run/podctl/netns/x'}])
  })
  test('hostname from the pod name', () => assert.equal(spec.hostname, 'web'))
  test('read-only shared rootfs', () => assert.deepEqual(spec.root, {path: '/state/pause/rootfs', readonly: true}))
  test('private /dev/shm tmpfs of 64 MiB', () => {
    assert.deepEqual(mount(spec, '/dev/shm'), {destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864']})
  })
  test('/dev/mqueue of its own', () => assert.equal(mount(spec, '/dev/mqueue')?.type, 'mqueue'))
  for (const [destination, source] of [['/etc/hostname', files.hostname], ['/etc/hosts', files.hosts], ['/etc/resolv.conf', files.resolvConf]]) {
    test(`${destination} bind-mounted read-only from ${source}`, () => {
      const m = mount(spec, destination)
      assert.equal(m?.type, 'bind')
      assert.equal(m?.source, source)
      assert.ok(m?.options?.includes('ro') && m.options.includes('rbind'), String(m?.options))
    })
  }
  test('/sys read-only', () => assert.ok(mount(spec, '/sys')?.options?.includes('ro')))
  test('masked and read-only paths', () => {
    assert.ok((spec.linux.maskedPaths as string[]).includes('/proc/kcore'))
    assert.ok((spec.linux.readonlyPaths as string[]).includes('/proc/sys'))
  })
  test('default capabilities filtered by the bounding set', () => {
    const want = defaultCapabilities.filter((c) => c !== 'CAP_AUDIT_WRITE')
    assert.deepEqual(caps(spec), {bounding: want, effective: want, permitted: want})
    assert.ok(!caps(spec).bounding.includes('CAP_SYS_ADMIN'))
  })
  test('noNewPrivileges, root user, the pause args', () => {
    assert.equal(spec.process.noNewPrivileges, true)
    assert.deepEqual(spec.process.user, {uid: 0, gid: 0})
    assert.deepEqual(spec.process.args, ['/catatonit', '-P'])
    assert.equal(spec.process.oomScoreAdj, undefined)
  })
  test('pod annotations pass through beside the io.kubernetes.cri.* ones', () => {
    assert.deepEqual(spec.annotations, {
      team: 'blue',
      'io.kubernetes.cri.container-type': 'sandbox',
      'io.kubernetes.cri.sandbox-id': id,
      'io.kubernetes.cri.sandbox-name': 'web',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.sandbox-uid': 'u-1',
      'io.kubernetes.cri.sandbox-log-directory': '/var/log/pods/x',
    })
  })
  test('the cgroupsPath given; devices denied; no limits', () => {
    assert.equal(spec.linux.cgroupsPath, `/podctl/${id}`)
    assert.deepEqual(spec.linux.resources, {devices: [{allow: false, access: 'rwm'}]})
  })
  test('no sysctl and no seccomp unless asked (CRI: unset seccomp is Unconfined)', () => {
    assert.equal(spec.linux.sysctl, undefined)
    assert.equal(spec.linux.seccomp, undefined)
  })
  test('a pod annotation cannot override the io.kubernetes.cri.* ones', () => {
    const s = buildPauseSpec(input({annotations: {'io.kubernetes.cri.sandbox-id': 'forged'}}))
    assert.equal((s.annotations as Record<string, string>)['io.kubernetes.cri.sandbox-id'], id)
  })
})

describe('buildPauseSpec: namespace options', () => {
  const cases: {label: string; in: PauseSpecInput; namespaces: string[]; check?: (s: OciSpec) => void}[] = [
    {
      label: 'host network: no network and no uts namespace, no hostname',
      in: withSc({namespace_options: {network: 2}}, {netnsPath: undefined}),
      namespaces: ['mount', 'pid', 'ipc'],
      check: (s) => assert.equal('hostname' in s, false),
    },
    {label: 'host pid', in: withSc({namespace_options: {pid: 2}}), namespaces: ['mount', 'ipc', 'uts', 'network']},
    {
      label: 'host ipc: /dev/shm bound from the host, no mqueue',
      in: withSc({namespace_options: {ipc: 2}}),
      namespaces: ['mount', 'pid', 'uts', 'network'],
      check: (s) => {
        assert.deepEqual(mount(s, '/dev/shm'), {destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev']})
        assert.equal(mount(s, '/dev/mqueue'), undefined)
      },
    },
    {label: 'cgroup v2 adds a cgroup namespace', in: input({}, {cgroupV2: true}), namespaces: ['mount', 'pid', 'ipc', 'uts', 'network', 'cgroup']},
    {label: 'pid CONTAINER is a pod pid namespace', in: withSc({namespace_options: {pid: 1}}), namespaces: ['mount', 'pid', 'ipc', 'uts', 'network']},
    {
      label: 'all host namespaces on cgroup v2',
      in: withSc({namespace_options: {network: 2, pid: 2, ipc: 2}}, {netnsPath: undefined, cgroupV2: true}),
      namespaces: ['mount', 'cgroup'],
    },
  ]
  for (const c of cases) {
    test(c.label, () => {
      const spec = buildPauseSpec(c.in)
      assert.deepEqual(nsTypes(spec), c.namespaces)
      c.check?.(spec)
    })
  }

  test('a pod network without a netns path is an internal error', () => {
    assert.throws(() => buildPauseSpec(input({}, {netnsPath: undefined})), /network namespace path is required/)
  })
})

describe('buildPauseSpec: security context', () => {
  test('privileged: every bounding cap, no masks, /sys rw, no seccomp even if asked', () => {
    const spec = buildPauseSpec(withSc({privileged: true, seccomp: {profile_type: 0}}))
    assert.deepEqual(caps(spec).bounding, bounding)
    assert.deepEqual(caps(spec).effective, bounding)
    assert.equal(spec.linux.maskedPaths, undefined)
    assert.equal(spec.linux.readonlyPaths, undefined)
    assert.ok(mount(spec, '/sys')?.options?.includes('rw'))
    assert.equal(spec.linux.seccomp, undefined)
    assert.equal(spec.process.noNewPrivileges, false)
  })

  const users: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['run_as_user only', {run_as_user: {value: 1000}}, {uid: 1000, gid: 0}],
    ['user and group', {run_as_user: {value: 1000}, run_as_group: {value: 3000}}, {uid: 1000, gid: 3000}],
    ['supplemental groups', {run_as_user: {value: 1}, supplemental_groups: [4, 27]}, {uid: 1, gid: 0, additionalGids: [4, 27]}],
    ['no supplemental groups for an empty list', {supplemental_groups: []}, {uid: 0, gid: 0}],
  ]
  for (const [label, securityContext, want] of users) {
    test(`process.user: ${label}`, () => assert.deepEqual(buildPauseSpec(withSc(securityContext)).process.user, want))
  }

  const localProfile = {defaultAction: 'SCMP_ACT_ERRNO'}
  const seccomps: [string, Record<string, unknown>, Partial<PauseSpecInput>, unknown][] = [
    ['RuntimeDefault', {seccomp: {profile_type: 0}}, {}, defaultProfile],
    ['a profile with no type is RuntimeDefault', {seccomp: {}}, {}, defaultProfile],
    ['Unconfined', {seccomp: {profile_type: 1}}, {}, undefined],
    ['Localhost', {seccomp: {profile_type: 2, localhost_ref: '/p.json'}}, {seccompProfile: localProfile}, localProfile],
    ['unset', {}, {}, undefined],
  ]
  for (const [label, securityContext, extra, want] of seccomps) {
    test(`seccomp ${label}`, () => assert.deepEqual(buildPauseSpec(withSc(securityContext, extra)).linux.seccomp, want))
  }
  test('seccomp Localhost without a loaded profile is a usage error', () => {
    assert.throws(() => buildPauseSpec(withSc({seccomp: {profile_type: 2, localhost_ref: '/p.json'}})), podctlError(2, 'linux.security_context.seccomp'))
  })
})

describe('buildPauseSpec: sysctls and resources', () => {
  test('sysctls are copied to linux.sysctl', () => {
    const sysctls = {'net.ipv4.ip_unprivileged_port_start': '0', 'kernel.shm_rmid_forced': '1'}
    assert.deepEqual(buildPauseSpec(input({linux: {sysctls}})).linux.sysctl, sysctls)
  })

  test('resources plus overhead become the pod cgroup limits', () => {
    const spec = buildPauseSpec(
      input({
        linux: {
          resources: {cpu_shares: 512, cpu_quota: 50_000, cpu_period: 100_000, memory_limit_in_bytes: 256 << 20, cpuset_cpus: '0-1', hugepage_limits: [{page_size: '2MB', limit: 1 << 21}], unified: {'pids.max': '100'}},
          overhead: {cpu_shares: 128, cpu_quota: 10_000, memory_limit_in_bytes: 64 << 20},
        },
      }),
    )
    assert.deepEqual(spec.linux.resources, {
      devices: [{allow: false, access: 'rwm'}],
      cpu: {shares: 640, quota: 60_000, period: 100_000, cpus: '0-1'},
      memory: {limit: 320 << 20},
      hugepageLimits: [{pageSize: '2MB', limit: 1 << 21}],
      unified: {'pids.max': '100'},
    })
  })

  test('on cgroup v2 the pause leaf gets no limits: they go to the pod cgroup (cgroup-v2.ts)', () => {
    const spec = buildPauseSpec(input({linux: {resources: {cpu_shares: 512, memory_limit_in_bytes: 256 << 20, oom_score_adj: 10}}}, {cgroupV2: true}))
    assert.deepEqual(spec.linux.resources, {devices: [{allow: false, access: 'rwm'}]})
    assert.equal(spec.process.oomScoreAdj, 10, 'the OOM score is the process\'s, kept')
  })

  const oom: [string, PodSandboxConfig['linux'], number | undefined][] = [
    ['from resources', {resources: {oom_score_adj: -998}}, -998],
    ['zero is kept', {resources: {oom_score_adj: 0}}, 0],
    ['unset', {resources: {cpu_shares: 2}}, undefined],
  ]
  for (const [label, linux, want] of oom) {
    test(`oomScoreAdj ${label}`, () => assert.equal(buildPauseSpec(input({linux})).process.oomScoreAdj, want))
  }
})

describe('effectiveResources', () => {
  const cases: [string, Parameters<typeof effectiveResources>, ReturnType<typeof effectiveResources>][] = [
    ['neither', [undefined, undefined], {}],
    ['resources only', [{cpu_shares: 2}, undefined], {cpu_shares: 2}],
    ['overhead only', [undefined, {memory_limit_in_bytes: 10}], {memory_limit_in_bytes: 10}],
    [
      'summed shares, quota and memory; period from resources',
      [{cpu_shares: 100, cpu_quota: 1000, cpu_period: 100_000, memory_limit_in_bytes: 1000, oom_score_adj: 5}, {cpu_shares: 10, cpu_quota: 100, cpu_period: 50_000, memory_limit_in_bytes: 24}],
      {cpu_shares: 110, cpu_quota: 1100, cpu_period: 100_000, memory_limit_in_bytes: 1024, oom_score_adj: 5},
    ],
    ['period from overhead when resources has none', [{cpu_quota: 1}, {cpu_period: 20_000}], {cpu_quota: 1, cpu_shares: undefined, cpu_period: 20_000, memory_limit_in_bytes: undefined}],
    ['one side missing a field', [{memory_limit_in_bytes: 100}, {cpu_shares: 3}], {memory_limit_in_bytes: 100, cpu_shares: 3, cpu_quota: undefined, cpu_period: undefined}],
  ]
  for (const [label, args, want] of cases) {
    test(label, () => assert.deepEqual(effectiveResources(...args), want))
  }
})

describe('podHostname', () => {
  const cases: {name: string; hostname?: string; want: string; todo?: string}[] = [
    {name: 'web', want: 'web'},
    {name: 'Web-Server', want: 'web-server'},
    {name: 'my_pod.v2', want: 'my-pod.v2'},
    {name: '__x__', want: 'x'},
    {name: '.-lead-and-trail-.', want: 'lead-and-trail'},
    {name: '___', want: 'pod'},
    {name: 'ünïcode', want: 'n-code'},
    {name: 'ignored', hostname: 'explicit.example', want: 'explicit.example'},
    {name: 'a'.repeat(100), want: 'a'.repeat(63)},
    {
      name: `${'a'.repeat(62)}_b`,
      want: 'a'.repeat(62),
    },
  ]
  for (const {name, hostname, want, todo} of cases) {
    test(`${JSON.stringify(name.length > 20 ? `${name.slice(0, 8)}…(${name.length})` : name)}${hostname ? ` with hostname ${hostname}` : ''} -> ${want.length > 20 ? `${want.length} chars` : want}`, {todo}, () => {
      const got = podHostname({metadata: {name, namespace: 'n', uid: 'u', attempt: 0}, hostname})
      assert.equal(got, want)
      assert.match(got, /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/)
    })
  }
})

describe('buildPauseSpec is pure', () => {
  const rich = withSc(
    {run_as_user: {value: 7}, supplemental_groups: [1, 2], seccomp: {profile_type: 0}, namespace_options: {ipc: 2}},
    {cgroupV2: true},
  )
  rich.config.linux = {...rich.config.linux, sysctls: {'net.core.somaxconn': '1024'}, resources: {cpu_shares: 2}, overhead: {cpu_shares: 3}}
  rich.config.annotations = {a: 'b'}

  test('the same input twice gives deep-equal output', () => {
    assert.deepEqual(buildPauseSpec(rich), buildPauseSpec(rich))
  })
  test('the input is not mutated', () => {
    const before = structuredClone(rich)
    buildPauseSpec(rich)
    assert.deepEqual(rich, before)
  })
  test('one call does not leak into the next', () => {
    const first = buildPauseSpec(input())
    buildPauseSpec(rich)
    assert.deepEqual(buildPauseSpec(input()), first)
  })
})
