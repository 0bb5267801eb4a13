// CNI, driven directly: load a network configuration list, run its plugins
// (ADD in order, DEL in reverse, each fed the previous result) with the CNI
// environment contract, and pass capability arguments only to plugins that
// declare them. This is the only module that knows the CNI_* variables.
// Ref: the CNI spec, "Section 2: Execution Protocol" and "Section 4: Plugin
// Delegation"; libcni's AddNetworkList/DelNetworkList.

import {accessSync, constants, readdirSync, readFileSync} from 'node:fs'
import {mkdir, readdir, readFile} from 'node:fs/promises'
import {isIP} from 'node:net'
import {join} from 'node:path'

import {messageOf, PodctlError, prerequisiteError, usageError} from './errors.js'
import {type OpContext, run, settleAll} from './exec.js'
import {writeFileAtomic} from './store.js'
import type {DefaultNetwork} from './settings.js'

export interface NetworkConfigList {
  cniVersion: string
  name: string
  plugins: Record<string, unknown>[]
  [key: string]: unknown
}

export interface LoadedNetwork {
  conflist: NetworkConfigList
  /** the file it came from */
  file: string
  /** true when podctl wrote its built-in default just now */
  created: boolean
}

export interface Attachment {
  containerId: string
  /** path of the pinned netns; "" on DEL when it is already gone (CNI spec) */
  netns: string
  ifName: string
  /** CNI_ARGS pairs */
  args: Record<string, string>
  /** runtimeConfig candidates; each plugin receives the ones it declares */
  capabilityArgs: Record<string, unknown>
}

export const defaultConflistFile = (net: DefaultNetwork) => `87-${net.name}-bridge.conflist`

/** podctl's own network: bridge + host-local + portmap, and loopback for `lo`. */
export function defaultConflist(net: DefaultNetwork, ipamDataDir: string): NetworkConfigList {
  const ipv6 = net.subnet.includes(':')
  return {
    cniVersion: '1.0.0',
    name: net.name,
    plugins: [
      {
        type: 'bridge',
        bridge: net.bridge,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          routes: [{dst: ipv6 ? '::/0' : '0.0.0.0/0'}],
          ranges: [[{subnet: net.subnet}]],
          dataDir: ipamDataDir,
        },
      },
      {type: 'portmap', capabilities: {portMappings: true}},
      {type: 'loopback'},
    ],
  }
}

/**
 * The network pods attach to: the first configuration in the conf dir in
 * lexical order (as libcni's ConfFiles and containerd pick it), or podctl's
 * built-in default, written into the conf dir for the user to see and edit.
 */
export async function loadNetwork(confDir: string, net: DefaultNetwork, ipamDataDir: string): Promise<LoadedNetwork> {
  const found = firstConflist(confDir)
  if (found) return {...found, created: false}
  const conflist = defaultConflist(net, ipamDataDir)
  const file = join(confDir, defaultConflistFile(net))
  await mkdir(confDir, {recursive: true, mode: 0o755})
  writeFileAtomic(file, JSON.stringify(conflist, null, 2) + '\n', 0o644)
  return {conflist, file, created: true}
}

/** The first configuration in the conf dir, parsed; undefined when there is none. */
export function firstConflist(confDir: string): {conflist: NetworkConfigList; file: string} | undefined {
  let names: string[] = []
  try {
    names = readdirSync(confDir).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw usageError(`cannot read CNI config dir "${confDir}": ${messageOf(err)}`)
  }
  if (names.length === 0) return undefined
  const file = join(confDir, names[0])
  return {conflist: parseConflist(readFileSync(file, 'utf8'), file), file}
}

/** The conflist named `name` in the conf dir, if there is one. */
export async function findConflist(confDir: string, name: string): Promise<NetworkConfigList | undefined> {
  return (await allConflists(confDir)).find((c) => c.name === name)
}

