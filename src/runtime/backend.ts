// The in-process implementations of the pod and container services
// (./service.ts). The verbs hold a PodService and a ContainerService, these or
// CRI clients of a runtime at --runtime-endpoint (src/cri/client.ts: podctl
// serve, containerd, CRI-O), and never know which, so their flags, output and
// exit codes are the same either way.

import type {CallContext} from './context.js'
import {ExitCode, notFoundError, PodctlError} from './errors.js'
import {listPods, toPodSandbox} from './listing.js'
import type {ContainerService, PodService} from './service.js'

/**
 * The pod lifecycle in this process, under the caller's signal alone: what
 * the gRPC handlers call (each RPC's context carries its own deadline).
 */
export function inProcessService(rt: CallContext): PodService {
  return {
    runPod: async (config, runtimeHandler) => (await sandbox()).runPod(rt, config, runtimeHandler),
    stopPod: async (ref) => void (await (await sandbox()).stopPod(rt, ref)),
    resolve: (ref) => rt.store.resolve(ref),
    listIds: async () => rt.store.listIds(),
    removePod: async (id, options) => (await sandbox()).removePod(rt, id, options),
    podStatus: async (id, verbose) => (await sandbox()).podStatus(rt, id, verbose),
    listPods: async (filter) => (await listPods(rt, filter)).map(toPodSandbox),
    // Loaded by statsp alone: pods and the other verbs do not pay for it.
    samplePodSandboxStats: async function* (filter, options) {
      const {samplePodSandboxStats} = await import('./stats.js')
      yield* samplePodSandboxStats(rt, filter, options)
    },
  }
}

/**
 * The verbs' default: the runtime in this process. Every call gets the whole
 * --timeout, as every call does in client mode: `rmp -af` of a thousand pods
 * must not fail the pods after the first minute. `rt.ctx.signal` (Ctrl-C)
 * still cancels any call.
 */
export function localBackend(rt: CallContext): PodService {
  return {
    runPod: (config, runtimeHandler) => timed(rt, (r) => inProcessService(r).runPod(config, runtimeHandler)),
    stopPod: (ref) => timed(rt, (r) => inProcessService(r).stopPod(ref)),
    resolve: (ref) => timed(rt, (r) => inProcessService(r).resolve(ref)),
    listIds: () => timed(rt, (r) => inProcessService(r).listIds()),
    removePod: (id, options) => timed(rt, (r) => inProcessService(r).removePod(id, options)),
    podStatus: (id, verbose) => timed(rt, (r) => inProcessService(r).podStatus(id, verbose)),
    listPods: (filter) => timed(rt, (r) => inProcessService(r).listPods(filter)),
    // One deadline for the whole sampling (statsp sets it from --seconds, or none for --watch).
    samplePodSandboxStats: async function* (filter, options) {
      const deadline = withDeadline(rt)
      try {
        yield* inProcessService(deadline.rt).samplePodSandboxStats(filter, options)
      } finally {
        deadline.done()
      }
    },
  }
}

/**
 * The container lifecycle in this process (./container.ts), under the
 * caller's signal alone: what the gRPC handlers call.
 */
export function inProcessContainers(rt: CallContext): ContainerService {
  return {
    createContainer: async (podRef, config) => (await containers()).createContainer(rt, podRef, config),
    resolve: async (ref) => (await containers()).resolveContainer(rt, ref)?.id ?? null,
    startContainer: async (id) => {
      const c = await containers()
      await c.startContainer(rt, c.mustResolveContainer(rt, id))
    },
    stopContainer: async (id, timeoutSec) => {
      const c = await containers()
      const ref = c.resolveContainer(rt, id)
      // CRI: idempotent; an unknown container is stopped already.
      if (ref) await c.stopContainer(rt, ref, timeoutSec)
    },
    removeContainer: async (id, force) => {
      const c = await containers()
      const ref = c.resolveContainer(rt, id)
      // CRI: idempotent; a container removed meanwhile is fine.
      if (ref) await c.removeContainer(rt, ref, force)
    },
    listContainers: async (filter) => {
      const [c, {toContainer}] = await Promise.all([containers(), import('./container-status.js')])
      return (await c.listContainers(rt, filter)).map(toContainer)
    },
    containerStatus: async (id, verbose) => {
      const [c, {toContainerStatus}] = await Promise.all([containers(), import('./container-status.js')])
      const ref = c.mustResolveContainer(rt, id)
      const [view] = await c.listContainers(rt, {id: ref.id, podSandboxId: ref.podId})
      if (!view) throw notFoundError(`container "${id}" not found`, 'list containers with: podctl ps -a')
      return verbose ? {status: toContainerStatus(view), info: await c.containerInfo(rt, view)} : {status: toContainerStatus(view)}
    },
  }
}

/** The container verbs' default: the runtime in this process, each call with the whole --timeout. */
export function localContainerBackend(rt: CallContext): ContainerService {
  const c = (r: CallContext) => inProcessContainers(r)
  return {
    createContainer: (podRef, config, podConfig) => timed(rt, (r) => c(r).createContainer(podRef, config, podConfig)),
    resolve: (ref) => timed(rt, (r) => c(r).resolve(ref)),
    startContainer: (id) => timed(rt, (r) => c(r).startContainer(id)),
    stopContainer: (id, timeoutSec) => timed(rt, (r) => c(r).stopContainer(id, timeoutSec)),
    removeContainer: (id, force) => timed(rt, (r) => c(r).removeContainer(id, force)),
    listContainers: (filter) => timed(rt, (r) => c(r).listContainers(filter)),
    containerStatus: (id, verbose) => timed(rt, (r) => c(r).containerStatus(id, verbose)),
  }
}

/** What runs containers: loaded on first use, as the pod lifecycle is. */
const containers = () => import('./container.js')

/** What runs, stops, removes and inspects pods: loaded on first use, so that `pods` does not pay for the runtime, CNI, netns and cgroup modules. */
const sandbox = () => import('./sandbox.js')

/** `rt` with a signal that also fires when --timeout has passed since now. */
export function withDeadline(rt: CallContext): {rt: CallContext; done: () => void} {
  const abort = new AbortController()
  const ms = rt.settings.timeoutMs
  const timer = setTimeout(() => abort.abort(new PodctlError(`timed out after ${ms} ms`, {exitCode: ExitCode.timeout, hint: 'raise --timeout'})), ms)
  timer.unref()
  const parent = rt.ctx.signal
  const follow = () => abort.abort(parent.reason)
  if (parent.aborted) follow()
  else parent.addEventListener('abort', follow, {once: true})
  const done = () => {
    clearTimeout(timer)
    parent.removeEventListener('abort', follow)
  }
  return {rt: {...rt, ctx: {...rt.ctx, signal: abort.signal}}, done}
}

async function timed<T>(rt: CallContext, call: (rt: CallContext) => Promise<T>): Promise<T> {
  const deadline = withDeadline(rt)
  try {
    return await call(deadline.rt)
  } finally {
    deadline.done()
  }
}
