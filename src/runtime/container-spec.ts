// ContainerConfig + the image's config + the pod → the OCI runtime spec
// (config.json) of one container. Pure, like buildPauseSpec: every fact about
// the host (the pause's PID, the mounted rootfs, the capability bounding set)
// comes in as an argument, so each rule is table-tested.

import {type ContainerConfig, type Mount, MountPropagation, SupplementalGroupsPolicy} from '../cri/container-types.js'
import {NamespaceMode, type PodSandboxConfig} from '../cri/types.js'
import {usageError} from './errors.js'
import type {HostDevice} from './host-devices.js'
import {type HostMount, isShared, isSlave, type SelinuxMode} from './host-mounts.js'
import {type ImageEtc, memberGroups, type ResolvedUser, resolveUserString} from './image-users.js'
import {defaultCapabilities, linuxResources, maskedPaths, type OciSpec, podHostname, readonlyPaths, seccompFor} from './oci-spec.js'

/** What a container takes from its image's config (OCI image spec "config"). */
export interface ImageProcessConfig {
  User?: string
  Env?: string[]
  Entrypoint?: string[]
  Cmd?: string[]
  WorkingDir?: string
}

export interface ContainerSpecInput {
  containerId: string
  podSandboxId: string
  config: ContainerConfig
  pod: PodSandboxConfig
  /** the image's name as resolved (for annotations) and its process config */
  imageName: string
  image: ImageProcessConfig
  /** the mounted overlay rootfs */
  rootfs: string
  /** the pause's PID: its namespaces are joined through /proc/<pid>/ns */
  pausePid: number
  /** the pod's /etc files, bind-mounted */
  files: {hostname: string; hosts: string; resolvConf: string}
  /** the pod's /dev/shm as seen from the host (the pause's, through /proc/<pid>/root) */
  shmPath: string
  cgroupsPath: string
  cgroupV2: boolean
  boundingCapabilities: string[]
  seccompProfile?: Record<string, unknown>
  defaultSeccompProfile: Record<string, unknown>
  /** the image's /etc/passwd and /etc/group, read from the rootfs: user names and groups resolve in them */
  etc?: ImageEtc
  /** the host mount of each config mount's host_path (host-mounts.ts) */
  hostMounts?: Record<string, HostMount>
  /** SELinux on the host: a relabel is refused only when it is enforcing */
  selinux?: SelinuxMode
  /** the host device nodes of the config's devices (host-devices.ts) */
  hostDevices?: HostDevice[]
}

const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Entrypoint and arguments under kubelet's rules: a command replaces Entrypoint and Cmd, args replace Cmd alone. */
export function processArgs(config: ContainerConfig, image: ImageProcessConfig): string[] {
  const command = config.command ?? []
  const args = config.args ?? []
  const argv = command.length > 0 ? [...command, ...args] : [...(image.Entrypoint ?? []), ...(args.length > 0 ? args : (image.Cmd ?? []))]
  if (argv.length === 0) throw usageError('container config: no command specified: neither command nor args is set, and the image has no Entrypoint or Cmd', 'set command in the container config')
  return argv
}

/** The image's environment, then the config's: a config key replaces the image's. */
export function processEnv(config: ContainerConfig, image: ImageProcessConfig, hostname?: string): string[] {
  const env = new Map<string, string>()
  for (const entry of image.Env ?? []) {
    const eq = entry.indexOf('=')
    env.set(eq < 0 ? entry : entry.slice(0, eq), entry)
  }
  if (!env.has('PATH')) env.set('PATH', defaultPath)
  if (hostname !== undefined && !env.has('HOSTNAME')) env.set('HOSTNAME', `HOSTNAME=${hostname}`)
  for (const {key, value} of config.envs ?? []) if (key) env.set(key, `${key}=${value ?? ''}`)
  return [...env.values()]
}

