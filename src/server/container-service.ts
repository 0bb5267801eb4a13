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

import {constants, existsSync} from 'node:fs'
import {open} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'

import type {UntypedServiceImplementation} from '@grpc/grpc-js'

import type {ContainerState} from '../runtime/container-state.js'
import {containerDir} from '../runtime/container-store.js'
import type {CallContext} from '../runtime/context.js'
import {errnoOf, notFoundError, PodctlError, prerequisiteError} from '../runtime/errors.js'
import type {ContainerView} from '../runtime/container.js'
import {inProcessContainers} from '../runtime/backend.js'
import {type ServerContext} from './context.js'

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

export function containerServiceHandlers(ctx: ServerContext): UntypedServiceImplementation {
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
  }
}
