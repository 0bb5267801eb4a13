// Reading a PodSandboxConfig the way crictl does (JSON or YAML, snake_case
// proto names), and better: lowerCamelCase keys and enum names are accepted,
// every unknown key is reported with a did-you-mean (crictl drops them
// silently: kubernetes/website#35871), and every error names the field path.

import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {isIP} from 'node:net'

import {enumName, enums, type FieldDef, jsonName, messages} from '../cri/schema.js'
import {type LinuxContainerResources, NamespaceMode, type PodSandboxConfig, ProfileType} from '../cri/types.js'
import {type CgroupFacts, cgroupParentProblem, type CgroupMode, checkResources, parseCpuset, podCgroupsPath, readCgroupFacts} from './cgroups.js'
import {messageOf, PodctlError, usageError} from './errors.js'
import {duplicateJsonKey} from './strict-text.js'
import {sysctlName} from './oci-spec.js'
import {describeHostPort, duplicateHostPort} from './ports.js'
import {seccompProfileOf} from './seccomp.js'
import {nearest} from './suggest.js'
import {kernelTreeOf, readUserFile} from './user-file.js'
import {loadYaml, parseSimpleYaml} from './yaml-lite.js'

export interface ParsedPodConfig {
  config: PodSandboxConfig
  warnings: string[]
}

/** A pod config is a small text file; anything bigger is a mistake. */
const maxConfigBytes = 1 << 20

/** Read and parse a pod config file; refuses directories, FIFOs and devices. */
export async function readPodSandboxConfig(file: string): Promise<ParsedPodConfig> {
  const text = readConfigText(file)
  return parsePodSandboxConfig(text, file)
}

/** Synchronously: see writeFileAtomic in store.ts, and user-file.ts. */
export function readConfigText(file: string, kind = 'pod config'): string {
  return readUserFile(file, {what: `${kind} "${file}"`, maxBytes: maxConfigBytes})
}

/** Parse the text of a pod config (JSON or YAML); `source` names it in messages. */
export function parsePodSandboxConfig(text: string, source: string): ParsedPodConfig {
  const where = `pod config "${source}"`
  const raw = parseDocument(text, where)
  const warnings: string[] = []
  const decoded = decodeMessage(raw, 'PodSandboxConfig', '', {where, warnings}) as Record<string, unknown>
  const config = validate(decoded, where, warnings)
  return {config, warnings}
}

export function parseDocument(text: string, where: string, what = 'pod config', hint = 'give at least metadata: {name, namespace}'): unknown {
  if (text.trim() === '') throw usageError(`${where} is empty`)
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let doc: unknown
    try {
      doc = JSON.parse(text)
    } catch (err) {
      throw usageError(`${where} is not valid JSON: ${(err as Error).message}`)
    }
    // JSON.parse keeps the last of a key given twice; YAML refuses it, and so does JSON here.
    const dup = duplicateJsonKey(text)
    if (dup) throw usageError(`${where} is not valid JSON: duplicate key ${JSON.stringify(dup.key)}${dup.path ? ` in ${dup.path}` : ''} (line ${dup.line}, column ${dup.column})`)
    return doc
  }
  let doc: unknown
  try {
    // Loaded only for YAML beyond plain block maps and lists (yaml-lite.ts): most configs never pay for the parser.
    const simple = parseSimpleYaml(text)
    doc = simple ? simple.value : loadYaml().parse(text, {uniqueKeys: true, maxAliasCount: 100, prettyErrors: true})
  } catch (err) {
    throw usageError(`${where} is not valid YAML: ${yamlErrorLine(err as Error & {linePos?: {line: number; col: number}[]}, text)}`)
  }
  // A document of only comments, or a bare `~`, parses to null.
  if (doc === null || doc === undefined) throw usageError(`${where} holds no ${what} (the document is empty or null)`, hint)
  return doc
}

