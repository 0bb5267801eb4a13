// The container RPCs of runtime.v1.RuntimeService on the container service
// the CLI's verbs call (inProcessContainers over src/runtime/container.ts),
// with containerd's status codes and the CRI's idempotence rules:
//
//   CreateContainer     InvalidArgument for a bad config, NotFound for an unknown
//                       pod or an image not in the store (create does not pull)
//   StartContainer      NotFound for an unknown container; InvalidArgument unless CREATED
//   StopContainer       OK for an unknown container (the CRI: idempotent);
//                       timeout seconds of the stop signal, then SIGKILL
//   RemoveContainer     OK for an unknown container; a running one is killed first
//   ListContainers      filters: ID (a prefix), pod, state, label selector
//   ContainerStatus     NotFound for an unknown container; info {"info": JSON} when verbose
//   ReopenContainerLog  asks the container's monitor (conmon) to reopen the log
//                       file, as a kubelet does after rotating it; FailedPrecondition
//                       unless RUNNING
//   ExecSync            `podctl exec -s`: stdout and stderr as bytes, at most
//                       8 MiB each (the rest dropped), so that the answer fits
//                       the 16 MiB message a kubelet takes (containerd keeps
//                       16 MiB each, and fails above 16 MiB together); timeout 0
//                       runs until the command ends, a timeout kills it (SIGKILL)
//                       and answers DeadlineExceeded, as containerd; a command
//                       that cannot start exits 127 (not found) or 126
//   ContainerStats      `podctl stats` of one container: NotFound for an unknown
//                       one, FailedPrecondition unless RUNNING
//   ListContainerStats  every running container; filters: ID (a prefix), pod, labels;
//                       usage_nano_cores over the time since the previous call
//   UpdateContainerResources  `podctl update`: CPU period, quota, shares, cpusets and
//                       the memory limit (0 and "" unchanged, as crictl sends every
//                       field); any other field set is refused by name