/**
 * uid, gid and supplementary groups, as containerd sets them: the user string of
 * run_as_username or run_as_user (with run_as_group), else the image's User,
 * resolved in the image's /etc/passwd and /etc/group; then the groups that list
 * the user as a member (unless supplemental_groups_policy is Strict), the
 * config's supplemental_groups and the primary GID itself, sorted.
 */
export function processUser(config: ContainerConfig, image: ImageProcessConfig, etc: ImageEtc = {}): {uid: number; gid: number; additionalGids: number[]} {
  const sc = config.linux?.security_context ?? {}
  const field = 'linux.security_context'
  let user: ResolvedUser
  if (sc.run_as_username) {
    user = resolveUserString(sc.run_as_username, etc, `${field}.run_as_username "${sc.run_as_username}"`)
    if (sc.run_as_group !== undefined) user = {...user, gid: sc.run_as_group.value}
  } else if (sc.run_as_user !== undefined) {
    const given = sc.run_as_group === undefined ? `${sc.run_as_user.value}` : `${sc.run_as_user.value}:${sc.run_as_group.value}`
    user = resolveUserString(given, etc, `${field}.run_as_user`)
  } else if (image.User) {
    user = resolveUserString(image.User, etc, `image user "${image.User}"`)
  } else {
    user = resolveUserString('0', etc, 'root')
  }
  const gids = new Set<number>([user.gid, ...(sc.supplemental_groups ?? [])])
  if (sc.supplemental_groups_policy !== SupplementalGroupsPolicy.Strict) for (const g of memberGroups(user.name, etc)) gids.add(g)
  return {uid: user.uid, gid: user.gid, additionalGids: [...gids].sort((a, b) => a - b)}
}

const capName = (c: string) => (c.toUpperCase().startsWith('CAP_') ? c.toUpperCase() : `CAP_${c.toUpperCase()}`)

/** Capabilities: the defaults, plus add, minus drop (ALL on either side), within the bounding set; privileged gets the whole set. */
export function processCapabilities(config: ContainerConfig, bounding: string[]): Record<string, string[]> {
  const sc = config.linux?.security_context ?? {}
  let caps: string[]
  if (sc.privileged) caps = [...bounding]
  else {
    const add = (sc.capabilities?.add_capabilities ?? []).map(capName)
    const drop = (sc.capabilities?.drop_capabilities ?? []).map(capName)
    const set = new Set(add.includes('CAP_ALL') ? bounding : [...defaultCapabilities, ...add])
    if (drop.includes('CAP_ALL')) set.clear()
    for (const c of drop) set.delete(c)
    // An add names a capability even when ALL was dropped (containerd's order: drop ALL, then add).
    if (drop.includes('CAP_ALL')) for (const c of add) if (c !== 'CAP_ALL') set.add(c)
    caps = [...set].filter((c) => bounding.includes(c))
  }
  const out: Record<string, string[]> = {bounding: caps, effective: caps, permitted: caps}
  const ambient = (sc.capabilities?.add_ambient_capabilities ?? []).map(capName).filter((c) => caps.includes(c))
  if (ambient.length > 0) {
    out.ambient = ambient
    out.inheritable = ambient
  }
  return out
}

/** The namespaces: its own mount (and cgroup on v2) namespace; the pod's network, IPC and UTS; pid per namespace_options. */
export function containerNamespaces(input: Pick<ContainerSpecInput, 'config' | 'pod' | 'pausePid' | 'cgroupV2'>): {type: string; path?: string}[] {
  const podNs = input.pod.linux?.security_context?.namespace_options ?? {}
  const pid = input.config.linux?.security_context?.namespace_options?.pid ?? NamespaceMode.POD
  const nsPath = (name: string) => `/proc/${input.pausePid}/ns/${name}`
  const namespaces: {type: string; path?: string}[] = [{type: 'mount'}]
  if (podNs.network !== NamespaceMode.NODE) namespaces.push({type: 'network', path: nsPath('net')}, {type: 'uts', path: nsPath('uts')})
  if (podNs.ipc !== NamespaceMode.NODE) namespaces.push({type: 'ipc', path: nsPath('ipc')})
  if (pid === NamespaceMode.CONTAINER) namespaces.push({type: 'pid'})
  else if (pid === NamespaceMode.POD && podNs.pid !== NamespaceMode.NODE) namespaces.push({type: 'pid', path: nsPath('pid')})
  if (input.cgroupV2) namespaces.push({type: 'cgroup'})
  return namespaces
}

