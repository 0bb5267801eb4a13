// The in-process implementations of the pod service (./service.ts). The verbs
// hold a PodService, this one or a CRI client of a runtime at
// --runtime-endpoint (src/cri/client.ts: podctl serve, containerd, CRI-O), and
// never know which, so their flags, output and exit codes are the same either way.

import type {CallContext} from './context.js'
import {ExitCode, PodctlError} from './errors.js'
import {listPods, toPodSandbox} from './listing.js'
import type {PodService} from './service.js'

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