import {constants, existsSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import {status as grpcStatus, type UntypedServiceImplementation} from '@grpc/grpc-js'

import type {ContainerState} from '../runtime/container-state.js'
import {containerDir} from '../runtime/container-store.js'
import type {CallContext} from '../runtime/context.js'
import type {ContainerStats, ContainerStatsFilter} from '../runtime/container-stats.js'
import {errnoOf, ExitCode, notFoundError, PodctlError, prerequisiteError, usageError} from '../runtime/errors.js'
import type {ContainerView} from '../runtime/container.js'
import {inProcessContainers} from '../runtime/backend.js'
import {type ServerContext} from './context.js'
import {serviceError} from './errors.js'

interface ContainerIdRequest {
  containerId?: string
}
interface CreateContainerRequest {
  podSandboxId?: string
  config?: Record<string, unknown>
}
interface StopContainerRequest extends ContainerIdRequest {
  /** int64, decoded as a string */
  timeout?: string
}
interface ListContainersRequest {
  filter?: {id?: string; state?: {state?: ContainerState}; podSandboxId?: string; labelSelector?: Record<string, string>}
}
interface ContainerStatusRequest extends ContainerIdRequest {
  verbose?: boolean
}
interface ExecSyncRequest extends ContainerIdRequest {
  cmd?: string[]
  /** int64 seconds, decoded as a string; 0 runs until the command ends */
  timeout?: string
}
interface ListContainerStatsRequest {
  filter?: {id?: string; podSandboxId?: string; labelSelector?: Record<string, string>}
}
/** LinuxContainerResources as decoded: int64s as strings, proto3 defaults left out. */
interface WireResources {
  cpuPeriod?: string
  cpuQuota?: string
  cpuShares?: string
  memoryLimitInBytes?: string
  oomScoreAdj?: string
  cpusetCpus?: string
  cpusetMems?: string
  hugepageLimits?: unknown[]
  unified?: Record<string, string>
  memorySwapLimitInBytes?: string
}
interface UpdateContainerResourcesRequest extends ContainerIdRequest {
  linux?: WireResources
  windows?: Record<string, unknown>
}

const short = (id: string | undefined) => `"${(id ?? '').slice(0, 13)}"`

/** How long the monitor gets to create the log file again. */
const reopenWaitMs = 5000

/** conmon's control FIFO takes "<type> <height> <width>\n"; type 2 is REOPEN_LOGS_EVENT (conmon's ctrl.c). */
const reopenLogMessage = '2 0 0\n'

async function reopenLog(rt: CallContext, view: ContainerView): Promise<void> {
  const {record} = view
  if (view.state !== 'CONTAINER_RUNNING') {
    throw prerequisiteError(`container "${record.id}" is not running: there is no log to reopen`)
  }
  const {monitorFiles} = await import('../runtime/monitor.js')
  const ctl = monitorFiles(containerDir(rt.store, record.podSandboxId, record.id)).ctl
  // Non-blocking: with no reader (a monitor gone) the open fails at once instead of hanging.
  const fifo = await open(ctl, constants.O_WRONLY | constants.O_NONBLOCK).catch((err: unknown) => {
    const why = errnoOf(err) === 'ENXIO' ? 'its monitor is not reading its control FIFO' : `its control FIFO ${ctl} cannot be opened (${errnoOf(err) ?? String(err)})`
    throw prerequisiteError(`cannot reopen the log of container "${record.id}": ${why}`)
  })
  try {
    await fifo.write(reopenLogMessage)
  } finally {
    await fifo.close()
  }
  // conmon reopens the log when it reads the message: the RPC answers once the file is there again,
  // as a kubelet's rotation (and critest) expect, as CRI-O waits for it.
  const logPath = record.logPath
  if (!logPath) return
  const deadline = performance.now() + reopenWaitMs
  for (let delay = 1; !existsSync(logPath); delay = Math.min(delay * 2, 50)) {
    if (performance.now() >= deadline) throw new PodctlError(`container "${record.id}": its monitor did not reopen the log ${logPath} within ${reopenWaitMs / 1000} s`)
    if (rt.ctx.signal.aborted) throw rt.ctx.signal.reason
    await sleep(delay)
  }
}

/** The container as ReopenContainerLog needs it: its record and live state. */
async function viewOf(rt: CallContext, ref: string | undefined): Promise<ContainerView> {
  const c = await import('../runtime/container.js')
  const found = c.mustResolveContainer(rt, ref ?? '')
  const [view] = await c.listContainers(rt, {id: found.id, podSandboxId: found.podId})
  if (!view) throw notFoundError(`container "${ref}" not found`)
  return view
}

/** What ExecSync keeps of each stream: both together, with the message's framing, fit in the 16 MiB a kubelet (and serve) takes. */
const execSyncMaxBytes = 8 * 1024 * 1024 - 1024

/** ExecSync as `podctl exec -s` runs it; a command that cannot start is an answer (126/127), as a shell gives it. */
async function execSync(rt: CallContext, req: ExecSyncRequest): Promise<{stdout: Buffer; stderr: Buffer; exitCode: number}> {
  const cmd = req.cmd ?? []
  const timeoutSeconds = Math.max(0, Number(req.timeout ?? 0))
  const {execContainer} = await import('../runtime/container-exec.js')
  try {
    const r = await execContainer(rt, req.containerId ?? '', {cmd, tty: false, stdin: false, sync: true, timeoutSeconds, maxBytes: execSyncMaxBytes})
    // containerd's answer: an error, not an exit code (a kubelet's probe then reports a timeout).
    if (r.timedOut) throw serviceError(grpcStatus.DEADLINE_EXCEEDED, `command "${cmd.join(' ')}" timed out after ${timeoutSeconds} s and was killed`)
    return {stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr ?? Buffer.alloc(0), exitCode: r.exitCode}
  } catch (err) {
    if (err instanceof PodctlError && (err.exitCode === ExitCode.commandNotFound || err.exitCode === ExitCode.cannotExecute)) {
      return {stdout: Buffer.alloc(0), stderr: Buffer.from(`${err.message}\n`), exitCode: err.exitCode}
    }
    throw err
  }
}

/** Each set field of LinuxContainerResources that `podctl update` cannot apply: refused by name rather than dropped. */
function unappliable(req: UpdateContainerResourcesRequest): string[] {
  const r = req.linux ?? {}
  const set = (v: unknown) => v !== undefined && v !== '' && v !== '0' && v !== 0 && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && v !== null && Object.keys(v).length === 0)
  const fields: string[] = []
  if (set(r.oomScoreAdj)) fields.push('linux.oom_score_adj')
  if (set(r.hugepageLimits)) fields.push('linux.hugepage_limits')
  if (set(r.unified)) fields.push('linux.unified')
  if (set(r.memorySwapLimitInBytes)) fields.push('linux.memory_swap_limit_in_bytes')
  if (Object.values(req.windows ?? {}).some(set)) fields.push('windows')
  return fields
}

