// podctl's pod and container verbs as a CRI v1 client (--runtime-endpoint):
// the PodService and ContainerService of src/runtime/service.ts over gRPC,
// against podctl serve, containerd or CRI-O. Loaded only when an endpoint is set: grpc costs ~100 ms to import.
//
// Timeouts are crictl's (k8s.io/cri-client): --timeout bounds each call,
// connecting included, and RunPodSandbox gets twice as long. Answers are
// turned into the shapes the in-process runtime returns (every field
// present, in the same order), so the verbs print the same either way; gRPC
// errors become PodctlErrors with the server's message, the exit code of the
// status (the table in src/server/errors.ts) and podctl serve's hint.

import {setTimeout as sleep} from 'node:timers/promises'

import {type Client, credentials, makeClientConstructor, Metadata, type ServiceDefinition, type ServiceError, status} from '@grpc/grpc-js'

import type {Container, ContainerStatus} from './container-types.js'
import type {PodSandbox, PodSandboxState, PodSandboxStatus} from './types.js'
import {ExitCode, PodctlError, podRunningError} from '../runtime/errors.js'
import type {RuntimeCondition} from '../runtime/info.js'
import {compareNanos, matchesText, type PodFilter} from '../runtime/listing.js'
import type {ContainerService, ContainerStatusResult, PodService, PodStatusResult} from '../runtime/service.js'
import type {ContainerStats, ContainerStatsFilter, FilesystemUsage} from '../runtime/container-stats.js'
import type {ResourceUpdate} from '../runtime/container-update.js'
import {type CpuUsage, type MemoryUsage, type PodSandboxStats, type PodStatsEntry, type SamplingOptions, sampleStats, type UInt64Value} from '../runtime/stats.js'
import {exitCodeOf, hintMetadataKey} from '../server/errors.js'
import {unixSocketPath, unixTarget} from './endpoint.js'
import {
  runtimeServiceDefinition,
  type WireContainerStats,
  type WireCpuUsage,
  type WireMemoryUsage,
  type WireMetadata,
  type WireNetworkInterfaceUsage,
  type WirePodSandbox,
  type WirePodSandboxStats,
  type WirePodSandboxStatus,
  type WirePodSandboxStatusResponse,
  type WireUInt64,
} from './proto.js'
import {jsonName, messages} from './schema.js'

export interface CriClientOptions {
  /** unix:///path/to.sock */
  endpoint: string
  /** per call, connecting included; RunPodSandbox gets twice as long */
  timeoutMs: number
  /** cancels the call in flight (the server then rolls it back) */
  ctx: {signal: AbortSignal; log: (message: string) => void}
}

/** A call's deadline; one beyond what a timer can hold (exec's "none", 2^31-1 ms) is none: grpc-js would fire it at once. */
const deadlineOf = (ms: number): Date | number => (ms >= 2 ** 30 ? Infinity : new Date(Date.now() + ms))

type Unary = (request: object, metadata: Metadata, options: {deadline: Date | number}, callback: (err: ServiceError | null, response: unknown) => void) => {cancel(): void}

/** One unary call of a CRI service: the response, or a PodctlError. */
export type CriCall = <T>(rpc: string, request: object, callTimeoutMs?: number) => Promise<T>

/**
 * A client of one CRI service at the endpoint: each call bounded by its
 * deadline (connecting included), cancelled with ctx.signal, logged with --debug.
 */
export function criCaller(definition: ServiceDefinition, serviceName: string, options: CriClientOptions): CriCall {
  const {endpoint, timeoutMs, ctx} = options
  const Service = makeClientConstructor(definition, serviceName)
  const client = new Service(unixTarget(unixSocketPath(endpoint, '--runtime-endpoint')), credentials.createInsecure(), {
    // The kubelet's limit for CRI messages, as podctl serve's.
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
  }) as Client & Record<string, Unary>

  return function call<T>(rpc: string, request: object, callTimeoutMs = timeoutMs): Promise<T> {
    const {signal} = ctx
    if (signal.aborted) return Promise.reject(signal.reason)
    const started = performance.now()
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        inFlight.cancel()
        reject(signal.reason)
      }
      const inFlight = client[rpc].call(client, request, new Metadata(), {deadline: deadlineOf(callTimeoutMs)}, (err, response) => {
        signal.removeEventListener('abort', onAbort)
        ctx.log(`cri: ${rpc} ${err ? `failed (${status[err.code]})` : 'ok'}: ${(performance.now() - started).toFixed(1)} ms`)
        if (signal.aborted) return
        if (err) reject(fromServiceError(err, rpc, endpoint, callTimeoutMs))
        else resolve(response as T)
      })
      signal.addEventListener('abort', onAbort, {once: true})
    })
  }
}