/** The YAML parser's message on one line, with where it happened and, for a duplicate key, the key. */
function yamlErrorLine(err: Error & {linePos?: {line: number; col: number}[]}, text: string): string {
  const message = err.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')
  const pos = err.linePos?.[0]
  if (!pos) return message
  const line = text.split('\n')[pos.line - 1] ?? ''
  const key = /^\s*(?:-\s+)?([^:#]+?)\s*:/.exec(line)?.[1]
  const what = /unique/.test(message) && key ? `duplicate key ${JSON.stringify(key)}` : message
  return `${what} (line ${pos.line}, column ${pos.col})`
}

export interface DecodeContext {
  where: string
  warnings: string[]
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

function describe(v: unknown): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'a list'
  if (typeof v === 'object') return 'an object'
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`
  return `${typeof v} ${String(v)}`
}

function fieldError(ctx: DecodeContext, path: string, message: string): PodctlError {
  return usageError(`${ctx.where}: ${path}: ${message}`)
}

export function decodeMessage(value: unknown, messageName: string, path: string, ctx: DecodeContext): unknown {
  const def = messages[messageName]
  if (value === null || value === undefined) return undefined
  // google.protobuf-style wrappers: accept a bare number for Int64Value.
  if (messageName === 'Int64Value' && (typeof value === 'number' || typeof value === 'string')) {
    value = {value}
  }
  if (!isPlainObject(value)) {
    throw fieldError(ctx, path || '(top level)', `must be an object, got ${describe(value)}`)
  }
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const field = def.fields.find((fd) => fd.name === key || jsonName(fd.name) === key)
    const keyPath = path ? `${path}.${key}` : key
    if (!field) {
      ctx.warnings.push(`${ctx.where}: unknown key "${keyPath}" ignored${didYouMean(key, def.fields)}`)
      continue
    }
    if (field.name in out) throw fieldError(ctx, keyPath, `given twice (as "${field.name}" and "${jsonName(field.name)}")`)
    const decoded = decodeField(v, field, path ? `${path}.${field.name}` : field.name, ctx)
    if (decoded !== undefined) out[field.name] = decoded
  }
  return out
}

function decodeField(value: unknown, field: FieldDef, path: string, ctx: DecodeContext): unknown {
  if (value === null || value === undefined) return undefined
  if (field.map) {
    if (!isPlainObject(value)) throw fieldError(ctx, path, `must be a map of strings, got ${describe(value)}`)
    const out: Record<string, string> = {}
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw fieldError(ctx, `${path}.${k}`, `must be a string, got ${describe(v)} (quote it)`)
      // Defined, not assigned: `out.__proto__ = v` would set the prototype and drop the key (JSON.parse defines it too).
      Object.defineProperty(out, k, {value: v, enumerable: true, writable: true, configurable: true})
    }
    return out
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw fieldError(ctx, path, `must be a list, got ${describe(value)}`)
    return value.map((item, i) => decodeSingle(item, field, `${path}[${i}]`, ctx))
  }
  return decodeSingle(value, field, path, ctx)
}

const intRanges: Record<string, [number, number]> = {
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
}

function decodeSingle(value: unknown, field: FieldDef, path: string, ctx: DecodeContext): unknown {
  const {type} = field
  if (typeof type === 'object' && 'message' in type) return decodeMessage(value, type.message, path, ctx) ?? {}
  if (typeof type === 'object' && 'enum' in type) return decodeEnum(value, type.enum, path, ctx)
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw fieldError(ctx, path, `must be a string, got ${describe(value)}`)
      return value
    case 'bool':
      if (typeof value !== 'boolean') throw fieldError(ctx, path, `must be true or false, got ${describe(value)}`)
      return value
    default: {
      // protojson writes 64-bit integers as strings; accept both.
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value
      if (typeof n !== 'number' || !Number.isInteger(n)) {
        throw fieldError(ctx, path, `must be an integer, got ${describe(value)}`)
      }
      const [min, max] = intRanges[type]
      if (n < min || n > max) throw fieldError(ctx, path, `${n} is out of range for ${type} (${min}..${max})`)
      return n
    }
  }
}

function decodeEnum(value: unknown, enumName: string, path: string, ctx: DecodeContext): number {
  const values = enums[enumName]
  const names = Object.keys(values)
  if (typeof value === 'number') {
    if (Object.values(values).includes(value)) return value
    throw fieldError(ctx, path, `${value} is not a valid ${enumName}; use one of ${names.map((n) => `${n} (${values[n]})`).join(', ')}`)
  }
  if (typeof value === 'string') {
    const match = names.find((n) => n.toLowerCase() === value.toLowerCase())
    if (match !== undefined) return values[match]
    if (/^\d+$/.test(value) && Object.values(values).includes(Number(value))) return Number(value)
  }
  throw fieldError(ctx, path, `${describe(value)} is not a valid ${enumName}; use one of ${names.join(', ')}`)
}

/** The nearest field, by its snake_case or lowerCamelCase name, named in snake_case; abbreviations too. */
function didYouMean(key: string, fields: FieldDef[]): string {
  const fieldOf = new Map(fields.flatMap((fd) => [[fd.name, fd.name], [jsonName(fd.name), fd.name]]))
  const best = nearest(key, [...fieldOf.keys()], {prefixes: true})
  return best === undefined ? '' : ` (did you mean "${fieldOf.get(best)}"?)`
}

// Names and namespaces end up in the name index, CNI_ARGS and annotations,
// never in paths; still, keep them to what Kubernetes allows for object names
// (DNS-1123 subdomain length, no separators or control characters) so that
// they are safe everywhere they are echoed.
const maxNameLength = 253
// Also what makes a name print as something else: C1 controls, bidi overrides
// and isolates (a name that reads backwards), zero-width characters (two
// names that look the same), and the BOM.
// eslint-disable-next-line no-control-regex, no-misleading-character-class
const badNameChars = /[\u0000-\u001f\u007f-\u009f/\\;=,\s\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]/

export function checkName(value: unknown, path: string, where: string, required: boolean): void {
  if (value === undefined || value === '') {
    if (required) throw usageError(`${where}: ${path} is not set`, `set ${path} to a non-empty name`)
    return
  }
  const s = value as string
  if (s.length > maxNameLength) throw usageError(`${where}: ${path} is ${s.length} characters long; the limit is ${maxNameLength}`)
  const bad = s.match(badNameChars)
  if (bad) {
    const code = `U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`
    // Shown escaped whatever it is: the message must not do what the name would.
    const json = JSON.stringify(bad[0])
    const shown = json.length > 3 || /^[\x20-\x7e]$/.test(bad[0]) ? json : `"\\u${code.slice(2).toLowerCase()}"`
    throw usageError(`${where}: ${path} contains ${shown} (${code}), which is not allowed in a name`)
  }
  if (s === '.' || s === '..') throw usageError(`${where}: ${path} may not be "${s}"`)
}

/**
 * What a pod carries in labels and annotations comes back in every
 * ListPodSandbox answer, to every client, and a gRPC answer is capped (16 MiB
 * at kubelet and crictl). Kubernetes allows 256 KiB of annotations per object,
 * which would let 64 pods make the listing fail for everyone; CRI has no
 * paging. So a pod may carry at most 16 KiB of keys and values together
 * (a thousand such pods still list), and each key is a Kubernetes-sized one.
 */
export const maxCarriedBytes = 16 * 1024
const maxKeyLength = 317

export function checkCarriedSize(config: {labels?: Record<string, string>; annotations?: Record<string, string>}, where: string, what = 'a pod'): void {
  let total = 0
  for (const field of ['labels', 'annotations'] as const) {
    for (const [key, value] of Object.entries(config[field] ?? {})) {
      if (Buffer.byteLength(key) > maxKeyLength) {
        throw usageError(`${where}: ${field}: a key of ${Buffer.byteLength(key)} bytes; the limit is ${maxKeyLength}`, 'use a Kubernetes-style key: prefix/name')
      }
      total += Buffer.byteLength(key) + Buffer.byteLength(String(value))
    }
  }
  if (total > maxCarriedBytes) {
    throw usageError(
      `${where}: labels and annotations hold ${total} bytes; ${what} may carry at most ${maxCarriedBytes} (16 KiB)`,
      'keep large data out of labels and annotations: every pod listing returns them',
    )
  }
}

const maxDnsSearches = 6
/** glibc reads at most 3 nameserver lines (MAXNS). */
const maxDnsServers = 3

/** A value for a message: quoted, and on one line whatever it holds. */
const q = (s: string) => JSON.stringify(s)

function validate(c: Record<string, unknown>, where: string, warnings: string[]): PodSandboxConfig {
  const config = c as unknown as PodSandboxConfig
  if (!c.metadata) throw usageError(`${where}: metadata is not set`, 'add metadata with name and namespace')
  const md = config.metadata
  checkName(md.name, 'metadata.name', where, true)
  checkName(md.namespace, 'metadata.namespace', where, true)
  checkName(md.uid, 'metadata.uid', where, false)
  // crictl: a missing uid gets a random UUID.
  if (!md.uid) md.uid = randomUUID()
  checkCarriedSize(config, where)
  md.attempt ??= 0
  const hostNetwork = config.linux?.security_context?.namespace_options?.network === NamespaceMode.NODE

  const dns = config.dns_config
  dns?.servers?.forEach((s, i) => {
    if (!isIP(s)) throw usageError(`${where}: dns_config.servers[${i}]: ${q(s)} is not an IP address`)
  })
  if (dns?.servers && dns.servers.length > maxDnsServers) {
    warnings.push(`${where}: dns_config.servers has ${dns.servers.length} servers; the resolver uses only the first ${maxDnsServers}`)
  }
  if (dns?.searches && dns.searches.length > maxDnsSearches) {
    // As iSulad: resolv.conf search lists beyond 6 domains are ignored by glibc.
    throw usageError(`${where}: dns_config.searches has ${dns.searches.length} domains; at most ${maxDnsSearches} are allowed`)
  }
  for (const [i, s] of (dns?.searches ?? []).entries()) {
    if (!/^[A-Za-z0-9.-]+$/.test(s)) throw usageError(`${where}: dns_config.searches[${i}]: ${q(s)} is not a domain name`)
  }
  for (const [i, o] of (dns?.options ?? []).entries()) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(o)) throw usageError(`${where}: dns_config.options[${i}]: ${q(o)} is not a resolv.conf option`)
  }

  validatePortMappings(config, where, hostNetwork)

  if (config.hostname !== undefined && config.hostname !== '') {
    if (config.hostname.length > 63 || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(config.hostname)) {
      throw usageError(`${where}: hostname: ${q(config.hostname)} is not a valid host name (letters, digits, '-', '.'; at most 63)`)
    }
    // kubelet leaves hostname empty for host-network pods: they share the host's UTS namespace.
    if (hostNetwork) {
      throw usageError(`${where}: hostname: a host-network pod has the host's own host name`, 'remove hostname, or give the pod its own network (namespace_options.network: POD)')
    }
  }
  if (config.log_directory !== undefined && config.log_directory !== '' && !config.log_directory.startsWith('/')) {
    throw usageError(`${where}: log_directory: ${q(config.log_directory)} must be an absolute path`)
  }
  // runp makes the directory: under /proc or /sys mkdir never succeeds (node's recursive mkdir spins on it).
  const logTree = config.log_directory ? kernelTreeOf(config.log_directory) : undefined
  if (logTree) throw usageError(`${where}: log_directory: ${q(config.log_directory ?? '')} is under ${logTree}`, 'give a directory on a real file system, such as /var/log/pods/<namespace>_<name>_<uid>')

  validateLinux(config, where)
  if (config.windows && Object.keys(config.windows).length > 0) {
    throw usageError(`${where}: windows: Windows pod settings are not supported on Linux`, 'remove the "windows" section')
  }
  return config
}

