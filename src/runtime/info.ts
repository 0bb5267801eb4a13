// What `podctl info` and `podctl version` report: whether this node can run
// a pod, as the CRI's Status conditions, and the versions of what it runs.
// Everything here only looks: no directory is made, no default network is
// written, no pause rootfs is built (runp does those on first use).

import {type CgroupMode, detectCgroupMode} from './cgroups.js'
import {defaultConflist, defaultConflistFile, firstConflist, type NetworkConfigList, pluginTypes, pluginVersion, resolvePlugins} from './cni.js'
import {messageOf, PodctlError} from './errors.js'
import type {OpContext} from './exec.js'
import {findConmon} from './monitor.js'
import {resolveRuntime, runtimeVersion, type RuntimeVersion} from './oci-runtime.js'
import {pauseStatus, type PauseStatus} from './pause.js'
import type {Settings} from './settings.js'
import type {Store} from './store.js'

/** A CRI RuntimeCondition: reason is CamelCase and empty when ready; message says what was found either way. */
export interface RuntimeCondition {
  type: 'RuntimeReady' | 'NetworkReady'
  status: boolean
  reason: string
  message: string
}

export interface NodeInfo {
  status: {conditions: RuntimeCondition[]}
  runtime: {handler: string; path?: string} & Partial<RuntimeVersion>
  network: {confDir: string; name?: string; file?: string; builtin: boolean; plugins: {type: string; path?: string}[]}
  pause?: PauseStatus
  cgroup?: {mode: CgroupMode; version: 1 | 2; driver: 'cgroupfs'}
}

const problem = (err: unknown) => (err instanceof PodctlError && err.hint ? `${err.message} (${err.hint})` : messageOf(err))

/** One check of a condition: what it found, or why it failed. */
type Check = {ok: true; found: string} | {ok: false; reason: string; message: string}

function condition(type: RuntimeCondition['type'], checks: Check[]): RuntimeCondition {
  const failed = checks.filter((c): c is Extract<Check, {ok: false}> => !c.ok)
  if (failed.length === 0) return {type, status: true, reason: '', message: checks.map((c) => (c as {found: string}).found).join('; ')}
  return {type, status: false, reason: failed[0].reason, message: failed.map((c) => c.message).join('; ')}
}

async function attempt(reason: string, fn: () => Promise<string>): Promise<Check> {
  try {
    return {ok: true, found: await fn()}
  } catch (err) {
    return {ok: false, reason, message: problem(err)}
  }
}

/**
 * RuntimeReady: the default handler's binary is found and answers
 * --version, the pause rootfs is built or buildable, cgroups are mounted,
 * and conmon (each container's monitor) is installed and executable.
 * NetworkReady: the network pods would join (the first CNI config, else
 * podctl's built-in one) is valid and every plugin it runs is installed.
 */
export async function nodeInfo(settings: Settings, store: Store, ctx: OpContext): Promise<NodeInfo> {
  const info: NodeInfo = {
    status: {conditions: []},
    runtime: {handler: settings.defaultRuntime},
    network: {confDir: settings.cniConfDir, builtin: false, plugins: []},
  }
  const runtimeChecks = await Promise.all([
    attempt('OCIRuntimeNotFound', async () => {
      info.runtime.path = resolveRuntime(settings.runtimes, settings.defaultRuntime)
      try {
        Object.assign(info.runtime, await runtimeVersion(ctx, info.runtime.path))
      } catch (err) {
        throw new PodctlError(`OCI runtime ${info.runtime.path} does not work: ${messageOf(err)}`)
      }
      return `${info.runtime.name} ${info.runtime.version} at ${info.runtime.path}`
    }).then((c) => (c.ok || info.runtime.path === undefined ? c : {...c, reason: 'OCIRuntimeNotWorking'})),
    attempt('PauseRootfsNotReady', async () => {
      info.pause = await pauseStatus(store.pauseDir())
      return info.pause.built ? `pause rootfs ready (${info.pause.rootfs})` : `pause rootfs not built yet (runp builds it from ${info.pause.catatonit})`
    }),
    attempt('CgroupsNotMounted', async () => {
      const mode = detectCgroupMode()
      info.cgroup = {mode, version: mode === 'v2' ? 2 : 1, driver: 'cgroupfs'}
      return `cgroup v${info.cgroup.version}${mode === 'hybrid' ? ' (hybrid)' : ''}, cgroupfs driver`
    }),
    // Every container runs under a monitor: without one, pods run but their containers cannot.
    attempt('ContainerMonitorNotFound', async () => `conmon at ${findConmon()}`),
  ])
  const networkCheck = await checkNetwork(settings, store, info)
  const {runtime, network, pause, cgroup} = info
  // One order of keys whatever finished first.
  return {
    status: {conditions: [condition('RuntimeReady', runtimeChecks), condition('NetworkReady', [networkCheck])]},
    runtime,
    network: {confDir: network.confDir, name: network.name, file: network.file, builtin: network.builtin, plugins: network.plugins},
    pause,
    cgroup,
  }
}