export interface RemoteVersion {
  version: string
  runtimeName: string
  runtimeVersion: string
  runtimeApiVersion: string
}

export interface RemoteStatus {
  status: {conditions: RuntimeCondition[]}
  /** The verbose info map, each value read as JSON when it is JSON (crictl info's outputStatusInfo), in sorted key order. */
  info: Record<string, unknown>
}

/** What `version` and `info` ask a CRI runtime: Version, and Status with verbose info. */
export function criRuntimeInfo(options: CriClientOptions): {version(): Promise<RemoteVersion>; status(verbose: boolean): Promise<RemoteStatus>} {
  const call = criCaller(runtimeServiceDefinition(), 'RuntimeService', options)
  return {
    version: async () => {
      // The kubelet's runtime API version, as the kubelet sends it; the runtime answers with its own.
      const v = await call<Partial<RemoteVersion>>('Version', {version: '0.1.0'})
      return {version: v.version ?? '', runtimeName: v.runtimeName ?? '', runtimeVersion: v.runtimeVersion ?? '', runtimeApiVersion: v.runtimeApiVersion ?? ''}
    },
    status: async (verbose) => {
      const r = await call<{status?: {conditions?: Partial<RuntimeCondition>[]}; info?: Record<string, string>}>('Status', {verbose})
      const conditions = (r.status?.conditions ?? []).map((c) => ({type: c.type ?? '', status: c.status ?? false, reason: c.reason ?? '', message: c.message ?? ''}) as RuntimeCondition)
      const raw = r.info ?? {}
      const info = Object.fromEntries(Object.keys(raw).sort().map((k) => [k, parseOrText(raw[k])]))
      return {status: {conditions}, info}
    },
  }
}