function validatePortMappings(config: PodSandboxConfig, where: string, hostNetwork: boolean): void {
  const mappings = config.port_mappings ?? []
  for (const [i, pm] of mappings.entries()) {
    const at = `${where}: port_mappings[${i}]`
    const cp = pm.container_port ?? 0
    const hp = pm.host_port ?? 0
    if (cp < 1 || cp > 65535) throw usageError(`${at}.container_port: ${cp} is not a port (1-65535)`)
    if (hp < 0 || hp > 65535) throw usageError(`${at}.host_port: ${hp} is not a port (0-65535; 0 means none)`)
    if (pm.host_ip && !isIP(pm.host_ip)) throw usageError(`${at}.host_ip: ${q(pm.host_ip)} is not an IP address`)
    // As Kubernetes validates it: a host-network pod's ports are the host's; nothing can map them elsewhere.
    if (hostNetwork && hp !== 0 && hp !== cp) {
      throw usageError(`${at}.host_port: ${hp} differs from container_port ${cp}, but a host-network pod listens on the host's ports directly`, 'set host_port to the container_port (or 0)')
    }
  }
  const dup = hostNetwork ? undefined : duplicateHostPort(mappings)
  if (dup) {
    const [first, second] = dup
    throw usageError(`${where}: port_mappings[${second}]: host port ${describeHostPort(mappings[second])} is also mapped by port_mappings[${first}]`)
  }
}

