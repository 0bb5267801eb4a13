// CRI v1 pod messages as TypeScript types. The config is kept in the proto's
// own snake_case names (as crictl reads it and containerd echoes it in
// `info.config`); enums are numbers, as on the wire. The status messages are
// in protojson's lowerCamelCase, as crictl prints them.

export interface PodSandboxMetadata {
  name: string
  uid: string
  namespace: string
  attempt: number
}

export interface DNSConfig {
  servers?: string[]
  searches?: string[]
  options?: string[]
}

export interface PortMapping {
  protocol?: number
  container_port?: number
  host_port?: number
  host_ip?: string
}

export const NamespaceMode = {POD: 0, CONTAINER: 1, NODE: 2, TARGET: 3} as const

export interface IDMapping {
  host_id?: number
  container_id?: number
  length?: number
}

export interface UserNamespace {
  mode?: number
  uids?: IDMapping[]
  gids?: IDMapping[]
}

export interface NamespaceOption {
  network?: number
  pid?: number
  ipc?: number
  target_id?: string
  userns_options?: UserNamespace
}

export interface Int64Value {
  value: number
}

export interface SELinuxOption {
  user?: string
  role?: string
  type?: string
  level?: string
}

export const ProfileType = {RuntimeDefault: 0, Unconfined: 1, Localhost: 2} as const

export interface SecurityProfile {
  profile_type?: number
  localhost_ref?: string
}

export interface LinuxSandboxSecurityContext {
  namespace_options?: NamespaceOption
  selinux_options?: SELinuxOption
  run_as_user?: Int64Value
  run_as_group?: Int64Value
  readonly_rootfs?: boolean
  supplemental_groups?: number[]
  supplemental_groups_policy?: number
  privileged?: boolean
  seccomp?: SecurityProfile
  apparmor?: SecurityProfile
  seccomp_profile_path?: string
}

export interface HugepageLimit {
  page_size?: string
  limit?: number
}

export interface LinuxContainerResources {
  cpu_period?: number
  cpu_quota?: number
  cpu_shares?: number
  memory_limit_in_bytes?: number
  oom_score_adj?: number
  cpuset_cpus?: string
  cpuset_mems?: string
  hugepage_limits?: HugepageLimit[]
  unified?: Record<string, string>
  memory_swap_limit_in_bytes?: number
}

export interface LinuxPodSandboxConfig {
  cgroup_parent?: string
  security_context?: LinuxSandboxSecurityContext
  sysctls?: Record<string, string>
  overhead?: LinuxContainerResources
  resources?: LinuxContainerResources
}

export interface PodSandboxConfig {
  metadata: PodSandboxMetadata
  hostname?: string
  log_directory?: string
  dns_config?: DNSConfig
  port_mappings?: PortMapping[]
  labels?: Record<string, string>
  annotations?: Record<string, string>
  linux?: LinuxPodSandboxConfig
  windows?: Record<string, unknown>
}

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY'

/** PodSandboxStatus in protojson form (crictl's inspectp `status`). */
export interface PodSandboxStatus {
  id: string
  metadata: PodSandboxMetadata
  state: PodSandboxState
  createdAt: string
  network: {additionalIps: {ip: string}[]; ip: string}
  linux: {namespaces: {options: {ipc: string; network: string; pid: string; targetId: string; usernsOptions: null}}}
  labels: Record<string, string>
  annotations: Record<string, string>
  runtimeHandler: string
}

/** PodSandbox in protojson form (an item of crictl's `pods -o json`). */
export interface PodSandbox {
  id: string
  metadata: PodSandboxMetadata
  state: PodSandboxState
  createdAt: string
  labels: Record<string, string>
  annotations: Record<string, string>
  runtimeHandler: string
}