/** Every valid network configuration in the conf dir, in lexical order of their files. */
export async function allConflists(confDir: string): Promise<NetworkConfigList[]> {
  const files = (await readdir(confDir).catch(() => [] as string[])).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort()
  const found: NetworkConfigList[] = []
  for (const f of files) {
    try {
      found.push(parseConflist(await readFile(join(confDir, f), 'utf8'), join(confDir, f)))
    } catch {
      // not a valid network config: it allocated nothing
    }
  }
  return found
}

/**
 * Where a network's host-local IPAM keeps its allocations: `<dataDir>/<network>`,
 * dataDir defaulting to /var/lib/cni/networks (plugins/ipam/host-local). Each
 * file there is named by an IP and holds "<container ID>\n<ifname>".
 */
export function hostLocalDirs(conflist: NetworkConfigList): string[] {
  if (conflist.name.includes('/') || conflist.name.startsWith('.')) return []
  const dirs = conflist.plugins.flatMap((p) => {
    const ipam = p.ipam as {type?: unknown; dataDir?: unknown} | undefined
    if (ipam?.type !== 'host-local') return []
    if (ipam.dataDir === undefined) return [join('/var/lib/cni/networks', conflist.name)]
    return typeof ipam.dataDir === 'string' && ipam.dataDir.startsWith('/') ? [join(ipam.dataDir, conflist.name)] : []
  })
  return [...new Set(dirs)]
}

/** Parse a .conflist, or a single-plugin .conf wrapped into a list (as libcni does). */
export function parseConflist(text: string, file: string): NetworkConfigList {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw usageError(`CNI config "${file}" is not valid JSON: ${messageOf(err)}`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw usageError(`CNI config "${file}": must be a JSON object`)
  const raw = doc as Record<string, unknown>
  const list: Record<string, unknown> = Array.isArray(raw.plugins)
    ? raw
    : {cniVersion: raw.cniVersion, name: raw.name, plugins: [Object.fromEntries(Object.entries(raw).filter(([k]) => k !== 'name' && k !== 'cniVersion'))]}
  if (typeof list.name !== 'string' || list.name === '') throw usageError(`CNI config "${file}": "name" must be a non-empty string`)
  if (typeof list.cniVersion !== 'string' || list.cniVersion === '') throw usageError(`CNI config "${file}": "cniVersion" must be set`)
  const plugins = list.plugins as unknown[]
  if (plugins.length === 0) throw usageError(`CNI config "${file}": "plugins" is empty`)
  plugins.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || typeof (p as {type?: unknown}).type !== 'string') {
      throw usageError(`CNI config "${file}": plugins[${i}].type must be a plugin name`)
    }
    if (!/^[A-Za-z0-9_.-]+$/.test((p as {type: string}).type)) {
      throw usageError(`CNI config "${file}": plugins[${i}].type "${(p as {type: string}).type}" is not a plugin name`)
    }
  })
  return list as NetworkConfigList
}

/** The plugin types a list runs: each plugin's, and the IPAM plugins they delegate to. */
export function pluginTypes(conflist: NetworkConfigList): string[] {
  const types = conflist.plugins.flatMap((p) => {
    const ipam = (p.ipam as {type?: unknown} | undefined)?.type
    return typeof ipam === 'string' && /^[A-Za-z0-9_.-]+$/.test(ipam) ? [p.type as string, ipam] : [p.type as string]
  })
  return [...new Set(types)]
}

/**
 * Find every plugin binary up front, IPAM plugins too: a missing one is a
 * clear prerequisite error. Synchronously, as each access() on the thread
 * pool is a round trip: 3-5 ms before stopp's CNI DEL could start.
 */