function validateLinux(config: PodSandboxConfig, where: string): void {
  const sc = config.linux?.security_context
  const ns = sc?.namespace_options
  if (ns) {
    const allowed: Record<string, number[]> = {
      network: [NamespaceMode.POD, NamespaceMode.NODE],
      pid: [NamespaceMode.POD, NamespaceMode.CONTAINER, NamespaceMode.NODE],
      ipc: [NamespaceMode.POD, NamespaceMode.NODE],
    }
    for (const [kind, modes] of Object.entries(allowed)) {
      const mode = ns[kind as 'network' | 'pid' | 'ipc']
      if (mode !== undefined && !modes.includes(mode)) {
        throw usageError(
          `${where}: linux.security_context.namespace_options.${kind}: ${enumName('NamespaceMode', mode)} is not supported for the ${kind} namespace of a pod`,
          `use ${modes.map((m) => enumName('NamespaceMode', m)).join(' or ')}`,
        )
      }
    }
    if (ns.target_id) {
      throw usageError(`${where}: linux.security_context.namespace_options.target_id is not supported (TARGET namespaces need containers)`)
    }
    const userns = ns.userns_options
    if (userns && (userns.mode ?? NamespaceMode.POD) !== NamespaceMode.NODE) {
      throw usageError(
        `${where}: linux.security_context.namespace_options.userns_options: user namespaces are not supported yet`,
        'remove userns_options or set its mode to NODE',
      )
    }
  }
  if (sc?.run_as_group && !sc.run_as_user) {
    // CRI: run_as_group "should only be specified when run_as_user is specified; otherwise, the runtime MUST error".
    throw usageError(`${where}: linux.security_context.run_as_group is set without run_as_user`, 'set run_as_user too')
  }
  const ids: [string, number | undefined][] = [
    ['run_as_user', sc?.run_as_user?.value],
    ['run_as_group', sc?.run_as_group?.value],
    ...(sc?.supplemental_groups ?? []).map((g, i): [string, number] => [`supplemental_groups[${i}]`, g]),
  ]
  for (const [field, id] of ids) {
    // (uid_t)-1 means "no change" to the kernel: the largest usable ID is one less.
    if (id !== undefined && (id < 0 || id > 4_294_967_294)) throw usageError(`${where}: linux.security_context.${field}: ${id} is not a user or group ID (0-4294967294)`)
  }
  const se = sc?.selinux_options
  if (se && Object.values(se).some((v) => v)) {
    throw usageError(`${where}: linux.security_context.selinux_options: SELinux labels are not supported`, 'remove selinux_options')
  }
  if (sc?.apparmor && (sc.apparmor.profile_type ?? 0) === ProfileType.Localhost) {
    throw usageError(`${where}: linux.security_context.apparmor: Localhost AppArmor profiles are not supported`)
  }
  let seccomp
  try {
    seccomp = seccompProfileOf(sc)
  } catch (err) {
    throw withWhere(where, err)
  }
  if (seccomp?.profile_type === ProfileType.Localhost && !(seccomp.localhost_ref ?? '').startsWith('/')) {
    const field = sc?.seccomp ? 'linux.security_context.seccomp.localhost_ref' : 'linux.security_context.seccomp_profile_path'
    throw usageError(`${where}: ${field}: ${q(seccomp.localhost_ref ?? '')} must be an absolute path to a seccomp profile`)
  }

  const parent = config.linux?.cgroup_parent
  if (parent) {
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f:]/.test(parent)) throw usageError(`${where}: linux.cgroup_parent: ${q(parent)} contains a control character or ':'`)
    const problem = cgroupParentProblem(parent)
    if (problem) throw usageError(`${where}: linux.cgroup_parent: ${problem}`, 'give an absolute path such as /kubepods, or a systemd-style slice such as kubepods.slice')
    try {
      podCgroupsPath(parent, '0')
    } catch (err) {
      throw usageError(`${where}: linux.cgroup_parent: ${messageOf(err)}`, (err as PodctlError).hint)
    }
  }
  validateResources(config.linux?.resources, `${where}: linux.resources`)
  validateResources(config.linux?.overhead, `${where}: linux.overhead`)
}

