// Reading a ContainerConfig as crictl's `create` takes it (JSON or YAML,
// snake_case proto names), as strictly as pod configs: unknown keys are
// warned about with a did-you-mean, and every field podctl cannot honour is
// refused by name rather than dropped.

import type {ContainerConfig, LinuxContainerSecurityContext} from '../cri/container-types.js'
import {MountPropagation} from '../cri/container-types.js'
import {NamespaceMode, ProfileType} from '../cri/types.js'
import {parseReference} from '../images/reference.js'
import {usageError} from './errors.js'
import {checkCarriedSize, checkName, decodeMessage, parseDocument, readConfigText} from './podconfig.js'
import {seccompProfileOf} from './seccomp.js'

export interface ParsedContainerConfig {
  config: ContainerConfig
  warnings: string[]
}

const kind = 'container config'

export function readContainerConfig(file: string): ParsedContainerConfig {
  return parseContainerConfig(readConfigText(file, kind), file)
}

export function parseContainerConfig(text: string, source: string): ParsedContainerConfig {
  const where = `${kind} "${source}"`
  const raw = parseDocument(text, where, kind, 'give at least metadata: {name} and image: {image}')
  const warnings: string[] = []
  const decoded = decodeMessage(raw, 'ContainerConfig', '', {where, warnings}) as ContainerConfig
  validateContainerConfig(decoded, where)
  return {config: decoded, warnings}
}

const refuse = (where: string, field: string, why: string, hint?: string) => usageError(`${where}: ${field}: ${why}`, hint)

/** Capability names as CRI gives them: without CAP_ (accepted with it too), or ALL. */
const capabilityName = /^(CAP_)?[A-Z][A-Z0-9_]*$/

export function validateContainerConfig(c: ContainerConfig, where: string): void {
  if (!c.metadata) throw usageError(`${where}: metadata is not set`, 'add metadata with a name')
  checkName(c.metadata.name, 'metadata.name', where, true)
  c.metadata.attempt ??= 0
  if (!c.image?.image) throw usageError(`${where}: image.image is not set`, 'name the image, as "image: {image: busybox}"')
  checkImageRef(c.image.image, where)
  for (const [i, e] of (c.envs ?? []).entries()) {
    if (!e.key) throw refuse(where, `envs[${i}].key`, 'is not set')
    if (e.key.includes('=')) throw refuse(where, `envs[${i}].key`, `${JSON.stringify(e.key)} contains "="`)
    noNul(e.key, `envs[${i}].key`, where)
    noNul(e.value ?? '', `envs[${i}].value`, where)
  }
  // What becomes an execve(2) argument or the process's cwd: a NUL would cut it short (or fail deep in the runtime).
  for (const key of ['command', 'args'] as const) for (const [i, a] of (c[key] ?? []).entries()) noNul(a, `${key}[${i}]`, where)
  if (c.working_dir) {
    noNul(c.working_dir, 'working_dir', where)
    if (!c.working_dir.startsWith('/')) throw refuse(where, 'working_dir', `"${c.working_dir}" must be an absolute path`)
  }
  // Every ListContainers answer carries them, as ListPodSandbox a pod's: the same bound.
  checkCarriedSize(c, where, 'a container')
  for (const [i, m] of (c.mounts ?? []).entries()) checkMount(m, `mounts[${i}]`, where)
  for (const [i, d] of (c.devices ?? []).entries()) {
    if (!d.container_path?.startsWith('/')) throw refuse(where, `devices[${i}].container_path`, `"${d.container_path ?? ''}" must be an absolute path`)
    if (!d.host_path?.startsWith('/')) throw refuse(where, `devices[${i}].host_path`, `"${d.host_path ?? ''}" must be an absolute path`)
    noNul(d.container_path, `devices[${i}].container_path`, where)
    noNul(d.host_path, `devices[${i}].host_path`, where)
    if (!/^[rwm]*$/.test(d.permissions ?? '')) throw refuse(where, `devices[${i}].permissions`, `"${d.permissions}" is not cgroup access: use some of r, w and m`)
  }
  if (c.log_path !== undefined) {
    if (c.log_path.startsWith('/')) throw refuse(where, 'log_path', `"${c.log_path}" must be relative to the pod's log_directory`)
    if (c.log_path.split('/').includes('..')) throw refuse(where, 'log_path', `"${c.log_path}" may not contain ".."`)
  }
  if (c.stdin_once && !c.stdin) throw refuse(where, 'stdin_once', 'needs stdin: true')
  if (c.windows && Object.keys(c.windows).length > 0) throw refuse(where, 'windows', 'Windows container settings are not supported on Linux', 'remove the "windows" section')
  checkSecurityContext(c.linux?.security_context, where)
}