function parseOrText(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export function criBackend(options: CriClientOptions): PodService {
  const {timeoutMs, ctx} = options
  const call = criCaller(runtimeServiceDefinition(), 'RuntimeService', options)

  async function listPods(filter: PodFilter): Promise<PodSandbox[]> {
    // The CRI filters by ID (a prefix resolves), state and labels; names, namespaces and --last are
    // the client's business, as crictl's.
    const request = {filter: {id: filter.id ?? '', state: filter.state ? {state: filter.state} : undefined, labelSelector: filter.labelSelector ?? {}}}
    const {items} = await call<{items?: WirePodSandbox[]}>('ListPodSandbox', request)
    const pods = (items ?? [])
      .map(podSandboxOf)
      .filter((p) => matchesText(p.metadata.name, filter.name) && matchesText(p.metadata.namespace, filter.namespace))
      .sort((a, b) => compareNanos(b.createdAt, a.createdAt))
    return filter.last ? pods.slice(0, filter.last) : pods
  }

  async function sandboxStatus(id: string, verbose: boolean): Promise<PodStatusResult | null> {
    try {
      const response = await call<WirePodSandboxStatusResponse>('PodSandboxStatus', {podSandboxId: id, verbose})
      const result: PodStatusResult = {status: podSandboxStatusOf(response.status ?? {})}
      if (verbose) result.info = infoOf(response.info ?? {})
      return result
    } catch (err) {
      if (err instanceof PodctlError && err.exitCode === ExitCode.notFound) return null
      throw err
    }
  }

  return {
    runPod: async (config, runtimeHandler) => {
      // crictl: "Use 2 times longer timeout for sandbox operation".
      const {podSandboxId} = await call<{podSandboxId?: string}>('RunPodSandbox', {config: toWire('PodSandboxConfig', config), runtimeHandler}, Math.min(2 * timeoutMs, 2 ** 31 - 1))
      return podSandboxId ?? ''
    },
    stopPod: async (ref) => {
      await call('StopPodSandbox', {podSandboxId: ref})
    },
    // The runtime resolves references (podctl serve: IDs, prefixes and names; containerd: IDs and prefixes).
    resolve: async (ref) => (await sandboxStatus(ref, false))?.status.id ?? null,
    listIds: async () => (await listPods({})).map((p) => p.id),
    removePod: async (id, {force}) => {
      const current = await sandboxStatus(id, false)
      // CRI: RemovePodSandbox is idempotent: a pod removed meanwhile is fine.
      if (!current) return {stopped: false}
      const ready = current.status.state === 'SANDBOX_READY'
      // The CRI's RemovePodSandbox removes a ready pod too: the refusal without -f is podctl's own.
      if (ready && !force) throw podRunningError(id)
      if (ready) await call('StopPodSandbox', {podSandboxId: id})
      await call('RemovePodSandbox', {podSandboxId: id})
      return {stopped: ready}
    },
    podStatus: async (id, verbose) => {
      const result = await sandboxStatus(id, verbose)
      if (!result) throw new PodctlError(`pod "${id}" not found`, {exitCode: ExitCode.notFound})
      return result
    },
    listPods,
    samplePodSandboxStats: (filter, sampling) => {
      // Every pod the filter selects, NotReady ones without figures, sorted by ID: what the in-process reader lists.
      const list = async (): Promise<PodStatsEntry[]> => {
        const request = {filter: {id: filter.id ?? '', labelSelector: filter.labelSelector ?? {}}}
        const [pods, {stats}] = await Promise.all([listPods(filter), call<{stats?: WirePodSandboxStats[]}>('ListPodSandboxStats', request)])
        const byId = new Map((stats ?? []).map((s) => [s.attributes?.id ?? '', s]))
        return pods
          .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
          .map((pod) => {
            const wire = pod.state === 'SANDBOX_READY' ? byId.get(pod.id) : undefined
            return {pod, stats: wire ? podSandboxStatsOf(wire) : null}
          })
      }
      return sampleStats(list, ctx.signal, sampling)
    },
  }
}

/** A gRPC failure as podctl reports it: the server's words, the exit code of its status. */
function fromServiceError(err: ServiceError, rpc: string, endpoint: string, timeoutMs: number): PodctlError {
  const details = err.details || err.message
  if (err.code === status.UNAVAILABLE) {
    // grpc-js: "No connection established. Last error: Error: connect ENOENT /x.sock. Resolution note: " and the like.
    const why = (/Last error: (.*)/.exec(details)?.[1] ?? details)
      .replace(/^Error: /, '')
      .replace(/\.? *Resolution note:.*$/, '')
      .replace(/ \(\d{4}-[^)]*\)$/, '')
      .trim()
    return new PodctlError(`cannot connect to the CRI runtime at "${endpoint}": ${why}`, {
      exitCode: ExitCode.prerequisite,
      hint: 'is podctl serve (or containerd, CRI-O) listening there? see: podctl serve --help',
      cause: err,
    })
  }
  // The deadline this client set (the server's own timeout comes with its own message).
  if (err.code === status.DEADLINE_EXCEEDED && /^Deadline exceeded/i.test(details)) {
    return new PodctlError(`${rpc} timed out after ${timeoutMs} ms at "${endpoint}"`, {exitCode: ExitCode.timeout, hint: 'raise --timeout', cause: err})
  }
  const hint = err.metadata?.get(hintMetadataKey)[0]
  return new PodctlError(err.code === status.UNIMPLEMENTED ? `${rpc}: ${details}` : details, {
    exitCode: exitCodeOf(err.code),
    hint: typeof hint === 'string' ? hint : undefined,
    cause: err,
  })
}