function withWhere(where: string, err: unknown): PodctlError {
  const e = err instanceof PodctlError ? err : new PodctlError(messageOf(err))
  return usageError(`${where}: ${e.message}`, e.hint)
}

/** What the kernel itself would refuse, or runc would misreport, said with the field's name. */
export function validateResources(r: LinuxContainerResources | undefined, at: string): void {
  if (!r) return
  const adj = r.oom_score_adj
  if (adj !== undefined && (adj < -1000 || adj > 1000)) throw usageError(`${at}.oom_score_adj: ${adj} is out of range (-1000..1000)`)
  if ((r.cpu_shares ?? 0) < 0) throw usageError(`${at}.cpu_shares: ${r.cpu_shares} is negative`)
  // The kernel's CFS bandwidth limits: a period of 1 ms to 1 s, a quota of at least 1 ms (-1: none).
  const period = r.cpu_period ?? 0
  if (period !== 0 && (period < 1000 || period > 1_000_000)) throw usageError(`${at}.cpu_period: ${period} is out of range (1000..1000000 microseconds)`)
  const quota = r.cpu_quota ?? 0
  if (quota !== 0 && quota !== -1 && quota < 1000) throw usageError(`${at}.cpu_quota: ${quota} is below the kernel's minimum of 1000 microseconds (-1 means no limit)`)
  if ((r.memory_limit_in_bytes ?? 0) < 0 && r.memory_limit_in_bytes !== -1) throw usageError(`${at}.memory_limit_in_bytes: ${r.memory_limit_in_bytes} is negative`)
  const memory = r.memory_limit_in_bytes ?? 0
  const swap = r.memory_swap_limit_in_bytes ?? 0
  if (swap > 0 && memory > 0 && swap < memory) {
    throw usageError(`${at}.memory_swap_limit_in_bytes: ${swap} is below memory_limit_in_bytes ${memory}; it limits memory plus swap`)
  }
  for (const key of ['cpuset_cpus', 'cpuset_mems'] as const) {
    if (r[key] && !parseCpuset(r[key])) throw usageError(`${at}.${key}: ${q(r[key])} is not a list such as "0-3,6"`)
  }
  for (const [i, h] of (r.hugepage_limits ?? []).entries()) {
    if (!/^\d+(KB|MB|GB|TB)$/.test(h.page_size ?? '')) throw usageError(`${at}.hugepage_limits[${i}].page_size: ${q(h.page_size ?? '')} is not a page size such as "2MB"`)
  }
  for (const key of Object.keys(r.unified ?? {})) {
    if (!/^[a-z_]+\.[a-z_.]+$/.test(key) || key.includes('..')) throw usageError(`${at}.unified.${key}: not a cgroup v2 file name such as "memory.high"`)
  }
}

