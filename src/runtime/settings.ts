// podctl's global settings: every default overridable by flag, environment
// variable and the config file, in that order of precedence. The commands
// hand over what the user set (flag or env, via oclif); this module fills in
// the rest from the file, then from the built-in defaults below.

import {existsSync} from 'node:fs'

import {unixSocketPath} from '../cri/endpoint.js'
import {messageOf, usageError} from './errors.js'
import {loadYaml, parseSimpleYaml} from './yaml-lite.js'
import {didYouMean} from './suggest.js'
import {readUserFile} from './user-file.js'

export interface RuntimeHandler {
  /** the OCI runtime binary: an absolute path, or a name searched on PATH */
  path: string
  /**
   * global options given to the runtime before every command, each one
   * element in --name=value form (e.g. --debug, --rootless=false); the ones
   * podctl sets itself (--root, --log, ...) are refused
   */
  args?: string[]
}

export interface DefaultNetwork {
  /** CNI network name, also the name of the conflist file podctl writes */
  name: string
  bridge: string
  subnet: string
}

/** How podctl reaches one registry host (the key of `registries`). */
export interface RegistryHost {
  /**
   * endpoints tried in order before the registry itself, each a URL
   * (http://127.0.0.1:5000, https://mirror.example.com) or a bare host[:port]
   */
  mirrors?: string[]
  /** plain HTTP, or HTTPS without verifying the certificate */
  insecure?: boolean
  /** PEM files of CAs trusted for this host, beside the system's */
  caFiles?: string[]
}

export interface Settings {
  /** persistent state: pod records, the name index, the pause rootfs */
  root: string
  /** volatile state: runtime state, network namespaces */
  runRoot: string
  cniConfDir: string
  cniBinDirs: string[]
  /** the handler used when runp gets no --runtime */
  defaultRuntime: string
  runtimes: Record<string, RuntimeHandler>
  defaultNetwork: DefaultNetwork
  /** the cgroup parent of pods whose config names none: a cgroupfs path or a systemd-style slice */
  cgroupParent: string
  /** the directory Localhost seccomp profiles must be in (kubelet's <root-dir>/seccomp) */
  seccompProfileRoot: string
  timeoutMs: number
  debug: boolean
  /** the CRI runtime the pod verbs are clients of (unix:///path), instead of running pods in-process */
  runtimeEndpoint?: string
  /** per registry host (docker.io, 10.0.0.5:5000): mirrors, insecure, CA files */
  registries: Record<string, RegistryHost>
  /** the sandbox image runp uses; unset, the built-in catatonit rootfs */
  pauseImage?: string
  /** where `serve` answers the URLs of Exec, Attach and PortForward: host:port (port 0: any free one) or unix:///path */
  streamListen: string
  /** the URL prefix those URLs start with; unset, http://<the address listened on> */
  streamBaseUrl?: string
  /** runp refuses a pod beyond this many (see maxPodsDefault) */
  maxPods: number
  /** where the settings file was read from, if one was */
  configFile?: string
}

export const defaultConfigFile = '/etc/podctl/podctl.yaml'

export const builtinDefaults: Omit<Settings, 'configFile'> = {
  root: '/var/lib/podctl',
  runRoot: '/run/podctl',
  cniConfDir: '/etc/cni/net.d',
  cniBinDirs: ['/opt/cni/bin', '/usr/lib/cni', '/usr/libexec/cni'],
  defaultRuntime: 'runc',
  runtimes: {runc: {path: 'runc'}, crun: {path: 'crun'}},
  defaultNetwork: {name: 'podctl', bridge: 'podctl0', subnet: '10.85.0.0/16'},
  cgroupParent: '/podctl',
  seccompProfileRoot: '/var/lib/kubelet/seccomp',
  timeoutMs: 60_000,
  debug: false,
  registries: {},
  streamListen: '127.0.0.1:0',
  maxPods: 110,
}

/**
 * The largest max-pods taken. The default, 110, is the kubelet's own
 * --max-pods; with it ListPodSandbox stays under the 16 MiB that kubelet,
 * crictl and serve cap a gRPC message at, even when every pod carries the
 * most metadata runp allows (test/unit/server/limits.test.ts measures the
 * worst pod's encoded size). A higher value is the operator's choice: pods
 * with few labels list fine by the thousand.
 */
