// Seccomp for the pause container: podctl's RuntimeDefault profile, the
// profile a pod asks for (seccomp, or the deprecated seccomp_profile_path),
// and Localhost profiles read from disk.
//
// The RuntimeDefault profile: the pause process only waits for signals, so a
// deny-list of the system calls that break out of a container or change the
// host is both safe and small: loading kernel code, mounting, rebooting,
// tracing, keyrings, clock changes, and making namespaces (unshare, setns,
// and clone with a CLONE_NEW* flag, as Docker's and containerd's defaults).

import {type LinuxSandboxSecurityContext, type PodSandboxConfig, ProfileType, type SecurityProfile} from '../cri/types.js'
import {messageOf, type PodctlError, usageError} from './errors.js'
import {jsonErrorWithoutContent, readUserFile} from './user-file.js'

const denied = [
  'acct',
  'add_key',
  'bpf',
  'clock_adjtime',
  'clock_settime',
  'create_module',
  'delete_module',
  'finit_module',
  'fsconfig',
  'fsmount',
  'fsopen',
  'fspick',
  'get_kernel_syms',
  'get_mempolicy',
  'init_module',
  'ioperm',
  'iopl',
  'kcmp',
  'kexec_file_load',
  'kexec_load',
  'keyctl',
  'lookup_dcookie',
  'mbind',
  'mount',
  'mount_setattr',
  'move_mount',
  'move_pages',
  'name_to_handle_at',
  'nfsservctl',
  'open_by_handle_at',
  'open_tree',
  'perf_event_open',
  'personality',
  'pivot_root',
  'process_vm_readv',
  'process_vm_writev',
  'ptrace',
  'query_module',
  'quotactl',
  'reboot',
  'request_key',
  'set_mempolicy',
  'setns',
  'settimeofday',
  'stime',
  'swapoff',
  'swapon',
  'sysfs',
  '_sysctl',
  'umount',
  'umount2',
  'unshare',
  'uselib',
  'userfaultfd',
  'ustat',
  'vm86',
  'vm86old',
]

/** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (linux/sched.h). */
const cloneNamespaceFlags = [0x0002_0000, 0x0200_0000, 0x0400_0000, 0x0800_0000, 0x1000_0000, 0x2000_0000, 0x4000_0000]

const EPERM = 1
const ENOSYS = 38

export function defaultSeccompProfile(): Record<string, unknown> {
  return {
    defaultAction: 'SCMP_ACT_ALLOW',
    architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'],
    syscalls: [
      {names: [...denied], action: 'SCMP_ACT_ERRNO', errnoRet: EPERM},
      // One rule per flag: the conditions of one rule are ANDed, the rules ORed.
      ...cloneNamespaceFlags.map((flag) => ({
        names: ['clone'],
        action: 'SCMP_ACT_ERRNO',
        errnoRet: EPERM,
        args: [{index: 0, value: flag, valueTwo: flag, op: 'SCMP_CMP_MASKED_EQ'}],
      })),
      // clone3 passes its flags in memory seccomp cannot read; ENOSYS makes libc fall back to clone.
      {names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS},
    ],
  }
}

const deprecatedField = 'linux.security_context.seccomp_profile_path'

/**
 * The seccomp profile a pod asks for: `seccomp`, else the deprecated
 * `seccomp_profile_path` ("runtime/default", "docker/default", "unconfined",
 * "localhost/<absolute path>", as kubelet wrote it), else none.
 * CRI: an unset profile is Unconfined for the sandbox (kubelet sets RuntimeDefault explicitly).
 */
export function seccompProfileOf(sc: LinuxSandboxSecurityContext | undefined): SecurityProfile | undefined {
  if (sc?.seccomp) return sc.seccomp
  const path = sc?.seccomp_profile_path ?? ''
  if (path === '' || path === 'unconfined') return undefined
  if (path === 'runtime/default' || path === 'docker/default') return {profile_type: ProfileType.RuntimeDefault}
  if (path.startsWith('localhost/')) return {profile_type: ProfileType.Localhost, localhost_ref: path.slice('localhost/'.length)}
  throw usageError(
    `${deprecatedField}: ${JSON.stringify(path)} is not a seccomp profile`,
    'use runtime/default, unconfined or localhost/<absolute path>, or better the seccomp field',
  )
}

/** Where a Localhost profile was named, for messages. */
function localhostField(sc: LinuxSandboxSecurityContext | undefined): string {
  return sc?.seccomp ? 'linux.security_context.seccomp.localhost_ref' : deprecatedField
}

/** A seccomp profile is a small JSON file; Docker's default is about 20 KiB. */
const maxProfileBytes = 1 << 20