async function updateResources(rt: CallContext, req: UpdateContainerResourcesRequest): Promise<void> {
  const refused = unappliable(req)
  if (refused.length > 0) {
    throw usageError(`UpdateContainerResources cannot change ${refused.join(', ')} of a container: only cpu_period, cpu_quota, cpu_shares, cpuset_cpus, cpuset_mems and memory_limit_in_bytes`, 'leave those fields unset (0)')
  }
  const r = req.linux ?? {}
  const n = (v: string | undefined) => Number(v ?? 0)
  const {updateContainer} = await import('../runtime/container-update.js')
  await updateContainer(rt, req.containerId ?? '', {
    cpu_period: n(r.cpuPeriod),
    cpu_quota: n(r.cpuQuota),
    cpu_shares: n(r.cpuShares),
    cpuset_cpus: r.cpusetCpus ?? '',
    cpuset_mems: r.cpusetMems ?? '',
    memory_limit_in_bytes: n(r.memoryLimitInBytes),
  })
}

/**
 * usage_nano_cores needs two samples: each call rates against the previous
 * call's sample of the same container (as containerd keeps the last one).
 */
class ContainerCpuRates {
  private last = new Map<string, ContainerStats>()

  async sample(rt: CallContext, filter: ContainerStatsFilter): Promise<ContainerStats[]> {
    const [{listContainerStats, withContainerCpuRates}, {hostStatsSource}] = await Promise.all([import('../runtime/container-stats.js'), import('../runtime/stats.js')])
    const current = withContainerCpuRates([...this.last.values()], await listContainerStats(rt, filter, await hostStatsSource()))
    // An unfiltered sample lists every running container: forget the ones that are gone.
    if (!filter.id && !filter.podSandboxId && !filter.labelSelector) this.last.clear()
    for (const s of current) this.last.set(s.attributes.id, s)
    return current
  }
}