export const maxPodsLimit = 10_000

/** What the user set on the command line or in the environment. */
export interface SettingsOverrides {
  config?: string
  root?: string
  runRoot?: string
  cniConfDir?: string
  cniBinDir?: string
  timeout?: string
  debug?: boolean
  runtimeEndpoint?: string
}

/** Keys of the config file, kebab-case as crictl's /etc/crictl.yaml. */
export const fileKeys = [
  'root',
  'run-root',
  'cni-conf-dir',
  'cni-bin-dir',
  'default-runtime',
  'runtimes',
  'default-network',
  'cgroup-parent',
  'seccomp-profile-root',
  'timeout',
  'debug',
  'runtime-endpoint',
  'registries',
  'pause-image',
  'stream-listen',
  'stream-base-url',
  'max-pods',
] as const

export function resolveSettings(overrides: SettingsOverrides): Settings {
  const explicit = overrides.config !== undefined
  const configFile = overrides.config ?? defaultConfigFile
  return mergeSettings(overrides, readSettingsFile(configFile, explicit), configFile)
}

/**
 * Check the text of a config file as if it were loaded, with no flags or
 * environment: every error names the file and the key. For `config --set`,
 * before anything is written.
 */
export function checkSettingsText(text: string, configFile: string): void {
  mergeSettings({}, parseSettingsText(text, configFile), configFile)
}

function mergeSettings(overrides: SettingsOverrides, file: FileSettings, configFile: string): Settings {
  const d = builtinDefaults
  const timeout = overrides.timeout ?? file.timeout
  // Name where a bad value came from: the flag (or its variable), or the file's key.
  const source = (override: unknown, flag: string, key: string) => (override === undefined ? `config file "${configFile}": ${key}` : flag)
  return {
    root: absolute(overrides.root ?? file.root ?? d.root, source(overrides.root, '--root', 'root')),
    runRoot: absolute(overrides.runRoot ?? file.runRoot ?? d.runRoot, source(overrides.runRoot, '--run-root', 'run-root')),
    cniConfDir: absolute(overrides.cniConfDir ?? file.cniConfDir ?? d.cniConfDir, source(overrides.cniConfDir, '--cni-conf-dir', 'cni-conf-dir')),
    cniBinDirs:
      (overrides.cniBinDir ?? file.cniBinDir)
        ?.split(':')
        .filter(Boolean)
        .map((p) => absolute(p, source(overrides.cniBinDir, '--cni-bin-dir', 'cni-bin-dir'))) ?? d.cniBinDirs,
    defaultRuntime: defaultRuntimeOf(file, configFile),
    runtimes: {...d.runtimes, ...file.runtimes},
    defaultNetwork: {...d.defaultNetwork, ...file.defaultNetwork},
    cgroupParent: file.cgroupParent ?? d.cgroupParent,
    seccompProfileRoot: absolute(file.seccompProfileRoot ?? d.seccompProfileRoot, source(undefined, '', 'seccomp-profile-root')),
    timeoutMs: timeout === undefined ? d.timeoutMs : parseDuration(String(timeout), source(overrides.timeout, '--timeout', 'timeout')),
    debug: overrides.debug ?? file.debug ?? d.debug,
    ...runtimeEndpointOf(overrides.runtimeEndpoint ?? file.runtimeEndpoint, source(overrides.runtimeEndpoint, '--runtime-endpoint', 'runtime-endpoint')),
    registries: file.registries ?? {},
    ...(file.pauseImage === undefined ? {} : {pauseImage: file.pauseImage}),
    streamListen: file.streamListen ?? d.streamListen,
    ...(file.streamBaseUrl === undefined ? {} : {streamBaseUrl: file.streamBaseUrl}),
    maxPods: file.maxPods ?? d.maxPods,
    configFile: file.loaded ? configFile : undefined,
  }
}