/** Sysctls with a namespace of their own (Kubernetes' list, pkg/kubelet/sysctl/namespace.go). */
const ipcSysctls = new Set(['kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced', 'kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni'])
const isIpcSysctl = (name: string) => ipcSysctls.has(name) || name.startsWith('fs.mqueue.')
const isNetSysctl = (name: string) => name.startsWith('net.')

/**
 * Only sysctls that live in a namespace the pod owns may be set: net.* with
 * the pod's network namespace, the System V IPC and POSIX mqueue ones with
 * its IPC namespace. Anything else would change the whole host (runc refuses
 * some with a cryptic message, writes others).
 *
 * Unlike containerd 2.x, podctl adds no sysctls of its own
 * (net.ipv4.ip_unprivileged_port_start=0, net.ipv4.ping_group_range): a pod
 * gets exactly the sysctls its config names, as with containerd 1.7's
 * defaults; set them here when containers need them.
 */
export function checkSysctls(config: PodSandboxConfig): void {
  const ns = config.linux?.security_context?.namespace_options ?? {}
  const seen = new Map<string, string>()
  for (const [given, value] of Object.entries(config.linux?.sysctls ?? {})) {
    const field = `linux.sysctls.${given}`
    if (given.includes('/') && given.includes('.')) {
      throw usageError(`${field}: mixes '/' and '.'; the OCI runtime cannot write such a name`, 'use the dotted form, e.g. net.ipv4.ip_forward')
    }
    const name = sysctlName(given)
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(name)) throw usageError(`${field}: not a sysctl name such as net.ipv4.ip_forward`)
    if (seen.has(name)) throw usageError(`${field}: given twice (as ${seen.get(name)} too)`)
    seen.set(name, given)
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) throw usageError(`${field}: the value ${q(value)} contains a control character`)
    if (isNetSysctl(name)) {
      if (ns.network === NamespaceMode.NODE) {
        throw usageError(`${field}: a host-network pod shares the host's network namespace, so this would change the host`, 'remove it, or give the pod its own network (namespace_options.network: POD)')
      }
    } else if (isIpcSysctl(name)) {
      if (ns.ipc === NamespaceMode.NODE) {
        throw usageError(`${field}: a host-IPC pod shares the host's IPC namespace, so this would change the host`, 'remove it, or give the pod its own IPC namespace (namespace_options.ipc: POD)')
      }
    } else if (name === 'kernel.hostname' || name === 'kernel.domainname') {
      throw usageError(`${field}: set the pod's host name with the hostname field instead`)
    } else {
      throw usageError(
        `${field}: not a namespaced sysctl, so it would change the whole host`,
        'a pod may set net.*, fs.mqueue.* and kernel.{sem,shmall,shmmax,shmmni,shm_rmid_forced,msgmax,msgmnb,msgmni}',
      )
    }
  }
}