/** A pod config as podctl holds it (the proto's snake_case names) in the names the gRPC encoder takes. */
function toWire(messageName: string, value: unknown): unknown {
  const def = messages[messageName]
  if (!def || typeof value !== 'object' || value === null) return value
  const out: Record<string, unknown> = {}
  for (const field of def.fields) {
    const v = (value as Record<string, unknown>)[field.name]
    if (v === undefined || v === null) continue
    const type = field.type
    const one = (x: unknown) => (typeof type === 'object' && 'message' in type ? toWire(type.message, x) : x)
    out[jsonName(field.name)] = field.map ? v : field.repeated && Array.isArray(v) ? v.map(one) : one(v)
  }
  return out
}

// ---------------------------------------------------------------------------
// Answers in the in-process shapes: proto3 leaves defaults off the wire.
// ---------------------------------------------------------------------------

const metadataOf = (m: WireMetadata = {}) => ({name: m.name ?? '', uid: m.uid ?? '', namespace: m.namespace ?? '', attempt: m.attempt ?? 0})

// proto3: an unset enum is its zero value, SANDBOX_READY.
const stateOf = (state: string | undefined): PodSandboxState => (state === 'SANDBOX_NOTREADY' ? 'SANDBOX_NOTREADY' : 'SANDBOX_READY')

function podSandboxOf(w: WirePodSandbox): PodSandbox {
  return {
    id: w.id ?? '',
    metadata: metadataOf(w.metadata),
    state: stateOf(w.state),
    createdAt: w.createdAt ?? '0',
    labels: w.labels ?? {},
    annotations: w.annotations ?? {},
    runtimeHandler: w.runtimeHandler ?? '',
  }
}

function podSandboxStatusOf(w: WirePodSandboxStatus): PodSandboxStatus {
  const pod = podSandboxOf(w)
  const ns = w.linux?.namespaces?.options ?? {}
  return {
    id: pod.id,
    metadata: pod.metadata,
    state: pod.state,
    createdAt: pod.createdAt,
    network: {additionalIps: (w.network?.additionalIps ?? []).map((a) => ({ip: a.ip ?? ''})), ip: w.network?.ip ?? ''},
    linux: {namespaces: {options: {ipc: ns.ipc ?? 'POD', network: ns.network ?? 'POD', pid: ns.pid ?? 'POD', targetId: ns.targetId ?? '', usernsOptions: null}}},
    labels: pod.labels,
    annotations: pod.annotations,
    runtimeHandler: pod.runtimeHandler,
  }
}

/** Verbose info: JSON strings, as containerd's {"info": "{...}"}, read back as crictl inspectp does. */
function infoOf(info: Record<string, string>): Record<string, unknown> {
  const keys = Object.keys(info)
  if (keys.length === 1 && keys[0] === 'info') return parseOrText(info.info) as Record<string, unknown>
  return Object.fromEntries(keys.map((k) => [k, parseOrText(info[k])]))
}

const u64 = (v: WireUInt64 | undefined): UInt64Value => ({value: v?.value ?? '0'})
const u64OrNull = (v: WireUInt64 | undefined): UInt64Value | null => (v ? u64(v) : null)

function interfaceOf(i: WireNetworkInterfaceUsage) {
  return {name: i.name ?? '', rxBytes: u64(i.rxBytes), rxErrors: u64(i.rxErrors), txBytes: u64(i.txBytes), txErrors: u64(i.txErrors)}
}

const cpuOf = (cpu: WireCpuUsage | undefined): CpuUsage | null =>
  cpu ? {timestamp: cpu.timestamp ?? '0', usageCoreNanoSeconds: u64(cpu.usageCoreNanoSeconds), usageNanoCores: u64OrNull(cpu.usageNanoCores)} : null

function memoryOf(memory: WireMemoryUsage | undefined): MemoryUsage | null {
  if (!memory) return null
  return {
    timestamp: memory.timestamp ?? '0',
    workingSetBytes: u64(memory.workingSetBytes),
    availableBytes: u64OrNull(memory.availableBytes),
    usageBytes: u64(memory.usageBytes),
    rssBytes: u64(memory.rssBytes),
    pageFaults: u64(memory.pageFaults),
    majorPageFaults: u64(memory.majorPageFaults),
  }
}