/** default-runtime must name a handler: the built-in ones or one under runtimes. */
function defaultRuntimeOf(file: FileSettings, configFile: string): string {
  const name = file.defaultRuntime ?? builtinDefaults.defaultRuntime
  const handlers = Object.keys({...builtinDefaults.runtimes, ...file.runtimes})
  if (!handlers.includes(name)) {
    throw usageError(
      `config file "${configFile}": default-runtime: "${name}" is not a runtime handler${didYouMean(name, handlers)}`,
      `known handlers: ${handlers.join(', ')}; add it under "runtimes" with its path`,
    )
  }
  return name
}

interface FileSettings {
  loaded: boolean
  root?: string
  runRoot?: string
  cniConfDir?: string
  cniBinDir?: string
  defaultRuntime?: string
  runtimes?: Record<string, RuntimeHandler>
  defaultNetwork?: Partial<DefaultNetwork>
  cgroupParent?: string
  seccompProfileRoot?: string
  timeout?: string | number
  debug?: boolean
  runtimeEndpoint?: string
  registries?: Record<string, RegistryHost>
  pauseImage?: string
  streamListen?: string
  streamBaseUrl?: string
  maxPods?: number
}

/** A settings file is a few lines; anything bigger is a mistake. */
export const maxSettingsBytes = 1 << 20

function readSettingsFile(file: string, explicit: boolean): FileSettings {
  // The default file is optional; one the user named is not.
  if (!explicit && !existsSync(file)) return {loaded: false}
  const text = readUserFile(file, {what: `config file "${file}"`, maxBytes: maxSettingsBytes})
  return parseSettingsText(text, file)
}

function parseSettingsText(text: string, file: string): FileSettings {
  let doc: unknown
  try {
    // Plain block YAML is read without loading the parser (yaml-lite.ts says why); the rest, and every error, is the parser's.
    const simple = parseSimpleYaml(text)
    doc = simple ? simple.value : loadYaml().parse(text, {uniqueKeys: true})
  } catch (err) {
    throw usageError(`config file "${file}" is not valid YAML: ${messageOf(err).split('\n')[0]}`)
  }
  if (doc === null || doc === undefined) return {loaded: true}
  if (typeof doc !== 'object' || Array.isArray(doc)) throw usageError(`config file "${file}": must be a map of settings`)
  const raw = doc as Record<string, unknown>
  const at = (key: string) => `config file "${file}": ${key}`
  for (const key of Object.keys(raw)) {
    if (!(fileKeys as readonly string[]).includes(key)) {
      throw usageError(`${at(key)}: unknown setting${didYouMean(key, fileKeys)}`, `valid settings: ${fileKeys.join(', ')}`)
    }
  }
  const str = (key: string): string | undefined => {
    const v = raw[key]
    if (v === undefined || v === null) return undefined
    if (typeof v !== 'string' || v === '') throw usageError(`${at(key)}: must be a non-empty string`)
    return v
  }
  const out: FileSettings = {
    loaded: true,
    root: str('root'),
    runRoot: str('run-root'),
    cniConfDir: str('cni-conf-dir'),
    cniBinDir: str('cni-bin-dir'),
    defaultRuntime: str('default-runtime'),
    runtimeEndpoint: str('runtime-endpoint'),
    cgroupParent: cgroupParentOf(str('cgroup-parent'), at('cgroup-parent')),
    pauseImage: str('pause-image'),
    seccompProfileRoot: str('seccomp-profile-root'),
  }
  if (out.pauseImage === undefined) delete out.pauseImage
  const streamListen = streamListenOf(str('stream-listen'), at('stream-listen'))
  if (streamListen !== undefined) out.streamListen = streamListen
  const streamBaseUrl = streamBaseUrlOf(str('stream-base-url'), at('stream-base-url'))
  if (streamBaseUrl !== undefined) out.streamBaseUrl = streamBaseUrl
  if (raw.registries !== undefined && raw.registries !== null) out.registries = parseRegistries(raw.registries, at('registries'))
  if (raw.timeout !== undefined) {
    if (typeof raw.timeout !== 'string' && typeof raw.timeout !== 'number') throw usageError(`${at('timeout')}: must be a duration such as 30s`)
    out.timeout = raw.timeout
  }
  if (raw['max-pods'] !== undefined && raw['max-pods'] !== null) {
    const n = raw['max-pods']
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > maxPodsLimit) {
      throw usageError(`${at('max-pods')}: ${JSON.stringify(n)} is not a number of pods from 1 to ${maxPodsLimit}`, `e.g. max-pods: ${builtinDefaults.maxPods}`)
    }
    out.maxPods = n
  }
  if (raw.debug !== undefined) {
    if (typeof raw.debug !== 'boolean') throw usageError(`${at('debug')}: must be true or false`)
    out.debug = raw.debug
  }
  if (raw.runtimes !== undefined) out.runtimes = parseRuntimes(raw.runtimes, at('runtimes'))
  if (raw['default-network'] !== undefined) out.defaultNetwork = parseDefaultNetwork(raw['default-network'], at('default-network'))
  return out
}