export function resolvePlugins(conflist: NetworkConfigList, binDirs: string[]): Map<string, string> {
  const found = new Map<string, string>()
  for (const type of pluginTypes(conflist)) {
    const path = findPlugin(type, binDirs)
    if (!path) {
      throw prerequisiteError(
        `CNI plugin "${type}" not found in ${binDirs.join(':')}`,
        'install the CNI plugins (Debian/Ubuntu: apt-get install containernetworking-plugins) or set --cni-bin-dir',
      )
    }
    found.set(type, path)
  }
  return found
}

function findPlugin(type: string, binDirs: string[]): string | undefined {
  for (const dir of binDirs) {
    const path = join(dir, type)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // next directory
    }
  }
  return undefined
}

export interface PluginVersion {
  /** the release, from the plugin's own banner ("CNI bridge plugin v1.4.0"); "unknown" when it does not say */
  version: string
  /** the CNI spec versions it speaks (CNI_COMMAND=VERSION) */
  cniVersions: string[]
}

/** A plugin's release and spec versions; runs it twice, with no command and with VERSION. */
export async function pluginVersion(ctx: OpContext, path: string): Promise<PluginVersion> {
  const [banner, spec] = await Promise.all([
    // With CNI_COMMAND unset, plugins built on CNI's skel print their "about" banner.
    run(ctx, path, [], {env: {CNI_COMMAND: ''}}),
    run(ctx, path, [], {env: {CNI_COMMAND: 'VERSION'}, input: JSON.stringify({cniVersion: '1.0.0'})}),
  ])
  const release = banner.stdout.split('\n')[0].match(/ plugin (?:version )?(\S+)$/)?.[1]
  let cniVersions: string[] = []
  try {
    cniVersions = (JSON.parse(spec.stdout) as {supportedVersions?: string[]}).supportedVersions ?? []
  } catch {
    // not a CNI plugin's answer: no spec versions to report
  }
  return {version: release ?? 'unknown', cniVersions}
}

type CniCommand = 'ADD' | 'DEL' | 'CHECK'

/** ADD every plugin in order; returns the final result. */
export async function addNetwork(ctx: OpContext, conflist: NetworkConfigList, plugins: Map<string, string>, binDirs: string[], att: Attachment): Promise<Record<string, unknown>> {
  const {chain, beside} = splitTrailingLoopback(conflist.plugins)
  const [result] = await settleAll([
    (async () => {
      let prev: Record<string, unknown> | undefined
      for (const plugin of chain) {
        prev = await invoke(ctx, 'ADD', conflist, plugin, plugins, binDirs, att, prev)
      }
      return prev ?? {}
    })(),
    beside ? invoke(ctx, 'ADD', conflist, beside, plugins, binDirs, att, undefined) : undefined,
  ])
  return result
}

/** DEL every plugin in reverse order, fed the cached ADD result (CNI spec ≥ 0.4.0). */
export async function delNetwork(ctx: OpContext, conflist: NetworkConfigList, plugins: Map<string, string>, binDirs: string[], att: Attachment, cachedResult?: Record<string, unknown>): Promise<void> {
  const {chain, beside} = splitTrailingLoopback(conflist.plugins)
  await settleAll([
    (async () => {
      for (const plugin of [...chain].reverse()) {
        await invoke(ctx, 'DEL', conflist, plugin, plugins, binDirs, att, cachedResult)
      }
    })(),
    beside ? invoke(ctx, 'DEL', conflist, beside, plugins, binDirs, att, cachedResult) : undefined,
  ])
}

/**
 * A loopback plugin that ends a list (podctl's default network ends so) only
 * brings `lo` up or down inside the netns and hands its prevResult on unchanged
 * (plugins/main/loopback): no plugin follows it to use its output, and it
 * touches nothing the others do. So it runs beside the rest of the list
 * rather than after it, as containerd's go-cni attaches its separate loopback
 * network concurrently with the pod network.
 */
export function splitTrailingLoopback(list: Record<string, unknown>[]): {chain: Record<string, unknown>[]; beside?: Record<string, unknown>} {
  const last = list.at(-1)
  if (list.length < 2 || last?.type !== 'loopback') return {chain: list}
  return {chain: list.slice(0, -1), beside: last}
}