export function containerServiceHandlers(ctx: ServerContext): UntypedServiceImplementation {
  const cpu = new ContainerCpuRates()
  return {
    CreateContainer: ctx.unary(
      'CreateContainer',
      async (req: CreateContainerRequest, rt) => {
        // The same parser and checks as a config file given to create.
        const {parseContainerConfig} = await import('../runtime/containerconfig.js')
        const {config, warnings} = parseContainerConfig(JSON.stringify(req.config ?? {}), 'CreateContainerRequest.config')
        for (const w of warnings) rt.warn(w)
        return {containerId: await inProcessContainers(rt).createContainer(req.podSandboxId ?? '', config)}
      },
      {
        mutates: true,
        what: (req) => {
          const md = (req.config?.metadata ?? {}) as {name?: string; attempt?: number}
          return `${md.name ?? ''} attempt ${md.attempt ?? 0} in pod ${short(req.podSandboxId)}`
        },
        result: (res) => `container ${short(res.containerId)}`,
      },
    ),

    StartContainer: ctx.unary(
      'StartContainer',
      async (req: ContainerIdRequest, rt) => {
        await inProcessContainers(rt).startContainer(req.containerId ?? '')
        return {}
      },
      {mutates: true, what: (req) => short(req.containerId)},
    ),

    StopContainer: ctx.unary(
      'StopContainer',
      async (req: StopContainerRequest, rt) => {
        // CRI: idempotent; an unknown container is stopped already.
        await inProcessContainers(rt).stopContainer(req.containerId ?? '', Math.max(0, Number(req.timeout ?? 0)))
        return {}
      },
      {mutates: true, what: (req) => `${short(req.containerId)} timeout ${req.timeout ?? 0} s`},
    ),

    RemoveContainer: ctx.unary(
      'RemoveContainer',
      async (req: ContainerIdRequest, rt) => {
        // CRI: idempotent, and a running container is forcibly removed.
        await inProcessContainers(rt).removeContainer(req.containerId ?? '', true)
        return {}
      },
      {mutates: true, what: (req) => short(req.containerId)},
    ),

    ListContainers: ctx.unary(
      'ListContainers',
      async (req: ListContainersRequest, rt) => {
        const f = req.filter ?? {}
        const filter = {id: f.id || undefined, podSandboxId: f.podSandboxId || undefined, state: f.state?.state, labelSelector: f.labelSelector}
        return {containers: await inProcessContainers(rt).listContainers(filter)}
      },
      {mutates: false, result: (res) => `${res.containers.length} containers`},
    ),

    ContainerStatus: ctx.unary(
      'ContainerStatus',
      async (req: ContainerStatusRequest, rt) => {
        const {status, info} = await inProcessContainers(rt).containerStatus(req.containerId ?? '', req.verbose === true)
        // containerd's shape, which crictl inspect unpacks: one key, a JSON value.
        return {status, info: info ? {info: JSON.stringify(info)} : {}}
      },
      {mutates: false, what: (req) => short(req.containerId)},
    ),

    ReopenContainerLog: ctx.unary(
      'ReopenContainerLog',
      async (req: ContainerIdRequest, rt) => {
        await reopenLog(rt, await viewOf(rt, req.containerId))
        return {}
      },
      {mutates: true, what: (req) => short(req.containerId)},
    ),

    ExecSync: ctx.unary('ExecSync', (req: ExecSyncRequest, rt) => execSync(rt, req), {
      // Probes call it often: logged at debug, as reads are.
      mutates: false,
      what: (req) => `${short(req.containerId)} ${JSON.stringify((req.cmd ?? []).join(' ').slice(0, 80))} timeout ${req.timeout ?? 0} s`,
      result: (res) => `exit ${res.exitCode}, ${res.stdout.length} + ${res.stderr.length} bytes`,
      // The command's own timeout bounds it (and 0 is none, as the CRI says), not --timeout.
      timeoutMs: (req) => (Number(req.timeout ?? 0) > 0 ? Number(req.timeout) * 1000 + ctx.settings.timeoutMs : null),
    }),

    ContainerStats: ctx.unary(
      'ContainerStats',
      async (req: ContainerIdRequest, rt) => {
        const c = await import('../runtime/container.js')
        const found = c.mustResolveContainer(rt, req.containerId ?? '')
        const [stats] = await cpu.sample(rt, {id: found.id, podSandboxId: found.podId})
        if (!stats) throw prerequisiteError(`container "${found.id}" is not running: it has no stats`)
        return {stats}
      },
      {mutates: false, what: (req) => short(req.containerId)},
    ),

    ListContainerStats: ctx.unary(
      'ListContainerStats',
      async (req: ListContainerStatsRequest, rt) => {
        const f = req.filter ?? {}
        const labels = f.labelSelector && Object.keys(f.labelSelector).length > 0 ? f.labelSelector : undefined
        return {stats: await cpu.sample(rt, {id: f.id || undefined, podSandboxId: f.podSandboxId || undefined, labelSelector: labels})}
      },
      {mutates: false, result: (res) => `${res.stats.length} containers`},
    ),

    UpdateContainerResources: ctx.unary(
      'UpdateContainerResources',
      async (req: UpdateContainerResourcesRequest, rt) => {
        await updateResources(rt, req)
        return {}
      },
      {mutates: true, what: (req) => short(req.containerId)},
    ),
  }
}
