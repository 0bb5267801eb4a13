// The RPCs that hand out streaming URLs (Exec, Attach, PortForward), and what the streaming sessions look up when a URL is
// used. As kubelet's GetPortForward: the request is checked, stored under a
// token, and the URL returned; nothing starts until the client connects.

import {status, type UntypedServiceImplementation} from '@grpc/grpc-js'

import {NamespaceMode} from '../../cri/types.js'
import {mustResolveContainer, viewOf} from '../../runtime/container.js'
import {attachTarget} from '../../runtime/container-attach.js'
import {readContainerRecord} from '../../runtime/container-store.js'
import {notFoundError, PodctlError} from '../../runtime/errors.js'
import {inProcessService} from '../../runtime/backend.js'
import type {CallContext} from '../../runtime/context.js'
import {isMountPoint} from '../../runtime/netns.js'
import type {ServerContext} from '../context.js'
import {serviceError} from '../errors.js'
import {containerRunner} from './containers.js'
import {TooManyRequestsError, type StreamRequest} from './requests.js'
import type {StreamingBackend, StreamingServer} from './server.js'

interface ExecRequest {
  containerId?: string
  cmd?: string[]
  tty?: boolean
  stdin?: boolean
  stdout?: boolean
  stderr?: boolean
}

interface PortForwardRequest {
  podSandboxId?: string
  port?: number[]
}

const short = (id: string | undefined) => `"${(id ?? '').slice(0, 13)}"`

export function streamingHandlers(ctx: ServerContext, streaming: StreamingServer): UntypedServiceImplementation {
  const url = (request: StreamRequest) => {
    try {
      return streaming.url(request)
    } catch (err) {
      // kubelet: ResourceExhausted while 1000 URLs wait to be used.
      if (err instanceof TooManyRequestsError) throw serviceError(status.RESOURCE_EXHAUSTED, err.message)
      throw err
    }
  }
  return {
    Exec: ctx.unary(
      'Exec',
      async (req: ExecRequest, rt) => {
        const streams = checkStreams(req)
        if (!req.cmd?.length) throw serviceError(status.INVALID_ARGUMENT, 'missing required cmd')
        const containerId = runningContainer(rt, req.containerId!)
        return {url: url({kind: 'exec', containerId, cmd: req.cmd, ...streams})}
      },
      {mutates: false, what: (req) => `${short(req.containerId)} ${JSON.stringify(req.cmd ?? [])}${req.tty ? ' tty' : ''}${req.stdin ? ' stdin' : ''}`},
    ),

    Attach: ctx.unary(
      'Attach',
      async (req: Omit<ExecRequest, 'cmd'>, rt) => {
        const streams = checkStreams(req)
        // Running, and with the terminal and stdin it is asked for (CRI: tty must match the container's).
        const {id} = attachTarget(rt, req.containerId!, {stdin: streams.stdin, tty: streams.tty})
        return {url: url({kind: 'attach', containerId: id, cmd: [], ...streams})}
      },
      {mutates: false, what: (req) => `${short(req.containerId)}${req.tty ? ' tty' : ''}${req.stdin ? ' stdin' : ''}`},
    ),

    PortForward: ctx.unary(
      'PortForward',
      async (req: PortForwardRequest, rt) => {
        if (!req.podSandboxId) throw serviceError(status.INVALID_ARGUMENT, 'missing required pod_sandbox_id')
        const id = await readyPod(rt, req.podSandboxId)
        // The ports travel in the SPDY streams' headers, as kubelet's server reads them; the request's list is not consulted.
        return {url: url({kind: 'portforward', podSandboxId: id})}
      },
      {mutates: false, what: (req) => short(req.podSandboxId)},
    ),
  }
}

/** kubelet's checks of an exec or attach request (streaming server GetExec, GetAttach). */
function checkStreams(req: Omit<ExecRequest, 'cmd'>): {tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean} {
  if (!req.containerId) throw serviceError(status.INVALID_ARGUMENT, 'missing required container_id')
  const s = {tty: req.tty === true, stdin: req.stdin === true, stdout: req.stdout === true, stderr: req.stderr === true}
  if (s.tty && s.stderr) throw serviceError(status.INVALID_ARGUMENT, 'tty and stderr cannot both be true')
  if (!s.stdin && !s.stdout && !s.stderr) throw serviceError(status.INVALID_ARGUMENT, 'one of stdin, stdout, or stderr must be set')
  return s
}

/** The full ID of a RUNNING container (containerd: "container is in <state> state"). */
function runningContainer(rt: CallContext, ref: string): string {
  const found = mustResolveContainer(rt, ref)
  const record = readContainerRecord(rt.store, found.podId, found.id)
  if (!record) throw notFoundError(`container "${ref}" not found`)
  const {state} = viewOf(rt, record)
  if (state !== 'CONTAINER_RUNNING') throw new PodctlError(`container "${found.id}" is not running (${state})`, {hint: 'exec needs a running container'})
  return found.id
}

/** The full ID of a READY pod; NotFound for none, an error for one that is not ready (containerd: "sandbox container is not running"). */
async function readyPod(rt: CallContext, ref: string): Promise<string> {
  const pods = inProcessService(rt)
  const id = await pods.resolve(ref)
  if (id === null) throw notFoundError(`pod sandbox "${ref}" not found`)
  const {status: s} = await pods.podStatus(id, false)
  if (s.state !== 'SANDBOX_READY') throw new PodctlError(`pod sandbox "${id}" is not ready`, {hint: 'start a new pod: a stopped one cannot be made ready again'})
  return id
}

/** What a session looks up when its URL is used: the pod may have stopped since. */
export function streamingBackend(ctx: ServerContext): StreamingBackend {
  return {
    runRemoteCommand: containerRunner(ctx),
    portForwardTarget: async (podSandboxId) => {
      const record = await ctx.store.readRecord(podSandboxId)
      if (!record) throw notFoundError(`pod sandbox "${podSandboxId}" not found`)
      if (record.config.linux?.security_context?.namespace_options?.network === NamespaceMode.NODE) return {podSandboxId, netnsPath: undefined}
      const netnsPath = record.netnsPath ?? ctx.store.netnsPath(podSandboxId)
      if (!isMountPoint(netnsPath)) throw new PodctlError(`pod sandbox "${podSandboxId}" has no network namespace: it is not ready`)
      return {podSandboxId, netnsPath}
    },
  }
}