function containerStatsOf(w: WireContainerStats): ContainerStats {
  const a = w.attributes ?? {}
  const layer = w.writableLayer as {timestamp?: string; fsId?: {mountpoint?: string}; usedBytes?: WireUInt64; inodesUsed?: WireUInt64} | undefined
  const writableLayer: FilesystemUsage | null = layer
    ? {timestamp: layer.timestamp ?? '0', fsId: {mountpoint: layer.fsId?.mountpoint ?? ''}, usedBytes: u64(layer.usedBytes), inodesUsed: u64(layer.inodesUsed)}
    : null
  return {
    attributes: {id: a.id ?? '', metadata: {name: a.metadata?.name ?? '', attempt: a.metadata?.attempt ?? 0}, labels: a.labels ?? {}, annotations: a.annotations ?? {}},
    cpu: cpuOf(w.cpu),
    memory: memoryOf(w.memory),
    writableLayer,
  }
}

function podSandboxStatsOf(w: WirePodSandboxStats): PodSandboxStats {
  const a = w.attributes ?? {}
  const {cpu, memory, network, process} = w.linux ?? {}
  return {
    attributes: {id: a.id ?? '', metadata: metadataOf(a.metadata), labels: a.labels ?? {}, annotations: a.annotations ?? {}},
    linux: {
      cpu: cpuOf(cpu),
      memory: memoryOf(memory),
      network: network
        ? {timestamp: network.timestamp ?? '0', defaultInterface: network.defaultInterface ? interfaceOf(network.defaultInterface) : null, interfaces: (network.interfaces ?? []).map(interfaceOf)}
        : null,
      process: process ? {timestamp: process.timestamp ?? '0', processCount: u64(process.processCount)} : null,
      containers: [],
    },
  }
}

// ---------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------

interface WireContainerMetadata {
  name?: string
  attempt?: number
}
interface WireImageSpec {
  image?: string
  annotations?: Record<string, string>
}
interface WireContainer {
  id?: string
  podSandboxId?: string
  metadata?: WireContainerMetadata
  image?: WireImageSpec
  imageRef?: string
  state?: string
  createdAt?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
}
interface WireContainerStatus extends WireContainer {
  startedAt?: string
  finishedAt?: string
  exitCode?: number
  reason?: string
  message?: string
  mounts?: {containerPath?: string; hostPath?: string; readonly?: boolean; selinuxRelabel?: boolean; propagation?: string}[]
  logPath?: string
}

/**
 * podctl's container verbs as a CRI client: the ContainerService of
 * src/runtime/service.ts over gRPC. Pod references resolve through
 * PodSandboxStatus, container references through ContainerStatus (podctl
 * serve: IDs, prefixes and names; containerd: IDs and prefixes).
 */