async function checkNetwork(settings: Settings, store: Store, info: NodeInfo): Promise<Check> {
  let conflist: NetworkConfigList
  let where: string
  try {
    const found = firstConflist(settings.cniConfDir)
    if (found) {
      conflist = found.conflist
      info.network.file = found.file
      where = `network "${conflist.name}" from ${found.file}`
    } else {
      conflist = defaultConflist(settings.defaultNetwork, store.ipamDir())
      info.network.builtin = true
      const {bridge, subnet} = settings.defaultNetwork
      where = `no CNI config in ${settings.cniConfDir}: runp writes podctl's network "${conflist.name}" (bridge ${bridge}, subnet ${subnet}) as ${defaultConflistFile(settings.defaultNetwork)}`
    }
  } catch (err) {
    return {ok: false, reason: 'CNIConfigInvalid', message: problem(err)}
  }
  info.network.name = conflist.name
  const types = pluginTypes(conflist)
  try {
    const found = resolvePlugins(conflist, settings.cniBinDirs)
    info.network.plugins = types.map((type) => ({type, path: found.get(type)}))
  } catch (err) {
    info.network.plugins = types.map((type) => ({type}))
    return {ok: false, reason: 'CNIPluginNotFound', message: problem(err)}
  }
  return {ok: true, found: `${where}; plugins ${types.join(', ')} found in ${settings.cniBinDirs.join(':')}`}
}

/**
 * The CRI Version reply, the same from `podctl version` and `podctl serve`:
 * the kubelet runtime API version (0.1.0, as containerd and CRI-O answer),
 * podctl's name and version, and the CRI API version.
 */
export const criVersion = (podctlVersion: string) => ({version: '0.1.0', runtimeName: 'podctl', runtimeVersion: podctlVersion, runtimeApiVersion: 'v1'})

export interface VersionInfo {
  ociRuntime: {handler: string; path?: string; error?: string} & Partial<RuntimeVersion>
  cniPlugins: {type: string; path?: string; version?: string; cniVersions?: string[]; error?: string}[]
}

/**
 * The default OCI runtime's version and that of each CNI plugin of the
 * network pods would join. What cannot be found is reported, not thrown:
 * version answers on a half-installed node too.
 */
export async function versionInfo(settings: Settings, store: Store, ctx: OpContext): Promise<VersionInfo> {
  const ociRuntime: VersionInfo['ociRuntime'] = {handler: settings.defaultRuntime}
  try {
    ociRuntime.path = resolveRuntime(settings.runtimes, settings.defaultRuntime)
    Object.assign(ociRuntime, await runtimeVersion(ctx, ociRuntime.path))
  } catch (err) {
    ociRuntime.error = messageOf(err)
  }
  let conflist: NetworkConfigList
  try {
    conflist = firstConflist(settings.cniConfDir)?.conflist ?? defaultConflist(settings.defaultNetwork, store.ipamDir())
  } catch {
    // An invalid config is info's to report; the plugins are those of podctl's own network.
    conflist = defaultConflist(settings.defaultNetwork, store.ipamDir())
  }
  const cniPlugins = await Promise.all(
    pluginTypes(conflist).map(async (type): Promise<VersionInfo['cniPlugins'][number]> => {
      let path: string | undefined
      try {
        path = resolvePlugins({...conflist, plugins: [{type}]}, settings.cniBinDirs).get(type)
        return {type, path, ...(await pluginVersion(ctx, path as string))}
      } catch (err) {
        return path ? {type, path, error: messageOf(err)} : {type, error: messageOf(err)}
      }
    }),
  )
  return {ociRuntime, cniPlugins}
}