/**
 * The Localhost profile of a pod, read and checked; undefined for any other
 * kind. The path must resolve inside `profileRoot` (kubelet's seccomp
 * directory by default): a pod config, or a CRI client, may not make podctl
 * read any file root can. Messages never quote the file's content.
 */
export async function loadLocalhostSeccomp(config: PodSandboxConfig, profileRoot: string): Promise<Record<string, unknown> | undefined> {
  const sc = config.linux?.security_context
  const profile = seccompProfileOf(sc)
  if (!profile || profile.profile_type !== ProfileType.Localhost) return undefined
  const path = profile.localhost_ref ?? ''
  const field = localhostField(sc)
  if (!path.startsWith('/')) throw usageError(`${field}: "${path}" must be an absolute path to a seccomp profile`)
  const what = `seccomp profile ${JSON.stringify(path)}`
  let text: string
  try {
    text = readUserFile(path, {what, maxBytes: maxProfileBytes, within: {dir: profileRoot, name: 'seccomp profile root'}})
  } catch (err) {
    throw usageError(`${field}: ${messageOf(err)}`, (err as PodctlError).hint)
  }
  return parseSeccompProfile(text, `${field}: ${what}`)
}

/** The keys of the OCI runtime spec's linux.seccomp. */
const ociKeys = new Set(['defaultAction', 'defaultErrnoRet', 'architectures', 'flags', 'listenerPath', 'listenerMetadata', 'syscalls'])
const ociSyscallKeys = new Set(['names', 'action', 'errnoRet', 'args'])

/**
 * A seccomp profile file as the OCI runtime takes it (linux.seccomp of the
 * runtime spec). The simple parts of Docker's format are converted as
 * containerd does: `archMap` to architectures, a syscall's `name` to
 * `names`, `comment` dropped. Conditional rules (`includes`, `excludes`)
 * are refused rather than guessed at.
 */
export function parseSeccompProfile(text: string, where: string): Record<string, unknown> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw usageError(`${where} is not valid JSON: ${jsonErrorWithoutContent(err)}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw usageError(`${where} must be a JSON object`)
  const raw = doc as Record<string, unknown>
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    if (key === 'archMap') {
      if (!Array.isArray(value)) throw usageError(`${where}: archMap must be a list`)
      if (raw.architectures !== undefined) continue
      out.architectures = value.flatMap((a: {architecture?: unknown; subArchitectures?: unknown}) => [a.architecture, ...(Array.isArray(a.subArchitectures) ? a.subArchitectures : [])])
    } else if (ociKeys.has(key)) {
      out[key] = value
    } else if (key !== 'comment') {
      throw usageError(`${where}: unknown key "${key}"`, `a profile has ${[...ociKeys].join(', ')}`)
    }
  }
  if (typeof out.defaultAction !== 'string' || !out.defaultAction.startsWith('SCMP_ACT_')) {
    throw usageError(`${where}: defaultAction must be a seccomp action such as SCMP_ACT_ERRNO`)
  }
  if (out.architectures !== undefined && !(Array.isArray(out.architectures) && out.architectures.every((a) => typeof a === 'string'))) {
    throw usageError(`${where}: architectures must be a list of names such as SCMP_ARCH_X86_64`)
  }
  if (out.syscalls !== undefined) {
    if (!Array.isArray(out.syscalls)) throw usageError(`${where}: syscalls must be a list`)
    out.syscalls = out.syscalls.map((rule: unknown, i: number) => syscallRule(rule, `${where}: syscalls[${i}]`))
  }
  return out
}

function syscallRule(rule: unknown, where: string): Record<string, unknown> {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) throw usageError(`${where} must be an object`)
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(rule)) {
    if (key === 'name') out.names = [value]
    else if (key === 'includes' || key === 'excludes') {
      if (value && typeof value === 'object' && Object.keys(value).length > 0) {
        throw usageError(`${where}: conditional rules ("${key}") are Docker's format and are not supported`, 'write the profile with plain names and actions')
      }
    } else if (ociSyscallKeys.has(key)) out[key] = value
    else if (key !== 'comment') throw usageError(`${where}: unknown key "${key}"`)
  }
  if (!Array.isArray(out.names) || out.names.length === 0 || !out.names.every((n) => typeof n === 'string' && n !== '')) {
    throw usageError(`${where}: names must be a non-empty list of system call names`)
  }
  if (typeof out.action !== 'string' || !out.action.startsWith('SCMP_ACT_')) throw usageError(`${where}: action must be a seccomp action such as SCMP_ACT_ERRNO`)
  return out
}