/**
 * A cgroup parent as a pod config's linux.cgroup_parent takes it: an absolute
 * cgroupfs path, or a systemd-style slice (kubepods.slice); the slice's own
 * rules are checked where it is expanded (cgroups.ts), at runp.
 */
function cgroupParentOf(value: string | undefined, where: string): string | undefined {
  if (value === undefined) return undefined
  // eslint-disable-next-line no-control-regex
  const bad = /[\u0000-\u001f\u007f:]/.test(value) || value.split('/').some((part) => part === '..' || part === '.')
  if (bad || !(value.startsWith('/') || (value.endsWith('.slice') && !value.includes('/')))) {
    throw usageError(`${where}: ${JSON.stringify(value)} is not a cgroup parent`, 'give an absolute path such as /podctl, or a systemd-style slice such as kubepods.slice')
  }
  return value
}

/** A stream-listen value's parts: host:port, [v6]:port, or unix:///absolute/path; undefined for anything else. */
export function streamListenAddress(value: string): {host: string; port: number} | {path: string} | undefined {
  if (/^unix:\/\/\/[^\0]*$/.test(value)) return {path: value.slice('unix://'.length)}
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(value)
  return m && Number(m[3]) <= 65535 ? {host: m[1] ?? m[2], port: Number(m[3])} : undefined
}

function streamListenOf(value: string | undefined, where: string): string | undefined {
  if (value === undefined || streamListenAddress(value)) return value
  throw usageError(`${where}: ${JSON.stringify(value)} is not host:port or unix:///path`, 'e.g. 127.0.0.1:0 (any free port), 127.0.0.1:10010, unix:///run/podctl/stream.sock')
}

/** The prefix of the streaming URLs: http(s)://host[:port][/path], no query. */
function streamBaseUrlOf(value: string | undefined, where: string): string | undefined {
  if (value === undefined) return undefined
  let url: URL | undefined
  try {
    url = new URL(value)
  } catch {
    url = undefined
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash || url.username) {
    throw usageError(`${where}: ${JSON.stringify(value)} must be an http:// or https:// URL without query`, 'e.g. http://10.0.0.5:10010')
  }
  return value.replace(/\/+$/, '')
}

export const runtimeHandlerKeys = ['path', 'args'] as const

/**
 * Global options podctl gives the runtime itself: its state root and error
 * log (stopp and rmp must find the container again). Pods are placed with
 * cgroupfs paths, so a systemd cgroup manager would misread them.
 */
const ownedRuntimeOptions = ['--root', '--log', '--log-format']
const cgroupfsOnly = (arg: string) => arg === '--systemd-cgroup' || (arg.startsWith('--cgroup-manager=') && arg !== '--cgroup-manager=cgroupfs')

function parseRuntimes(value: unknown, where: string): Record<string, RuntimeHandler> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError(`${where}: must be a map of handler name to {path, args}`)
  const out: Record<string, RuntimeHandler> = {}
  for (const [name, v] of Object.entries(value)) {
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw usageError(`${where}.${name}: not a valid handler name`)
    // The built-in handlers keep their path when the file only gives them args.
    const path = typeof v === 'object' && v !== null ? ((v as {path?: unknown}).path ?? builtinDefaults.runtimes[name]?.path) : undefined
    if (typeof v !== 'object' || v === null || Array.isArray(v) || typeof path !== 'string' || path === '') {
      throw usageError(`${where}.${name}: must be a map with "path" set to the runtime binary`)
    }
    for (const key of Object.keys(v)) {
      if (!(runtimeHandlerKeys as readonly string[]).includes(key)) {
        throw usageError(`${where}.${name}.${key}: unknown setting${didYouMean(key, runtimeHandlerKeys)}`, `valid settings: ${runtimeHandlerKeys.join(', ')}`)
      }
    }
    const handler: RuntimeHandler = {path}
    const args = (v as {args?: unknown}).args
    if (args !== undefined && args !== null) handler.args = parseRuntimeArgs(args, `${where}.${name}.args`)
    out[name] = handler
  }
  return out
}

