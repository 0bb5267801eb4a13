// runtime.v1.RuntimeService on top of src/runtime/: the pod sandbox RPCs call
// the pod service in this process (src/runtime/service.ts), as runp, stopp,
// rmp, inspectp, pods and statsp do, with
// containerd's status codes and idempotence rules:
//
//   RunPodSandbox      InvalidArgument for a bad config, AlreadyExists while
//                      the name is reserved by another pod
//   StopPodSandbox     OK for an unknown pod (the CRI: idempotent)
//   RemovePodSandbox   OK for an unknown pod; a ready pod is stopped first
//   PodSandboxStatus   NotFound for an unknown pod; info {"info": JSON} when verbose
//   ListPodSandbox     filters: ID (a prefix resolves), state, label selector
//   PodSandboxStats    NotFound for an unknown pod, Unavailable for a NotReady one
//
// The container RPCs are in ./container-service.ts. Every other RPC answers
// UNIMPLEMENTED with a reason.

import {readFileSync} from 'node:fs'

import {status, type UntypedServiceImplementation} from '@grpc/grpc-js'

import type {PodSandboxState} from '../cri/types.js'
import {notFoundError} from '../runtime/errors.js'
import {criVersion, nodeInfo} from '../runtime/info.js'
import {parsePodSandboxConfig} from '../runtime/podconfig.js'
import {inProcessService} from '../runtime/backend.js'
import type {CallContext} from '../runtime/context.js'
import type {PodFilter} from '../runtime/listing.js'
import {hostStatsSource, listPodSandboxStats, nowNanos, type PodStatsEntry, withCpuRates} from '../runtime/stats.js'
import {runtimeServiceDefinition} from '../cri/proto.js'
import {containerServiceHandlers} from './container-service.js'
import {type ServerContext, unimplemented} from './context.js'
import {serviceError} from './errors.js'
import {streamingHandlers} from './streaming/handlers.js'
import type {StreamingServer} from './streaming/server.js'

const packageVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {version: string}).version

const notStreamed = 'use the unary List RPC (KEP-5825 streaming lists are not supported)'

/** Why each RPC that is not served is not, in the words the client gets. */
const unimplementedWhy: Record<string, string> = {
  CheckpointContainer: 'checkpoints (CRIU) are not supported',
  GetContainerEvents: 'there is no event stream: poll ListPodSandbox and ListContainers',
  ListMetricDescriptors: 'there are no metrics: use ListPodSandboxStats',
  ListPodSandboxMetrics: 'there are no metrics: use ListPodSandboxStats',
  UpdatePodSandboxResources: 'the resources of a running pod cannot be changed yet',
  StreamPodSandboxes: notStreamed,
  StreamContainers: notStreamed,
  StreamContainerStats: notStreamed,
  StreamPodSandboxStats: notStreamed,
  StreamPodSandboxMetrics: notStreamed,
}

// Requests, as src/cri/proto.ts decodes them.
interface IdRequest {
  podSandboxId?: string
}
interface RunPodSandboxRequest {
  config?: Record<string, unknown>
  runtimeHandler?: string
}
interface StatusRequest {
  podSandboxId?: string
  verbose?: boolean
}
interface ListPodSandboxRequest {
  filter?: {id?: string; state?: {state?: PodSandboxState}; labelSelector?: Record<string, string>}
}
interface ListPodSandboxStatsRequest {
  filter?: {id?: string; labelSelector?: Record<string, string>}
}
interface UpdateRuntimeConfigRequest {
  runtimeConfig?: {networkConfig?: {podCidr?: string}}
}

const short = (id: string | undefined) => `"${(id ?? '').slice(0, 13)}"`

