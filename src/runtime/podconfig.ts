// Reading a PodSandboxConfig the way crictl does (JSON or YAML, snake_case
// proto names), and better: lowerCamelCase keys and enum names are accepted,
// every unknown key is reported with a did-you-mean (crictl drops them
// silently: kubernetes/website#35871), and every error names the field path.

import {randomUUID} from 'node:crypto'
import {createRequire} from 'node:module'
import {constants} from 'node:fs'
import {open} from 'node:fs/promises'
import {isIP} from 'node:net'

import {enums, type FieldDef, jsonName, messages} from '../cri/schema.js'
import {NamespaceMode, type PodSandboxConfig} from '../cri/types.js'
import {errnoOf, messageOf, PodctlError, usageError} from './errors.js'

export interface ParsedPodConfig {
  config: PodSandboxConfig
  warnings: string[]
}

/** A pod config is a small text file; anything bigger is a mistake. */
const maxConfigBytes = 1 << 20

/** Read and parse a pod config file; refuses directories, FIFOs and devices. */
export async function readPodSandboxConfig(file: string): Promise<ParsedPodConfig> {
  const text = await readConfigText(file)
  return parsePodSandboxConfig(text, file)
}

async function readConfigText(file: string): Promise<string> {
  let handle
  try {
    // O_NONBLOCK so that opening a FIFO with no writer cannot hang; the type
    // check below then refuses it.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    const code = errnoOf(err)
    if (code === 'ENOENT') throw usageError(`pod config "${file}" not found`)
    if (code === 'EISDIR') throw usageError(`pod config "${file}" is a directory, not a file`)
    throw usageError(`cannot read pod config "${file}": ${messageOf(err)}`)
  }
  try {
    const st = await handle.stat()
    if (st.isDirectory()) throw usageError(`pod config "${file}" is a directory, not a file`)
    if (!st.isFile()) throw usageError(`pod config "${file}" is not a regular file`)
    if (st.size > maxConfigBytes) {
      throw usageError(`pod config "${file}" is ${st.size} bytes; the limit is ${maxConfigBytes} (1 MiB)`)
    }
    const buf = await handle.readFile()
    if (buf.includes(0)) throw usageError(`pod config "${file}" is not a text file (it contains NUL bytes)`)
    return buf.toString('utf8')
  } finally {
    await handle.close()
  }
}

/** Parse the text of a pod config (JSON or YAML); `source` names it in messages. */
export function parsePodSandboxConfig(text: string, source: string): ParsedPodConfig {
  const where = `pod config "${source}"`
  const raw = parseDocument(text, where)
  const warnings: string[] = []
  const decoded = decodeMessage(raw, 'PodSandboxConfig', '', {where, warnings}) as Record<string, unknown>
  const config = validate(decoded, where)
  return {config, warnings}
}

function parseDocument(text: string, where: string): unknown {
  if (text.trim() === '') throw usageError(`${where} is empty`)
  const trimmed = text.trimStart()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      return JSON.parse(text)
    } catch (err) {
      throw usageError(`${where} is not valid JSON: ${(err as Error).message}`)
    }
  }
  try {
    // Loaded only for YAML documents: JSON configs never pay for the parser.
    const {parse: parseYaml} = createRequire(import.meta.url)('yaml') as typeof import('yaml')
    return parseYaml(text, {uniqueKeys: true, maxAliasCount: 100, prettyErrors: false})
  } catch (err) {
    const message = (err as Error).message.split('\n')[0]
    throw usageError(`${where} is not valid YAML: ${message}`)
  }
}