export function criContainerBackend(options: CriClientOptions): ContainerService {
  const call = criCaller(runtimeServiceDefinition(), 'RuntimeService', options)

  const notFound = (err: unknown) => err instanceof PodctlError && err.exitCode === ExitCode.notFound
  async function podId(ref: string): Promise<string | null> {
    try {
      return (await call<WirePodSandboxStatusResponse>('PodSandboxStatus', {podSandboxId: ref})).status?.id ?? null
    } catch (err) {
      if (notFound(err)) return null
      throw err
    }
  }
  async function status(id: string, verbose: boolean): Promise<ContainerStatusResult | null> {
    try {
      const response = await call<{status?: WireContainerStatus; info?: Record<string, string>}>('ContainerStatus', {containerId: id, verbose})
      const result: ContainerStatusResult = {status: containerStatusOf(response.status ?? {})}
      if (verbose) result.info = infoOf(response.info ?? {})
      return result
    } catch (err) {
      if (notFound(err)) return null
      throw err
    }
  }

  return {
    createContainer: async (podRef, config, podConfig) => {
      const id = await podId(podRef)
      if (id === null) throw new PodctlError(`pod "${podRef}" not found`, {exitCode: ExitCode.notFound})
      const request = {podSandboxId: id, config: toWire('ContainerConfig', config), sandboxConfig: podConfig ? toWire('PodSandboxConfig', podConfig) : undefined}
      return (await call<{containerId?: string}>('CreateContainer', request)).containerId ?? ''
    },
    resolve: async (ref) => (await status(ref, false))?.status.id ?? null,
    startContainer: async (id) => {
      await call('StartContainer', {containerId: id})
    },
    stopContainer: async (id, timeoutSec) => {
      // crictl: the call may take the grace period on top of the timeout.
      await call('StopContainer', {containerId: id, timeout: String(timeoutSec)}, Math.min(options.timeoutMs + timeoutSec * 1000, 2 ** 31 - 1))
    },
    removeContainer: async (id, force) => {
      const current = await status(id, false)
      // CRI: RemoveContainer is idempotent: a container removed meanwhile is fine.
      if (!current) return
      // The CRI's RemoveContainer removes a running container too: the refusal without -f is podctl's own.
      if (current.status.state === 'CONTAINER_RUNNING' && !force) {
        throw new PodctlError(`container "${id}" is running: stop it first, or use rm -f`, {exitCode: ExitCode.usage, hint: `podctl stop ${id.slice(0, 13)}`})
      }
      await call('RemoveContainer', {containerId: id})
    },
    listContainers: async (filter) => {
      const pod = filter.podSandboxId === undefined ? undefined : await podId(filter.podSandboxId)
      if (pod === null) return []
      const request = {filter: {id: filter.id ?? '', state: filter.state ? {state: filter.state} : undefined, podSandboxId: pod ?? '', labelSelector: filter.labelSelector ?? {}}}
      const {containers} = await call<{containers?: WireContainer[]}>('ListContainers', request)
      return (containers ?? []).map(containerOf).sort((a, b) => compareNanos(b.createdAt, a.createdAt))
    },
    containerStatus: async (id, verbose) => {
      const result = await status(id, verbose)
      if (!result) throw new PodctlError(`container "${id}" not found`, {exitCode: ExitCode.notFound, hint: 'list containers with: podctl ps -a'})
      return result
    },
  }
}

const containerMetadataOf = (m: WireContainerMetadata = {}) => ({name: m.name ?? '', attempt: m.attempt ?? 0})
const imageSpecOf = (i: WireImageSpec = {}) => ({image: i.image ?? '', annotations: i.annotations ?? {}})

// proto3: an unset enum is its zero value, CONTAINER_CREATED.
const containerStateOf = (state: string | undefined): string => state ?? 'CONTAINER_CREATED'

function containerOf(w: WireContainer): Container {
  return {
    id: w.id ?? '',
    podSandboxId: w.podSandboxId ?? '',
    metadata: containerMetadataOf(w.metadata),
    image: imageSpecOf(w.image),
    imageRef: w.imageRef ?? '',
    state: containerStateOf(w.state),
    createdAt: w.createdAt ?? '0',
    labels: w.labels ?? {},
    annotations: w.annotations ?? {},
  }
}

function containerStatusOf(w: WireContainerStatus): ContainerStatus {
  return {
    id: w.id ?? '',
    metadata: containerMetadataOf(w.metadata),
    state: containerStateOf(w.state),
    createdAt: w.createdAt ?? '0',
    startedAt: w.startedAt ?? '0',
    finishedAt: w.finishedAt ?? '0',
    exitCode: w.exitCode ?? 0,
    image: imageSpecOf(w.image),
    imageRef: w.imageRef ?? '',
    reason: w.reason ?? '',
    message: w.message ?? '',
    labels: w.labels ?? {},
    annotations: w.annotations ?? {},
    mounts: (w.mounts ?? []).map((m) => ({
      containerPath: m.containerPath ?? '',
      hostPath: m.hostPath ?? '',
      readonly: m.readonly === true,
      selinuxRelabel: m.selinuxRelabel === true,
      propagation: m.propagation ?? 'PROPAGATION_PRIVATE',
    })),
    logPath: w.logPath ?? '',
  }
}