async function invoke(
  ctx: OpContext,
  command: CniCommand,
  conflist: NetworkConfigList,
  plugin: Record<string, unknown>,
  plugins: Map<string, string>,
  binDirs: string[],
  att: Attachment,
  prevResult: Record<string, unknown> | undefined,
): Promise<Record<string, unknown>> {
  const type = plugin.type as string
  const stdin = JSON.stringify(pluginConfig(conflist, plugin, att.capabilityArgs, prevResult))
  const env = {
    CNI_COMMAND: command,
    CNI_CONTAINERID: att.containerId,
    CNI_NETNS: att.netns,
    CNI_IFNAME: att.ifName,
    CNI_ARGS: Object.entries(att.args).map(([k, v]) => `${k}=${v}`).join(';'),
    CNI_PATH: binDirs.join(':'),
  }
  const result = await run(ctx, plugins.get(type) as string, [], {input: stdin, env})
  const where = `plugin type="${type}" name="${conflist.name}" failed (${command.toLowerCase()})`
  if (result.exitCode !== 0) throw new PodctlError(`${where}: ${pluginError(result.stdout, result.stderr)}`)
  if (command !== 'ADD') return prevResult ?? {}
  try {
    return JSON.parse(result.stdout) as Record<string, unknown>
  } catch {
    throw new PodctlError(`${where}: the plugin printed no valid result: ${result.stdout.slice(0, 200)}`)
  }
}

/**
 * The configuration one plugin of a list receives: its own keys plus the
 * list's name and cniVersion, the previous result, and runtimeConfig holding
 * only the capability arguments it declares (libcni injectRuntimeConfig).
 */
export function pluginConfig(conflist: NetworkConfigList, plugin: Record<string, unknown>, capabilityArgs: Record<string, unknown>, prevResult?: Record<string, unknown>): Record<string, unknown> {
  const conf: Record<string, unknown> = {...plugin, cniVersion: conflist.cniVersion, name: conflist.name}
  if (prevResult) conf.prevResult = prevResult
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>
  const runtimeConfig: Record<string, unknown> = {}
  for (const [cap, value] of Object.entries(capabilityArgs)) {
    if (caps[cap] && value !== undefined) runtimeConfig[cap] = value
  }
  if (Object.keys(runtimeConfig).length > 0) conf.runtimeConfig = runtimeConfig
  delete conf.capabilities
  return conf
}

function pluginError(stdout: string, stderr: string): string {
  try {
    const err = JSON.parse(stdout) as {code?: number; msg?: string; details?: string}
    if (err.msg) return err.details ? `${err.msg}: ${err.details}` : err.msg
  } catch {
    // not a CNI error object
  }
  return (stderr || stdout || 'no output').trim().split('\n').slice(-3).join('; ')
}

/**
 * The pod's addresses from a CNI result: the IPs on the interface inside the
 * sandbox (eth0), IPv4 first as containerd's default ip_pref.
 */
export function podIPs(result: Record<string, unknown>, ifName: string): {ip: string; additionalIps: string[]} {
  const interfaces = (result.interfaces ?? []) as {name?: string; sandbox?: string}[]
  const ips = (result.ips ?? []) as {address?: string; interface?: number}[]
  const inSandbox = ips.filter((entry) => {
    if (entry.interface === undefined) return true
    const itf = interfaces[entry.interface]
    return itf?.sandbox !== undefined && itf.sandbox !== '' && (itf.name === ifName || itf.name === undefined)
  })
  const addrs = inSandbox.map((e) => (e.address ?? '').split('/')[0]).filter((a) => isIP(a))
  addrs.sort((a, b) => isIP(a) - isIP(b))
  return {ip: addrs[0] ?? '', additionalIps: addrs.slice(1)}
}