export interface HostFacts {
  cgroups: CgroupFacts
  /** the kernel enforces AppArmor */
  appArmor: boolean
}

export function readHostFacts(cgroupMode: CgroupMode): HostFacts {
  let appArmor = false
  try {
    appArmor = readFileSync('/sys/module/apparmor/parameters/enabled', 'utf8').trim() === 'Y'
  } catch {
    // no AppArmor module
  }
  return {cgroups: readCgroupFacts(cgroupMode), appArmor}
}

/**
 * Checked by runPod before anything is made, so that a config that did not
 * come through parsePodSandboxConfig is held to them too: the sysctls, and
 * what this host cannot do, each refused with the field named. Pure: the
 * host comes in as facts.
 */
export function checkRunnable(config: PodSandboxConfig, host: HostFacts): void {
  checkSysctls(config)
  checkResources(config.linux?.resources, host.cgroups, 'linux.resources')
  checkResources(config.linux?.overhead, host.cgroups, 'linux.overhead')
  const apparmor = config.linux?.security_context?.apparmor
  // Without AppArmor in the kernel the runtime's default is no profile (containerd does the same);
  // with it, RuntimeDefault would need a profile podctl does not have.
  if (apparmor && (apparmor.profile_type ?? ProfileType.RuntimeDefault) === ProfileType.RuntimeDefault && host.appArmor) {
    throw usageError('linux.security_context.apparmor: podctl has no default AppArmor profile to load on this AppArmor host', 'set profile_type to Unconfined')
  }
}
