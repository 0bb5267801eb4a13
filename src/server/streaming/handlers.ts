// The RPCs that hand out streaming URLs (PortForward; Exec and Attach once
// containers run), and what the streaming sessions look up when a URL is
// used. As kubelet's GetPortForward: the request is checked, stored under a
// token, and the URL returned; nothing starts until the client connects.

import {status, type UntypedServiceImplementation} from '@grpc/grpc-js'

import {NamespaceMode} from '../../cri/types.js'
import {notFoundError, PodctlError} from '../../runtime/errors.js'
import {inProcessService} from '../../runtime/backend.js'
import type {CallContext} from '../../runtime/context.js'
import {isMountPoint} from '../../runtime/netns.js'
import type {ServerContext} from '../context.js'
import {serviceError} from '../errors.js'
import {TooManyRequestsError, type StreamRequest} from './requests.js'
import type {StreamingBackend, StreamingServer} from './server.js'

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
