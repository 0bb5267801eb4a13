// PodSandboxConfig → the OCI runtime spec (config.json) of the pause
// container. Pure, like containerd's sandboxContainerSpec, "so that we can
// test it safely": every fact about the host comes in as an argument.

import {type HugepageLimit, type LinuxContainerResources, type LinuxSandboxSecurityContext, NamespaceMode, type PodSandboxConfig, ProfileType} from '../cri/types.js'
import {usageError} from './errors.js'
import {seccompProfileOf} from './seccomp.js'

export interface PauseSpecInput {
  podSandboxId: string
  config: PodSandboxConfig
  /** absolute path of the shared, read-only pause rootfs */
  rootfs: string
  /** the pinned network namespace; absent for host-network pods */
  netnsPath?: string
  /** files bind-mounted read-only at /etc/hostname, /etc/hosts, /etc/resolv.conf */
  files: {hostname: string; hosts: string; resolvConf: string}
  /** the pod cgroup on v1 and hybrid hosts, its pause leaf on v2 */
  cgroupsPath: string
  /** cgroup v2 hosts get a cgroup namespace, as containerd does, and no limits on the pause's leaf */
  cgroupV2: boolean
  /** the capabilities this process may grant (its bounding set) */
  boundingCapabilities: string[]
  /** the pause binary inside the rootfs, with its arguments */
  args: string[]
  /** a seccomp profile (Localhost), already read from disk */
  seccompProfile?: Record<string, unknown>
  /** the built-in RuntimeDefault seccomp profile */
  defaultSeccompProfile: Record<string, unknown>
}

/** The default capability set of a container (containerd's and Docker's). */
export const defaultCapabilities = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]

export const maskedPaths = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
]

export const readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

/** /dev/shm of the pod: private tmpfs, 64 MiB as containerd's sandbox shm. */
export const shmSize = 64 * 1024 * 1024

export type OciSpec = Record<string, unknown> & {
  process: Record<string, unknown>
  linux: Record<string, unknown> & {namespaces: {type: string; path?: string}[]}
  mounts: {destination: string; type: string; source: string; options?: string[]}[]
}