interface DecodeContext {
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

function decodeMessage(value: unknown, messageName: string, path: string, ctx: DecodeContext): unknown {
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
      out[k] = v
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

function didYouMean(key: string, fields: FieldDef[]): string {
  const candidates = fields.flatMap((fd) => [fd.name, jsonName(fd.name)])
  const lower = key.toLowerCase().replace(/[-_]/g, '')
  let best: string | undefined
  let bestDistance = Infinity
  for (const c of candidates) {
    const d = c.toLowerCase().replace(/_/g, '') === lower ? 0 : levenshtein(key.toLowerCase(), c.toLowerCase())
    if (d < bestDistance) {
      bestDistance = d
      best = fields.find((fd) => fd.name === c || jsonName(fd.name) === c)?.name
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3))
  return best !== undefined && bestDistance <= limit ? ` (did you mean "${best}"?)` : ''
}

export function levenshtein(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64
  const row = Array.from({length: b.length + 1}, (_v, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]
}

// Names and namespaces end up in the name index, CNI_ARGS and annotations,
// never in paths; still, keep them to what Kubernetes allows for object names
// (DNS-1123 subdomain length, no separators or control characters) so that
// they are safe everywhere they are echoed.
const maxNameLength = 253
// eslint-disable-next-line no-control-regex
const badNameChars = /[\u0000-\u001f\u007f/\\;=,\s]/

function checkName(value: unknown, path: string, where: string, required: boolean): void {
  if (value === undefined || value === '') {
    if (required) throw usageError(`${where}: ${path} is not set`, `set ${path} to a non-empty name`)
    return
  }
  const s = value as string
  if (s.length > maxNameLength) throw usageError(`${where}: ${path} is ${s.length} characters long; the limit is ${maxNameLength}`)
  const bad = s.match(badNameChars)
  if (bad) throw usageError(`${where}: ${path} contains ${JSON.stringify(bad[0])}, which is not allowed in a name`)
  if (s === '.' || s === '..') throw usageError(`${where}: ${path} may not be "${s}"`)
}

const maxDnsSearches = 6

function validate(c: Record<string, unknown>, where: string): PodSandboxConfig {
  const config = c as unknown as PodSandboxConfig
  if (!c.metadata) throw usageError(`${where}: metadata is not set`, 'add metadata with name and namespace')
  const md = config.metadata
  checkName(md.name, 'metadata.name', where, true)
  checkName(md.namespace, 'metadata.namespace', where, true)
  checkName(md.uid, 'metadata.uid', where, false)
  // crictl: a missing uid gets a random UUID.
  if (!md.uid) md.uid = randomUUID()
  md.attempt ??= 0

  const dns = config.dns_config
  dns?.servers?.forEach((s, i) => {
    if (!isIP(s)) throw usageError(`${where}: dns_config.servers[${i}]: "${s}" is not an IP address`)
  })
  if (dns?.searches && dns.searches.length > maxDnsSearches) {
    // As iSulad: resolv.conf search lists beyond 6 domains are ignored by glibc.
    throw usageError(`${where}: dns_config.searches has ${dns.searches.length} domains; at most ${maxDnsSearches} are allowed`)
  }
  for (const [i, s] of (dns?.searches ?? []).entries()) {
    if (!/^[A-Za-z0-9.-]+$/.test(s)) throw usageError(`${where}: dns_config.searches[${i}]: "${s}" is not a domain name`)
  }
  for (const [i, o] of (dns?.options ?? []).entries()) {
    if (!/^[A-Za-z0-9_.:-]+$/.test(o)) throw usageError(`${where}: dns_config.options[${i}]: "${o}" is not a resolv.conf option`)
  }

  for (const [i, pm] of (config.port_mappings ?? []).entries()) {
    const at = `${where}: port_mappings[${i}]`
    const cp = pm.container_port ?? 0
    const hp = pm.host_port ?? 0
    if (cp < 1 || cp > 65535) throw usageError(`${at}.container_port: ${cp} is not a port (1-65535)`)
    if (hp < 0 || hp > 65535) throw usageError(`${at}.host_port: ${hp} is not a port (0-65535; 0 means none)`)
    if (pm.host_ip && !isIP(pm.host_ip)) throw usageError(`${at}.host_ip: "${pm.host_ip}" is not an IP address`)
  }

  if (config.hostname !== undefined && config.hostname !== '') {
    if (config.hostname.length > 63 || !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(config.hostname)) {
      throw usageError(`${where}: hostname: "${config.hostname}" is not a valid host name (letters, digits, '-', '.'; at most 63)`)
    }
  }
  if (config.log_directory !== undefined && config.log_directory !== '' && !config.log_directory.startsWith('/')) {
    throw usageError(`${where}: log_directory: "${config.log_directory}" must be an absolute path`)
  }

  validateLinux(config, where)
  if (config.windows && Object.keys(config.windows).length > 0) {
    throw usageError(`${where}: windows: Windows pod settings are not supported on Linux`, 'remove the "windows" section')
  }
  return config
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
        const name = Object.entries(NamespaceMode).find(([, v]) => v === mode)?.[0]
        throw usageError(
          `${where}: linux.security_context.namespace_options.${kind}: ${name} is not supported for the ${kind} namespace of a pod`,
          `use ${modes.map((m) => Object.entries(NamespaceMode).find(([, v]) => v === m)?.[0]).join(' or ')}`,
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
  const se = sc?.selinux_options
  if (se && Object.values(se).some((v) => v)) {
    throw usageError(`${where}: linux.security_context.selinux_options: SELinux labels are not supported`, 'remove selinux_options')
  }
  if (sc?.apparmor && (sc.apparmor.profile_type ?? 0) === 2) {
    throw usageError(`${where}: linux.security_context.apparmor: Localhost AppArmor profiles are not supported`)
  }
}