function parseRuntimeArgs(value: unknown, where: string): string[] {
  if (!Array.isArray(value)) throw usageError(`${where}: must be a list of options such as [--debug]`)
  return value.map((arg, i) => {
    if (typeof arg !== 'string' || !/^--?[A-Za-z0-9]/.test(arg)) {
      throw usageError(`${where}[${i}]: ${JSON.stringify(arg)} is not an option`, 'give each option as one element in --name=value form')
    }
    const name = arg.split('=')[0]
    if (ownedRuntimeOptions.includes(name)) throw usageError(`${where}[${i}]: podctl sets ${name} itself`, `remove it; podctl owns ${ownedRuntimeOptions.join(', ')}`)
    if (cgroupfsOnly(arg)) throw usageError(`${where}[${i}]: ${arg}: podctl places pods with cgroupfs paths`, 'remove it')
    return arg
  })
}

function parseDefaultNetwork(value: unknown, where: string): Partial<DefaultNetwork> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw usageError(`${where}: must be a map with name, bridge, subnet`)
  const out: Partial<DefaultNetwork> = {}
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'name' && key !== 'bridge' && key !== 'subnet') {
      throw usageError(`${where}.${key}: unknown setting${didYouMean(key, ['name', 'bridge', 'subnet'])}`, 'valid settings: name, bridge, subnet')
    }
    if (typeof v !== 'string' || v === '') throw usageError(`${where}.${key}: must be a non-empty string`)
    out[key] = v
  }
  if (out.bridge !== undefined && !/^[A-Za-z0-9_.-]{1,15}$/.test(out.bridge)) {
    throw usageError(`${where}.bridge: "${out.bridge}" is not a valid interface name (at most 15 letters, digits, '.', '-', '_')`)
  }
  if (out.subnet !== undefined && !/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(out.subnet)) {
    throw usageError(`${where}.subnet: "${out.subnet}" is not a CIDR such as 10.85.0.0/16`)
  }
  return out
}

export const registryHostKeys = ['mirrors', 'insecure', 'ca-files'] as const

function parseRegistries(value: unknown, where: string): Record<string, RegistryHost> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw usageError(`${where}: must be a map of registry host to {mirrors, insecure, ca-files}`, 'e.g. registries: {docker.io: {mirrors: [http://127.0.0.1:5000]}}')
  }
  const out: Record<string, RegistryHost> = {}
  for (const [host, v] of Object.entries(value)) {
    const at = `${where}.${host}`
    if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(host)) {
      throw usageError(`${at}: "${host}" is not a registry host`, 'name it as in image references: docker.io, registry.example.com:5000')
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw usageError(`${at}: must be a map with mirrors, insecure, ca-files`)
    const entry: RegistryHost = {}
    for (const [key, item] of Object.entries(v as Record<string, unknown>)) {
      if (key === 'insecure') {
        if (typeof item !== 'boolean') throw usageError(`${at}.insecure: must be true or false`)
        entry.insecure = item
      } else if (key === 'mirrors') {
        if (!Array.isArray(item)) throw usageError(`${at}.mirrors: must be a list of URLs such as [http://127.0.0.1:5000]`)
        entry.mirrors = item.map((m, i) => mirrorOf(m, `${at}.mirrors[${i}]`))
      } else if (key === 'ca-files') {
        if (!Array.isArray(item)) throw usageError(`${at}.ca-files: must be a list of PEM file paths`)
        entry.caFiles = item.map((f, i) => {
          if (typeof f !== 'string' || f === '') throw usageError(`${at}.ca-files[${i}]: must be a file path`)
          return absolute(f, `${at}.ca-files[${i}]`)
        })
      } else {
        throw usageError(`${at}.${key}: unknown setting${didYouMean(key, registryHostKeys)}`, `valid settings: ${registryHostKeys.join(', ')}`)
      }
    }
    out[host] = entry
  }
  return out
}

