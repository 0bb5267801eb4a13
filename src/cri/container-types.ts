// TypeScript shapes of the CRI ContainerConfig messages in ./container-schema.ts.

import type {IDMapping, Int64Value, LinuxContainerResources, NamespaceOption, SecurityProfile, SELinuxOption} from './types.js'

export const MountPropagation = {PROPAGATION_PRIVATE: 0, PROPAGATION_HOST_TO_CONTAINER: 1, PROPAGATION_BIDIRECTIONAL: 2} as const

export const SupplementalGroupsPolicy = {Merge: 0, Strict: 1} as const

export interface ContainerMetadata {
  name: string
  attempt?: number
}

export interface ImageSpec {
  image?: string
  annotations?: Record<string, string>
  user_specified_image?: string
  runtime_handler?: string
  image_ref?: string
}

export interface KeyValue {
  key?: string
  value?: string
}

export interface Mount {
  container_path?: string
  host_path?: string
  readonly?: boolean
  selinux_relabel?: boolean
  propagation?: number
  uidMappings?: IDMapping[]
  gidMappings?: IDMapping[]
  recursive_read_only?: boolean
  image?: ImageSpec
  image_sub_path?: string
}

export interface Device {
  container_path?: string
  host_path?: string
  permissions?: string
}

export interface Capability {
  add_capabilities?: string[]
  drop_capabilities?: string[]
  add_ambient_capabilities?: string[]
}

export interface LinuxContainerSecurityContext {
  capabilities?: Capability
  privileged?: boolean
  namespace_options?: NamespaceOption
  selinux_options?: SELinuxOption
  run_as_user?: Int64Value
  run_as_username?: string
  readonly_rootfs?: boolean
  supplemental_groups?: number[]
  apparmor_profile?: string
  seccomp_profile_path?: string
  no_new_privs?: boolean
  run_as_group?: Int64Value
  masked_paths?: string[]
  readonly_paths?: string[]
  seccomp?: SecurityProfile
  apparmor?: SecurityProfile
  supplemental_groups_policy?: number
}

export interface LinuxContainerConfig {
  resources?: LinuxContainerResources
  security_context?: LinuxContainerSecurityContext
}

export interface ContainerConfig {
  metadata: ContainerMetadata
  image: ImageSpec
  command?: string[]
  args?: string[]
  working_dir?: string
  envs?: KeyValue[]
  mounts?: Mount[]
  devices?: Device[]
  labels?: Record<string, string>
  annotations?: Record<string, string>
  log_path?: string
  stdin?: boolean
  stdin_once?: boolean
  tty?: boolean
  linux?: LinuxContainerConfig
  windows?: Record<string, unknown>
}

/** Container in protojson form (an item of crictl's `ps -o json`). */
export interface Container {
  id: string
  podSandboxId: string
  metadata: {name: string; attempt: number}
  image: {image: string; annotations: Record<string, string>}
  imageRef: string
  state: string
  createdAt: string
  labels: Record<string, string>
  annotations: Record<string, string>
}

/** ContainerStatus in protojson form (crictl's inspect `status`). */
export interface ContainerStatus {
  id: string
  metadata: {name: string; attempt: number}
  state: string
  createdAt: string
  startedAt: string
  finishedAt: string
  exitCode: number
  image: {image: string; annotations: Record<string, string>}
  imageRef: string
  reason: string
  message: string
  labels: Record<string, string>
  annotations: Record<string, string>
  mounts: {containerPath: string; hostPath: string; readonly: boolean; selinuxRelabel: boolean; propagation: string}[]
  logPath: string
  /** the limits in force: the config's, as later updates left them */
  resources?: {linux: Record<string, unknown>}
}