export function buildPauseSpec(input: PauseSpecInput): OciSpec {
  const {config} = input
  const sc = config.linux?.security_context ?? {}
  const ns = sc.namespace_options ?? {}
  const hostNetwork = ns.network === NamespaceMode.NODE
  const hostPid = ns.pid === NamespaceMode.NODE
  const hostIpc = ns.ipc === NamespaceMode.NODE
  const privileged = sc.privileged === true

  const namespaces: {type: string; path?: string}[] = [{type: 'mount'}]
  if (!hostPid) namespaces.push({type: 'pid'})
  if (!hostIpc) namespaces.push({type: 'ipc'})
  // A host-network pod shares the host's UTS namespace too (containerd).
  if (!hostNetwork) {
    namespaces.push({type: 'uts'})
    if (!input.netnsPath) throw new Error('internal error: a pod network namespace path is required')
    namespaces.push({type: 'network', path: input.netnsPath})
  }
  if (input.cgroupV2) namespaces.push({type: 'cgroup'})

  const caps = privileged ? input.boundingCapabilities : defaultCapabilities.filter((c) => input.boundingCapabilities.includes(c))

  const user: Record<string, unknown> = {uid: sc.run_as_user?.value ?? 0, gid: sc.run_as_group?.value ?? 0}
  // supplemental_groups_policy Merge and Strict give the pause the same groups: its rootfs has no /etc/group to merge from.
  if (sc.supplemental_groups && sc.supplemental_groups.length > 0) user.additionalGids = sc.supplemental_groups

  const process: Record<string, unknown> = {
    terminal: false,
    user,
    args: input.args,
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    cwd: '/',
    capabilities: {bounding: caps, effective: caps, permitted: caps},
    noNewPrivileges: !privileged,
  }
  const resources = effectiveResources(config.linux?.resources, config.linux?.overhead)
  if (resources.oom_score_adj !== undefined) process.oomScoreAdj = resources.oom_score_adj

  const mounts: OciSpec['mounts'] = [
    {destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev']},
    {destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},
    {destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620']},
    hostIpc
      ? {destination: '/dev/shm', type: 'bind', source: '/dev/shm', options: ['rbind', 'nosuid', 'noexec', 'nodev']}
      : {destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${shmSize}`]},
    {destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', privileged ? 'rw' : 'ro']},
    {destination: '/etc/hostname', type: 'bind', source: input.files.hostname, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec']},
    {destination: '/etc/hosts', type: 'bind', source: input.files.hosts, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec']},
    {destination: '/etc/resolv.conf', type: 'bind', source: input.files.resolvConf, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec']},
  ]
  if (!hostIpc) mounts.splice(4, 0, {destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev']})

  const linux: OciSpec['linux'] = {
    namespaces,
    cgroupsPath: input.cgroupsPath,
    // On v2 the pause's cgroup is a leaf of the pod's, and the pod's limits are written into the pod cgroup (./cgroup-v2.ts).
    resources: linuxResources(input.cgroupV2 ? {} : resources),
  }
  if (!privileged) {
    linux.maskedPaths = maskedPaths
    linux.readonlyPaths = readonlyPaths
  }
  const sysctls = Object.entries(config.linux?.sysctls ?? {})
  if (sysctls.length > 0) linux.sysctl = Object.fromEntries(sysctls.map(([name, value]) => [sysctlName(name), value]))
  const seccomp = seccompFor(config.linux?.security_context, input.seccompProfile, input.defaultSeccompProfile)
  if (seccomp) linux.seccomp = seccomp

  const spec: OciSpec = {
    ociVersion: '1.0.2',
    process,
    // Read-only whatever readonly_rootfs says: one pause rootfs is shared by every pod, and the pause writes nothing.
    root: {path: input.rootfs, readonly: true},
    mounts,
    annotations: sandboxAnnotations(input),
    linux,
  }
  if (!hostNetwork) spec.hostname = podHostname(config)
  return spec
}

/** A sysctl's dotted name, as the runtime spec takes it; the slash form (net/ipv4/ip_forward) is converted. */
export const sysctlName = (given: string): string => given.replaceAll('/', '.')

/** The pod's host name: the configured one, else the pod's name (as kubelet and podman). */
export function podHostname(config: PodSandboxConfig): string {
  if (config.hostname) return config.hostname
  // Trimmed again after truncation, as kubelet does: the 63rd character may be a '-' or '.'.
  const trim = (s: string) => s.replace(/^[-.]+|[-.]+$/g, '')
  return trim(trim(config.metadata.name.toLowerCase().replace(/[^a-z0-9.-]/g, '-')).slice(0, 63)) || 'pod'
}

function sandboxAnnotations(input: PauseSpecInput): Record<string, string> {
  const md = input.config.metadata
  // Pod annotations pass through; the io.kubernetes.cri.* ones say what this container is, as containerd's.
  return {
    ...input.config.annotations,
    'io.kubernetes.cri.container-type': 'sandbox',
    'io.kubernetes.cri.sandbox-id': input.podSandboxId,
    'io.kubernetes.cri.sandbox-name': md.name,
    'io.kubernetes.cri.sandbox-namespace': md.namespace,
    'io.kubernetes.cri.sandbox-uid': md.uid,
    'io.kubernetes.cri.sandbox-log-directory': input.config.log_directory ?? '',
  }
}

/**
 * The pod cgroup's limits: the sum of the containers' resources (CRI:
 * "resources" is that sum) and the pod overhead. CPU shares, quota, memory,
 * memory+swap and each huge page size add up; the period, cpusets, the OOM
 * score and unified files come from resources, else from overhead. Quotas
 * are added as they are: kubelet gives both the same period.
 */
export function effectiveResources(resources?: LinuxContainerResources, overhead?: LinuxContainerResources): LinuxContainerResources {
  if (!overhead) return resources ?? {}
  if (!resources) return overhead
  const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0))
  // A quota of -1 is "no limit": the sum has none either.
  const quota = resources.cpu_quota === -1 || overhead.cpu_quota === -1 ? -1 : sum(resources.cpu_quota, overhead.cpu_quota)
  const out: LinuxContainerResources = {
    ...resources,
    cpu_shares: sum(resources.cpu_shares, overhead.cpu_shares),
    cpu_quota: quota,
    cpu_period: resources.cpu_period ?? overhead.cpu_period,
    memory_limit_in_bytes: sum(resources.memory_limit_in_bytes, overhead.memory_limit_in_bytes),
  }
  // Only what either side sets, so that an unset field stays absent.
  const rest: Partial<LinuxContainerResources> = {
    oom_score_adj: resources.oom_score_adj ?? overhead.oom_score_adj,
    cpuset_cpus: resources.cpuset_cpus || overhead.cpuset_cpus || undefined,
    cpuset_mems: resources.cpuset_mems || overhead.cpuset_mems || undefined,
    memory_swap_limit_in_bytes: sum(resources.memory_swap_limit_in_bytes, overhead.memory_swap_limit_in_bytes),
    hugepage_limits: sumHugepages(resources.hugepage_limits, overhead.hugepage_limits),
    unified: resources.unified || overhead.unified ? {...overhead.unified, ...resources.unified} : undefined,
  }
  for (const [key, value] of Object.entries(rest)) if (value !== undefined) (out as Record<string, unknown>)[key] = value
  return out
}

function sumHugepages(a: HugepageLimit[] = [], b: HugepageLimit[] = []): HugepageLimit[] | undefined {
  if (a.length === 0 && b.length === 0) return undefined
  const bySize = new Map<string, number>()
  for (const h of [...a, ...b]) bySize.set(h.page_size ?? '', (bySize.get(h.page_size ?? '') ?? 0) + (h.limit ?? 0))
  return [...bySize].map(([page_size, limit]) => ({page_size, limit}))
}

export function linuxResources(r: LinuxContainerResources): Record<string, unknown> {
  const out: Record<string, unknown> = {devices: [{allow: false, access: 'rwm'}]}
  const cpu: Record<string, unknown> = {}
  if (r.cpu_shares) cpu.shares = r.cpu_shares
  if (r.cpu_quota) cpu.quota = r.cpu_quota
  if (r.cpu_period) cpu.period = r.cpu_period
  if (r.cpuset_cpus) cpu.cpus = r.cpuset_cpus
  if (r.cpuset_mems) cpu.mems = r.cpuset_mems
  if (Object.keys(cpu).length > 0) out.cpu = cpu
  const memory: Record<string, unknown> = {}
  if (r.memory_limit_in_bytes) memory.limit = r.memory_limit_in_bytes
  if (r.memory_swap_limit_in_bytes) memory.swap = r.memory_swap_limit_in_bytes
  if (Object.keys(memory).length > 0) out.memory = memory
  if (r.hugepage_limits && r.hugepage_limits.length > 0) {
    out.hugepageLimits = r.hugepage_limits.map((h) => ({pageSize: h.page_size, limit: h.limit ?? 0}))
  }
  if (r.unified && Object.keys(r.unified).length > 0) out.unified = {...r.unified}
  return out
}

/** The seccomp section for a security context, pod's or container's (their seccomp fields are the same). */
export function seccompFor(
  sc: LinuxSandboxSecurityContext = {},
  seccompProfile: Record<string, unknown> | undefined,
  defaultSeccompProfile: Record<string, unknown>,
): Record<string, unknown> | undefined {
  // As containerd: a privileged sandbox runs without seccomp.
  if (sc.privileged) return undefined
  const profile = seccompProfileOf(sc)
  if (!profile) return undefined
  switch (profile.profile_type ?? ProfileType.RuntimeDefault) {
    case ProfileType.Unconfined:
      return undefined
    case ProfileType.RuntimeDefault:
      return defaultSeccompProfile
    case ProfileType.Localhost:
      if (!seccompProfile) throw usageError('linux.security_context.seccomp: the Localhost profile was not loaded')
      return seccompProfile
    default:
      return undefined
  }
}