/** A mirror as a URL with no path: http://host:port or https://host; a bare host[:port] is HTTPS. */
function mirrorOf(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') throw usageError(`${where}: must be a URL such as http://127.0.0.1:5000`)
  const text = /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw usageError(`${where}: ${JSON.stringify(value)} is not a URL`, 'give it as http://127.0.0.1:5000 or https://mirror.example.com')
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || (url.pathname !== '/' && url.pathname !== '') || url.search || url.username) {
    throw usageError(`${where}: ${JSON.stringify(value)} must be an http:// or https:// URL with no path`)
  }
  return `${url.protocol}//${url.host}`
}

/** A unix:// endpoint (or a bare absolute socket path, as crictl takes), checked; unset or empty is in-process. */
function runtimeEndpointOf(value: string | undefined, what: string): {runtimeEndpoint?: string} {
  if (!value) return {}
  unixSocketPath(value, what)
  return {runtimeEndpoint: value}
}

function absolute(path: string, what: string): string {
  if (!path.startsWith('/')) throw usageError(`${what}: "${path}" must be an absolute path`)
  return path.replace(/\/+$/, '') || '/'
}

const durationUnits: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** The longest duration taken: node's timers overflow beyond 2^31-1 ms (24 days). */
export const maxDurationMs = 2 ** 31 - 1

/** "30s", "1m30s", "500ms", or a bare number of seconds (crictl's file form). */
export function parseDuration(text: string, what: string): number {
  const t = text.trim()
  let ms: number
  if (/^\d+(\.\d+)?$/.test(t)) {
    ms = Number(t) * 1000
  } else {
    const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)]
    if (parts.length === 0 || parts.map((p) => p[0]).join('') !== t) {
      throw usageError(`${what}: ${JSON.stringify(text)} is not a duration`, 'use a duration such as 30s, 2m or 500ms')
    }
    ms = parts.reduce((sum, p) => sum + Number(p[1]) * durationUnits[p[2]], 0)
  }
  // Whole milliseconds, at least one: a zero timeout would abort every command at once.
  if (Math.round(ms) < 1) throw usageError(`${what}: must be greater than zero`)
  // node's timers take at most 2^31-1 ms; a longer one fires at once.
  if (Math.round(ms) > maxDurationMs) throw usageError(`${what}: ${JSON.stringify(text)} is too long: the limit is ${maxDurationMs} ms (24 days)`, 'give a shorter duration, such as 24h')
  return Math.round(ms)
}

/** Milliseconds as the shortest duration parseDuration reads back: 60000 -> "1m". */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** The effective settings in the config file's own shape and keys (for info and config --list). */
export function effectiveConfig(s: Settings): Record<string, unknown> {
  return {
    root: s.root,
    'run-root': s.runRoot,
    'cni-conf-dir': s.cniConfDir,
    'cni-bin-dir': s.cniBinDirs.join(':'),
    'default-runtime': s.defaultRuntime,
    runtimes: s.runtimes,
    'default-network': s.defaultNetwork,
    'cgroup-parent': s.cgroupParent,
    'seccomp-profile-root': s.seccompProfileRoot,
    timeout: formatDuration(s.timeoutMs),
    debug: s.debug,
    'runtime-endpoint': s.runtimeEndpoint ?? '',
    registries: Object.fromEntries(
      Object.entries(s.registries).map(([host, r]) => [
        host,
        {...(r.mirrors ? {mirrors: r.mirrors} : {}), ...(r.insecure !== undefined ? {insecure: r.insecure} : {}), ...(r.caFiles ? {'ca-files': r.caFiles} : {})},
      ]),
    ),
    'pause-image': s.pauseImage ?? '',
    'stream-listen': s.streamListen,
    'stream-base-url': s.streamBaseUrl ?? '',
    'max-pods': s.maxPods,
  }
}
