// Validation of the PodSandboxConfig's Linux fields: what parsing
// refuses (naming the field), and what runPod checks before it makes
// anything (checkRunnable: sysctls, and what the host cannot do).

import assert from 'node:assert/strict'
import {describe, test} from 'node:test'

import type {PodSandboxConfig} from '../../../src/cri/types.js'
import type {CgroupFacts} from '../../../src/runtime/cgroups.js'
import {checkRunnable, checkSysctls, type HostFacts, parsePodSandboxConfig} from '../../../src/runtime/podconfig.js'
import {podctlError} from '../helpers.js'

const md = {name: 'web', namespace: 'default', uid: 'u1', attempt: 0}
const parse = (extra: Record<string, unknown>) => parsePodSandboxConfig(JSON.stringify({metadata: md, ...extra}), 'pod.json')
const linux = (l: Record<string, unknown>) => ({linux: l})
const sc = (s: Record<string, unknown>) => linux({security_context: s})
const hostNet = {namespace_options: {network: 'NODE'}}

describe('parsing refuses, naming the field', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    // port_mappings
    ['a host port mapped twice', {port_mappings: [{container_port: 80, host_port: 8080}, {container_port: 81, host_port: 8080}]}, 'port_mappings[1]: host port 8080/tcp on 0.0.0.0 is also mapped by port_mappings[0]'],
    ['a host port twice, one on every address', {port_mappings: [{container_port: 80, host_port: 53, protocol: 'UDP', host_ip: '127.0.0.1'}, {container_port: 81, host_port: 53, protocol: 'UDP'}]}, 'port_mappings[1]: host port 53/udp on 0.0.0.0 is also mapped by port_mappings[0]'],
    ['a host-network pod mapping a port elsewhere', {...sc(hostNet), port_mappings: [{container_port: 80, host_port: 8080}]}, 'port_mappings[0].host_port: 8080 differs from container_port 80'],
    // hostname
    ['a hostname on a host-network pod', {hostname: 'mine', ...sc(hostNet)}, 'hostname: a host-network pod has the host\'s own host name'],
    ['a hostname with a newline, on one line', {hostname: 'a\nb'}, 'hostname: "a\\nb" is not a valid host name'],
    // dns
    ['a DNS server with a newline, on one line', {dns_config: {servers: ['1.2.3.4\nnameserver 6.6.6.6']}}, 'dns_config.servers[0]: "1.2.3.4\\nnameserver 6.6.6.6" is not an IP address'],
    // cgroup_parent
    ['an invalid slice parent', linux({cgroup_parent: 'a--b.slice'}), 'linux.cgroup_parent: "a--b.slice" is not a valid systemd slice name'],
    ['a parent with a newline', linux({cgroup_parent: '/a\n/b'}), 'linux.cgroup_parent: "/a\\n/b" contains a control character'],
    // resources
    ['oom_score_adj past 1000', linux({resources: {oom_score_adj: 1001}}), 'linux.resources.oom_score_adj: 1001 is out of range'],
    ['a period under 1 ms', linux({resources: {cpu_period: 999}}), 'linux.resources.cpu_period: 999 is out of range'],
    ['a quota under 1 ms', linux({overhead: {cpu_quota: 500}}), 'linux.overhead.cpu_quota: 500 is below the kernel\'s minimum'],
    ['negative shares', linux({resources: {cpu_shares: -2}}), 'linux.resources.cpu_shares: -2 is negative'],
    ['memory+swap below memory', linux({resources: {memory_limit_in_bytes: 200, memory_swap_limit_in_bytes: 100}}), 'linux.resources.memory_swap_limit_in_bytes: 100 is below memory_limit_in_bytes 200'],
    ['a cpuset that is no list', linux({resources: {cpuset_cpus: 'all'}}), 'linux.resources.cpuset_cpus: "all" is not a list'],
    ['a page size in the wrong form', linux({resources: {hugepage_limits: [{page_size: '2Mi', limit: 1}]}}), 'linux.resources.hugepage_limits[0].page_size: "2Mi" is not a page size'],
    ['a unified key that climbs', linux({resources: {unified: {'../x': '1'}}}), 'linux.resources.unified.../x'],
    // security context
    ['a negative run_as_user', sc({run_as_user: -1}), 'linux.security_context.run_as_user: -1 is not a user or group ID'],
    ['uid (uid_t)-1', sc({run_as_user: 4294967295}), 'linux.security_context.run_as_user: 4294967295'],
    ['a negative supplemental group', sc({supplemental_groups: [1, -5]}), 'linux.security_context.supplemental_groups[1]: -5'],
    ['an unknown deprecated seccomp path', sc({seccomp_profile_path: 'strict'}), 'linux.security_context.seccomp_profile_path: "strict" is not a seccomp profile'],
    ['a relative deprecated Localhost path', sc({seccomp_profile_path: 'localhost/p.json'}), 'linux.security_context.seccomp_profile_path: "p.json" must be an absolute path'],
    ['a Localhost seccomp profile without a path', sc({seccomp: {profile_type: 'Localhost'}}), 'linux.security_context.seccomp.localhost_ref: "" must be an absolute path'],
  ]
  for (const [label, extra, needle] of cases) test(label, () => assert.throws(() => parse(extra), podctlError(2, `pod config "pod.json": ${needle}`)))

  const fine: [string, Record<string, unknown>][] = [
    ['the same host port on two addresses', {port_mappings: [{container_port: 80, host_port: 8080, host_ip: '127.0.0.1'}, {container_port: 80, host_port: 8080, host_ip: '10.0.0.1'}]}],
    ['the same host port over TCP and UDP', {port_mappings: [{container_port: 53, host_port: 53}, {container_port: 53, host_port: 53, protocol: 'UDP'}]}],
    ['a host-network pod declaring its port', {...sc(hostNet), port_mappings: [{container_port: 80, host_port: 80}, {container_port: 81}]}],
    ['an empty hostname on a host-network pod', {hostname: '', ...sc(hostNet)}],
    ['supplemental_groups_policy Strict', sc({run_as_user: 1, supplemental_groups: [2], supplemental_groups_policy: 'Strict'})],
    ['AppArmor RuntimeDefault and Unconfined (checked against the host at run time)', sc({apparmor: {profile_type: 'RuntimeDefault'}})],
    ['quota -1 and memory -1: no limit', linux({resources: {cpu_quota: -1, memory_limit_in_bytes: -1}})],
  ]
  for (const [label, extra] of fine) test(`accepted: ${label}`, () => void parse(extra))

  test('more than 3 DNS servers: a warning, the resolver reads 3', () => {
    assert.deepEqual(parse({dns_config: {servers: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4']}}).warnings, ['pod config "pod.json": dns_config.servers has 4 servers; the resolver uses only the first 3'])
  })
})

describe('checkSysctls: only what the pod\'s own namespaces hold', () => {
  const pod = (sysctls: Record<string, string>, ns: Record<string, number> = {}): PodSandboxConfig => ({metadata: md, linux: {sysctls, security_context: {namespace_options: ns}}})
  const ok: [string, Record<string, string>, Record<string, number>?][] = [
    ['net.* with a pod network', {'net.ipv4.ip_unprivileged_port_start': '80', 'net.core.somaxconn': '1024', 'net.ipv4.conf.all.rp_filter': '1'}],
    ['the slash form', {'net/ipv4/ping_group_range': '0 2147483647'}],
    ['IPC sysctls with a pod IPC namespace', {'kernel.shmmax': '1', 'kernel.shmall': '1', 'kernel.shmmni': '1', 'kernel.shm_rmid_forced': '1', 'kernel.msgmax': '1', 'kernel.msgmnb': '1', 'kernel.msgmni': '1', 'kernel.sem': '250 32000 32 128', 'fs.mqueue.msg_max': '10'}],
    ['IPC sysctls on a host-network pod', {'kernel.shmmax': '1'}, {network: 2}],
    ['net.* on a host-IPC pod', {'net.core.somaxconn': '1'}, {ipc: 2}],
    ['nothing', {}],
  ]
  for (const [label, sysctls, ns] of ok) test(`accepted: ${label}`, () => checkSysctls(pod(sysctls, ns)))
  const bad: [string, Record<string, string>, Record<string, number>, string][] = [
    ['a host-wide sysctl', {'kernel.panic': '1'}, {}, 'linux.sysctls.kernel.panic: not a namespaced sysctl, so it would change the whole host'],
    ['vm.*', {'vm.swappiness': '0'}, {}, 'linux.sysctls.vm.swappiness: not a namespaced sysctl'],
    ['fs.* outside mqueue', {'fs.file-max': '1'}, {}, 'linux.sysctls.fs.file-max: not a namespaced sysctl'],
    ['net.* on a host-network pod', {'net.ipv4.ip_forward': '1'}, {network: 2}, 'linux.sysctls.net.ipv4.ip_forward: a host-network pod shares the host\'s network namespace'],
    ['the slash form on a host-network pod', {'net/ipv4/ip_forward': '1'}, {network: 2}, 'linux.sysctls.net/ipv4/ip_forward: a host-network pod'],
    ['kernel.shmmax on a host-IPC pod', {'kernel.shmmax': '1'}, {ipc: 2}, 'linux.sysctls.kernel.shmmax: a host-IPC pod shares the host\'s IPC namespace'],
    ['fs.mqueue on a host-IPC pod', {'fs.mqueue.queues_max': '1'}, {ipc: 2}, 'linux.sysctls.fs.mqueue.queues_max: a host-IPC pod'],
    ['kernel.hostname', {'kernel.hostname': 'x'}, {}, 'linux.sysctls.kernel.hostname: set the pod\'s host name with the hostname field instead'],
    ['both forms of one name', {'net.core.somaxconn': '1', 'net/core/somaxconn': '2'}, {}, 'linux.sysctls.net/core/somaxconn: given twice (as net.core.somaxconn too)'],
    ['slashes and dots mixed', {'net/ipv4/conf/eth0.100/forwarding': '1'}, {}, "linux.sysctls.net/ipv4/conf/eth0.100/forwarding: mixes '/' and '.'"],
    ['a path that climbs', {'net.ipv4...x': '1'}, {}, 'linux.sysctls.net.ipv4...x: not a sysctl name'],
    ['one word', {'b': '1'}, {}, 'linux.sysctls.b: not a sysctl name'],
    ['a value with a newline', {'net.core.somaxconn': '1\n2'}, {}, 'linux.sysctls.net.core.somaxconn: the value "1\\n2" contains a control character'],
  ]
  for (const [label, sysctls, ns, needle] of bad) test(`refused: ${label}`, () => assert.throws(() => checkSysctls(pod(sysctls, ns)), podctlError(2, needle)))
})

describe('checkRunnable: the host as facts', () => {
  const cgroups: CgroupFacts = {mode: 'hybrid', controllers: ['cpu', 'memory'], hugepageSizes: [], cpus: '0-1', mems: '0', swapLimit: true}
  const host = (appArmor: boolean): HostFacts => ({cgroups, appArmor})
  const pod = (l: PodSandboxConfig['linux']): PodSandboxConfig => ({metadata: md, linux: l})
  test('sysctls are checked', () => assert.throws(() => checkRunnable(pod({sysctls: {'kernel.panic': '1'}}), host(false)), podctlError(2, 'linux.sysctls.kernel.panic')))
  test('resources and overhead are checked against the host', () => {
    assert.throws(() => checkRunnable(pod({resources: {cpuset_cpus: '7'}}), host(false)), podctlError(2, 'linux.resources.cpuset_cpus'))
    assert.throws(() => checkRunnable(pod({overhead: {hugepage_limits: [{page_size: '2MB', limit: 1}]}}), host(false)), podctlError(2, 'linux.overhead.hugepage_limits'))
  })
  const apparmor: [string, number | undefined, boolean, boolean][] = [
    ['RuntimeDefault without AppArmor in the kernel: no profile, as containerd', 0, false, true],
    ['RuntimeDefault on an AppArmor host: refused, podctl has no profile to load', 0, true, false],
    ['a profile with no type on an AppArmor host is RuntimeDefault', undefined, true, false],
    ['Unconfined on an AppArmor host', 1, true, true],
  ]
  for (const [label, type, enabled, accepted] of apparmor) {
    test(`apparmor ${label}`, () => {
      const run = () => checkRunnable(pod({security_context: {apparmor: type === undefined ? {} : {profile_type: type}}}), host(enabled))
      if (accepted) run()
      else assert.throws(run, podctlError(2, 'linux.security_context.apparmor'))
    })
  }
})