export function runtimeServiceHandlers(ctx: ServerContext, streaming: StreamingServer): UntypedServiceImplementation {
  const cpu = new CpuRates()
  let podCidr = ''

  const implemented: UntypedServiceImplementation = {
    ...containerServiceHandlers(ctx),

    Version: ctx.unary(
      'Version',
      async () => criVersion(packageVersion),
      {mutates: false},
    ),

    RunPodSandbox: ctx.unary(
      'RunPodSandbox',
      async (req: RunPodSandboxRequest, rt) => {
        // The same parser and checks as a config file given to runp.
        const {config, warnings} = parsePodSandboxConfig(JSON.stringify(req.config ?? {}), 'RunPodSandboxRequest.config')
        for (const w of warnings) rt.warn(w)
        return {podSandboxId: await inProcessService(rt).runPod(config, req.runtimeHandler ?? '')}
      },
      {
        mutates: true,
        what: (req) => {
          const md = (req.config?.metadata ?? {}) as {name?: string; namespace?: string; attempt?: number}
          return `${md.namespace ?? ''}/${md.name ?? ''} attempt ${md.attempt ?? 0}${req.runtimeHandler ? ` handler ${req.runtimeHandler}` : ''}`
        },
        result: (res) => `pod ${short(res.podSandboxId)}`,
      },
    ),

    StopPodSandbox: ctx.unary(
      'StopPodSandbox',
      async (req: IdRequest, rt) => {
        // CRI: idempotent; an unknown pod is already stopped.
        await inProcessService(rt).stopPod(req.podSandboxId ?? '')
        return {}
      },
      {mutates: true, what: (req) => short(req.podSandboxId)},
    ),

    RemovePodSandbox: ctx.unary(
      'RemovePodSandbox',
      async (req: IdRequest, rt) => {
        const pods = inProcessService(rt)
        const id = await pods.resolve(req.podSandboxId ?? '')
        // CRI: idempotent; a pod already removed is fine.
        if (id === null) return {}
        // CRI: containers (the pause, here) are forcibly terminated.
        await pods.removePod(id, {force: true})
        return {}
      },
      {mutates: true, what: (req) => short(req.podSandboxId)},
    ),

    PodSandboxStatus: ctx.unary(
      'PodSandboxStatus',
      async (req: StatusRequest, rt) => {
        const id = await resolveExisting(rt, req.podSandboxId)
        const {status: podStatusMessage, info} = await inProcessService(rt).podStatus(id, req.verbose === true)
        // containerd's shape, which crictl inspectp unpacks: one key, a JSON value.
        return {status: podStatusMessage, info: info ? {info: JSON.stringify(info)} : {}, timestamp: nowNanos().toString()}
      },
      {mutates: false, what: (req) => short(req.podSandboxId)},
    ),

    ListPodSandbox: ctx.unary(
      'ListPodSandbox',
      async (req: ListPodSandboxRequest, rt) => {
        const f = req.filter ?? {}
        const filter: PodFilter = {id: f.id || undefined, state: f.state?.state, labelSelector: f.labelSelector}
        return {items: await inProcessService(rt).listPods(filter)}
      },
      {mutates: false, result: (res) => `${res.items.length} pods`},
    ),

    PodSandboxStats: ctx.unary(
      'PodSandboxStats',
      async (req: IdRequest, rt) => {
        const id = await resolveExisting(rt, req.podSandboxId)
        const [entry] = await cpu.sample(rt, {id})
        if (!entry?.stats) throw serviceError(status.UNAVAILABLE, `pod sandbox "${id}" is not ready: it has no stats`)
        return {stats: entry.stats}
      },
      {mutates: false, what: (req) => short(req.podSandboxId)},
    ),

    ListPodSandboxStats: ctx.unary(
      'ListPodSandboxStats',
      async (req: ListPodSandboxStatsRequest, rt) => {
        const f = req.filter ?? {}
        // As containerd: only ready pods have stats.
        return {stats: (await cpu.sample(rt, {id: f.id || undefined, labelSelector: f.labelSelector})).flatMap((e) => (e.stats ? [e.stats] : []))}
      },
      {mutates: false, result: (res) => `${res.stats.length} pods`},
    ),

    Status: ctx.unary(
      'Status',
      async (req: {verbose?: boolean}, rt) => {
        // The conditions podctl info reports: runtime, pause rootfs and cgroups; the network pods would join.
        const {conditions} = (await nodeInfo(rt.settings, rt.store, rt.ctx)).status
        const features = {recursiveReadOnlyMounts: false, userNamespaces: false}
        // The default handler is named "" (the CRI), then every configured one.
        const handlers = ['', ...Object.keys(rt.settings.runtimes)].map((name) => ({name, features}))
        const {root, runRoot, cniConfDir, cniBinDirs, defaultRuntime, runtimes, defaultNetwork, timeoutMs} = rt.settings
        const info = req.verbose
          ? {config: JSON.stringify({root, runRoot, cniConfDir, cniBinDirs, defaultRuntime, runtimes, defaultNetwork, timeoutMs, podCidr, cgroupDriver: 'cgroupfs'})}
          : {}
        return {status: {conditions}, info, runtimeHandlers: handlers, features: {supplementalGroupsPolicy: false}}
      },
      {mutates: false},
    ),

    // podctl places pods with cgroupfs paths (src/runtime/cgroups.ts), slice names included.
    RuntimeConfig: ctx.unary('RuntimeConfig', async () => ({linux: {cgroupDriver: 'CGROUPFS'}}), {mutates: false}),

    UpdateRuntimeConfig: ctx.unary(
      'UpdateRuntimeConfig',
      async (req: UpdateRuntimeConfigRequest) => {
        // containerd feeds the pod CIDR to a CNI config template; podctl's
        // network is the conflist in the CNI conf dir, so it is only reported.
        podCidr = req.runtimeConfig?.networkConfig?.podCidr ?? ''
        return {}
      },
      {mutates: true, what: (req) => `pod CIDR "${req.runtimeConfig?.networkConfig?.podCidr ?? ''}"`},
    ),

    ...streamingHandlers(ctx, streaming),
  }

  return Object.fromEntries(
    Object.entries(runtimeServiceDefinition()).map(([rpc, def]) => [
      rpc,
      implemented[rpc] ?? unimplemented(rpc, unimplementedWhy[rpc] ?? 'not supported', def.responseStream),
    ]),
  )
}

async function resolveExisting(rt: CallContext, ref: string | undefined): Promise<string> {
  const id = await inProcessService(rt).resolve(ref ?? '')
  if (id === null) throw notFoundError(`pod sandbox "${ref}" not found`)
  return id
}

/**
 * usage_nano_cores needs two samples. A long-running server has the last one
 * (as containerd keeps it): each call rates against the previous call's sample
 * of the same pod.
 */
class CpuRates {
  private last = new Map<string, PodStatsEntry>()

  async sample(rt: CallContext, filter: PodFilter): Promise<PodStatsEntry[]> {
    const current = withCpuRates([...this.last.values()], await listPodSandboxStats(rt, filter, await hostStatsSource()))
    // An unfiltered sample lists every pod: forget the ones that are gone.
    if (!filter.id && !filter.labelSelector) this.last.clear()
    for (const entry of current) if (entry.stats) this.last.set(entry.pod.id, entry)
    return current
  }
}