const propagationModes: number[] = Object.values(MountPropagation)

/** A reference that is neither an image name nor an image ID is bad input, not an image that is missing. */
function checkImageRef(ref: string, where: string): void {
  if (/^(sha256:)?[0-9a-f]{1,64}$/.test(ref)) return
  try {
    parseReference(ref)
  } catch (err) {
    throw refuse(where, 'image.image', (err as Error).message, (err as {hint?: string}).hint)
  }
}

function noNul(value: string, field: string, where: string): void {
  if (value.includes('\0')) throw refuse(where, field, `${JSON.stringify(value)} contains a NUL character`)
}

function checkMount(m: NonNullable<ContainerConfig['mounts']>[number], field: string, where: string): void {
  if (!m.container_path?.startsWith('/')) throw refuse(where, `${field}.container_path`, `"${m.container_path ?? ''}" must be an absolute path`)
  if (!m.host_path?.startsWith('/')) throw refuse(where, `${field}.host_path`, `"${m.host_path ?? ''}" must be an absolute path`)
  noNul(m.container_path, `${field}.container_path`, where)
  noNul(m.host_path, `${field}.host_path`, where)
  // propagation is checked against the host mount, and selinux_relabel against SELinux, at create (container-spec.ts).
  if (!propagationModes.includes(m.propagation ?? MountPropagation.PROPAGATION_PRIVATE)) throw refuse(where, `${field}.propagation`, `${m.propagation} is not a MountPropagation`)
  if ((m.uidMappings ?? []).length > 0 || (m.gidMappings ?? []).length > 0) throw refuse(where, `${field}.uidMappings`, 'ID-mapped mounts are not supported')
  if (m.recursive_read_only) throw refuse(where, `${field}.recursive_read_only`, 'recursive read-only mounts are not supported', 'use readonly')
  if (m.image?.image || m.image_sub_path) throw refuse(where, `${field}.image`, 'image volumes are not supported')
}

function checkSecurityContext(sc: LinuxContainerSecurityContext | undefined, where: string): void {
  if (!sc) return
  const field = 'linux.security_context'
  for (const key of ['add_capabilities', 'drop_capabilities', 'add_ambient_capabilities'] as const) {
    for (const [i, cap] of (sc.capabilities?.[key] ?? []).entries()) {
      if (cap.toUpperCase() !== 'ALL' && !capabilityName.test(cap)) throw refuse(where, `${field}.capabilities.${key}[${i}]`, `${JSON.stringify(cap)} is not a capability name`, 'use names such as NET_ADMIN or ALL')
    }
  }
  const se = sc.selinux_options
  if (se && Object.values(se).some((v) => v)) throw refuse(where, `${field}.selinux_options`, 'SELinux labels are not supported', 'remove selinux_options')
  if (sc.apparmor_profile && sc.apparmor_profile !== 'unconfined') throw refuse(where, `${field}.apparmor_profile`, 'AppArmor profiles are not supported', 'remove it or set it to unconfined')
  if (sc.apparmor && (sc.apparmor.profile_type ?? ProfileType.RuntimeDefault) === ProfileType.Localhost) throw refuse(where, `${field}.apparmor`, 'Localhost AppArmor profiles are not supported')
  if (sc.run_as_group && !sc.run_as_user && !sc.run_as_username) throw refuse(where, `${field}.run_as_group`, 'needs run_as_user (CRI)')
  for (const key of ['masked_paths', 'readonly_paths'] as const) {
    for (const [i, p] of (sc[key] ?? []).entries()) if (!p.startsWith('/')) throw refuse(where, `${field}.${key}[${i}]`, `"${p}" must be an absolute path`)
  }
  const ns = sc.namespace_options
  if (ns) {
    if (ns.pid === NamespaceMode.TARGET || ns.target_id) throw refuse(where, `${field}.namespace_options.target_id`, 'TARGET pid namespaces are not supported yet')
    if (ns.userns_options && (ns.userns_options.mode ?? NamespaceMode.POD) !== NamespaceMode.NODE) throw refuse(where, `${field}.namespace_options.userns_options`, 'user namespaces are not supported yet')
  }
  // Throws for a malformed deprecated seccomp_profile_path.
  seccompProfileOf(sc)
}