function containerMounts(input: ContainerSpecInput): OciSpec['mounts'] {
  const sc = input.config.linux?.security_context ?? {}
  const hostIpc = input.pod.linux?.security_context?.namespace_options?.ipc === NamespaceMode.NODE
  const etc = ['rbind', 'rprivate', sc.readonly_rootfs ? 'ro' : 'rw']
  const mounts: OciSpec['mounts'] = [
    {destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev']},
    {destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},
    {destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']},
    {destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev']},
    {destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sc.privileged ? 'rw' : 'ro']},
    {destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', sc.privileged ? 'rw' : 'ro']},
    {destination: '/dev/shm', type: 'bind', source: hostIpc ? '/dev/shm' : input.shmPath, options: ['rbind', 'rprivate', 'nosuid', 'noexec', 'nodev']},
    {destination: '/etc/hostname', type: 'bind', source: input.files.hostname, options: etc},
    {destination: '/etc/hosts', type: 'bind', source: input.files.hosts, options: etc},
    {destination: '/etc/resolv.conf', type: 'bind', source: input.files.resolvConf, options: etc},
  ]
  const own = configMounts(input)
  // A mount of the config replaces a default one at the same place (containerd).
  const taken = new Set(own.map((m) => m.destination))
  return [...mounts.filter((m) => !taken.has(m.destination)), ...own]
}

const depth = (path: string) => path.split('/').filter((p) => p !== '' && p !== '.').length

/**
 * The config's mounts as binds, fewest path parts first so that a mount is
 * never shadowed by its parent (containerd's orderedMounts), with their
 * propagation checked against the host mount each source lies on, as
 * containerd's ensureShared and ensureSharedOrSlave: rslave needs that mount
 * to be shared or a slave, rshared needs it shared.
 */
function configMounts(input: ContainerSpecInput): OciSpec['mounts'] {
  const given = (input.config.mounts ?? []).map((m, i) => ({m, i}))
  given.sort((a, b) => depth(a.m.container_path ?? '') - depth(b.m.container_path ?? ''))
  return given.map(({m, i}) => {
    const field = `mounts[${i}]`
    const host = input.hostMounts?.[m.host_path ?? '']
    const source = host?.source ?? m.host_path ?? ''
    if (m.selinux_relabel && input.selinux === 'enforcing') {
      // Without SELinux (or permissive) there is nothing to relabel, and containerd and CRI-O do nothing.
      throw usageError(`${field}.selinux_relabel: SELinux is enforcing on this host and podctl cannot relabel "${source}"`, 'label the path yourself (chcon -R -t container_file_t PATH) and remove selinux_relabel')
    }
    return {destination: m.container_path ?? '', type: 'bind', source, options: ['rbind', propagationOption(m, field, host), m.readonly ? 'ro' : 'rw']}
  })
}

function propagationOption(m: Mount, field: string, host: HostMount | undefined): string {
  const propagation = m.propagation ?? MountPropagation.PROPAGATION_PRIVATE
  if (propagation === MountPropagation.PROPAGATION_PRIVATE) return 'rprivate'
  if (!host) throw new Error(`internal error: the host mount of "${m.host_path}" was not looked up`)
  const name = propagation === MountPropagation.PROPAGATION_BIDIRECTIONAL ? 'PROPAGATION_BIDIRECTIONAL' : 'PROPAGATION_HOST_TO_CONTAINER'
  const ok = propagation === MountPropagation.PROPAGATION_BIDIRECTIONAL ? isShared(host) : isShared(host) || isSlave(host)
  if (!ok) {
    const kind = propagation === MountPropagation.PROPAGATION_BIDIRECTIONAL ? 'a shared mount' : 'a shared or slave mount'
    throw usageError(`${field}.propagation: ${name}: path "${host.source}" is mounted on "${host.mountPoint}" but it is not ${kind}`, `make it shared (mount --make-shared ${host.mountPoint}) or use PROPAGATION_PRIVATE`)
  }
  return propagation === MountPropagation.PROPAGATION_BIDIRECTIONAL ? 'rshared' : 'rslave'
}

/** The rootfs's propagation: rshared if a mount is bidirectional, rslave if one is host-to-container (containerd), else runc's default. */
function rootfsPropagation(config: ContainerConfig): string | undefined {
  const modes = (config.mounts ?? []).map((m) => m.propagation ?? MountPropagation.PROPAGATION_PRIVATE)
  if (modes.includes(MountPropagation.PROPAGATION_BIDIRECTIONAL)) return 'rshared'
  if (modes.includes(MountPropagation.PROPAGATION_HOST_TO_CONTAINER)) return 'rslave'
  return undefined
}

export function buildContainerSpec(input: ContainerSpecInput): OciSpec {
  const {config} = input
  const sc = config.linux?.security_context ?? {}
  const privileged = sc.privileged === true
  const hostNetwork = input.pod.linux?.security_context?.namespace_options?.network === NamespaceMode.NODE
  const resources = config.linux?.resources ?? {}

  const process: Record<string, unknown> = {
    terminal: config.tty === true,
    user: processUser(config, input.image, input.etc),
    args: processArgs(config, input.image),
    env: processEnv(config, input.image, hostNetwork ? undefined : podHostname(input.pod)),
    cwd: config.working_dir || input.image.WorkingDir || '/',
    capabilities: processCapabilities(config, input.boundingCapabilities),
    noNewPrivileges: sc.no_new_privs === true,
  }
  if (resources.oom_score_adj !== undefined) process.oomScoreAdj = resources.oom_score_adj

  const linux: OciSpec['linux'] = {
    namespaces: containerNamespaces(input),
    cgroupsPath: input.cgroupsPath,
    resources: linuxResources(resources),
  }
  // Each device: a node in the container and an allow rule after the default deny (containerd's WithDevices).
  const devices = input.hostDevices ?? []
  if (devices.length > 0) {
    linux.devices = devices.map((d) => ({path: d.containerPath, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid}))
    const rules = (linux.resources as {devices: unknown[]}).devices
    rules.push(...devices.map((d) => ({allow: true, type: d.type, major: d.major, minor: d.minor, access: d.access})))
  }
  const propagation = rootfsPropagation(config)
  if (propagation) linux.rootfsPropagation = propagation
  if (!privileged) {
    linux.maskedPaths = sc.masked_paths ?? maskedPaths
    linux.readonlyPaths = sc.readonly_paths ?? readonlyPaths
  }
  const seccomp = seccompFor(sc, input.seccompProfile, input.defaultSeccompProfile)
  if (seccomp) linux.seccomp = seccomp

  return {
    ociVersion: '1.0.2',
    process,
    root: {path: input.rootfs, readonly: sc.readonly_rootfs === true},
    mounts: containerMounts(input),
    annotations: containerAnnotations(input),
    linux,
  }
}

function containerAnnotations(input: ContainerSpecInput): Record<string, string> {
  const md = input.pod.metadata
  return {
    ...input.config.annotations,
    'io.kubernetes.cri.container-type': 'container',
    'io.kubernetes.cri.container-name': input.config.metadata.name,
    'io.kubernetes.cri.image-name': input.imageName,
    'io.kubernetes.cri.sandbox-id': input.podSandboxId,
    'io.kubernetes.cri.sandbox-name': md.name,
    'io.kubernetes.cri.sandbox-namespace': md.namespace,
    'io.kubernetes.cri.sandbox-uid': md.uid,
  }
}