// ---------------------------------------------------------------------------
// exec, stats and update
// ---------------------------------------------------------------------------

export interface RemoteExecResult {
  exitCode: number
  stdout: Buffer
  stderr: Buffer
  /** the runtime killed the command when its timeout passed (DeadlineExceeded from the runtime, not from this client) */
  timedOut: boolean
}

/** What exec, stats and update ask a CRI runtime beyond the ContainerService: ExecSync, ListContainerStats, UpdateContainerResources. */
export interface CriContainerTools {
  /** ExecSync of a resolved ID; timeoutSeconds 0: none */
  execSync(id: string, cmd: string[], timeoutSeconds: number): Promise<RemoteExecResult>
  /** ListContainerStats every `seconds`, usage_nano_cores over the interval before each sample, sorted by ID */
  sampleContainerStats(filter: ContainerStatsFilter, options: SamplingOptions): AsyncGenerator<ContainerStats[]>
  /** UpdateContainerResources of a resolved ID: 0 and "" unchanged, as crictl sends them */
  updateContainer(id: string, update: ResourceUpdate): Promise<void>
}

export function criContainerTools(options: CriClientOptions): CriContainerTools {
  const call = criCaller(runtimeServiceDefinition(), 'RuntimeService', options)
  const {timeoutMs, ctx} = options
  return {
    execSync: async (id, cmd, timeoutSeconds) => {
      // crictl's deadline: --timeout on top of the command's, none when the command has none.
      const deadline = timeoutSeconds > 0 ? Math.min(timeoutMs + timeoutSeconds * 1000, 2 ** 31 - 1) : 2 ** 31 - 1
      try {
        const r = await call<{stdout?: Buffer; stderr?: Buffer; exitCode?: number}>('ExecSync', {containerId: id, cmd, timeout: String(timeoutSeconds)}, deadline)
        return {exitCode: r.exitCode ?? 0, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? Buffer.alloc(0), timedOut: false}
      } catch (err) {
        // The runtime's own DeadlineExceeded (containerd's, podctl serve's): the command timed out and was killed.
        // This client's own deadline says "ExecSync timed out after N ms at <endpoint>".
        const cause = err instanceof PodctlError ? (err.cause as ServiceError | undefined) : undefined
        if (timeoutSeconds > 0 && cause?.code === status.DEADLINE_EXCEEDED && !/^ExecSync timed out after \d+ ms at /.test((err as Error).message)) {
          return {exitCode: -1, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0), timedOut: true}
        }
        throw err
      }
    },
    sampleContainerStats: async function* (filter, sampling) {
      const {withContainerCpuRates} = await import('../runtime/container-stats.js')
      const request = {filter: {id: filter.id ?? '', podSandboxId: filter.podSandboxId ?? '', labelSelector: filter.labelSelector ?? {}}}
      // ListContainerStats has no deadline in crictl ("writable layer stats collection takes time"): the whole --timeout here.
      const list = async () =>
        ((await call<{stats?: WireContainerStats[]}>('ListContainerStats', request)).stats ?? []).map(containerStatsOf).sort((a, b) => (a.attributes.id < b.attributes.id ? -1 : a.attributes.id > b.attributes.id ? 1 : 0))
      let previous = await list()
      if (!sampling.rateFirst) yield previous
      const {signal} = ctx
      for (;;) {
        await sleep(sampling.seconds * 1000, undefined, {signal}).catch((err: unknown) => {
          throw signal.aborted ? signal.reason : err
        })
        const current = withContainerCpuRates(previous, await list())
        yield current
        previous = current
      }
    },
    updateContainer: async (id, update) => {
      const linux = {
        cpuPeriod: String(update.cpu_period ?? 0),
        cpuQuota: String(update.cpu_quota ?? 0),
        cpuShares: String(update.cpu_shares ?? 0),
        cpusetCpus: update.cpuset_cpus ?? '',
        cpusetMems: update.cpuset_mems ?? '',
        memoryLimitInBytes: String(update.memory_limit_in_bytes ?? 0),
      }
      await call('UpdateContainerResources', {containerId: id, linux})
    },
  }
}
