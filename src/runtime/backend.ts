// What the pod verbs act through: this process's own runtime (the default),
// or a CRI runtime at --runtime-endpoint (src/cri/client.ts: podctl serve,
// containerd, CRI-O). The verbs hold one of these and never know which, so
// their flags, output and exit codes are the same either way.

import type {PodSandbox, PodSandboxConfig} from '../cri/types.js'
import {listPods, type PodFilter, toPodSandbox} from './listing.js'
import type {PodStatusResult, RemoveOptions, Runtime} from './sandbox.js'
import type {PodStatsEntry, SamplingOptions} from './stats.js'
import {ExitCode, PodctlError} from './errors.js'

export interface PodBackend {
  /** RunPodSandbox: the new pod's ID */
  runPod(config: PodSandboxConfig, runtimeHandler: string): Promise<string>
  /** StopPodSandbox; CRI: an unknown pod is already stopped */
  stopPod(ref: string): Promise<void>
  /** The pod ID a user's reference (ID, unique prefix, name) names, or null for none. */
  resolve(ref: string): Promise<string | null>
  /** Every pod's ID. */
  listIds(): Promise<string[]>
  /** RemovePodSandbox of a resolved ID; a READY pod is refused unless force. */
  removePod(id: string, options: RemoveOptions): Promise<{stopped: boolean}>
  /** PodSandboxStatus of a resolved ID; verbose adds info. */
  podStatus(id: string, verbose: boolean): Promise<PodStatusResult>
  /** ListPodSandbox, newest first, with every filter of `podctl pods`. */
  listPods(filter: PodFilter): Promise<PodSandbox[]>
  /** ListPodSandboxStats every `seconds` (see stats.ts: samplePodSandboxStats). */
  samplePodSandboxStats(filter: PodFilter, options: SamplingOptions): AsyncGenerator<PodStatsEntry[]>
}

/**
 * The verbs' default: the runtime in this process. Every call gets the whole
 * --timeout, as every call does in client mode: `rmp -af` of a thousand pods
 * must not fail the pods after the first minute. `rt.ctx.signal` (Ctrl-C)
 * still cancels any call.
 */
export function localBackend(rt: Runtime): PodBackend {
  return {
    runPod: (config, runtimeHandler) => timed(rt, async (r) => (await sandbox()).runPod(r, config, runtimeHandler)),
    stopPod: (ref) => timed(rt, async (r) => void (await (await sandbox()).stopPod(r, ref))),
    resolve: (ref) => timed(rt, (r) => r.store.resolve(ref)),
    listIds: () => timed(rt, async (r) => r.store.listIds()),
    removePod: (id, options) => timed(rt, async (r) => (await sandbox()).removePod(r, id, options)),
    podStatus: (id, verbose) => timed(rt, async (r) => (await sandbox()).podStatus(r, id, verbose)),
    listPods: (filter) => timed(rt, async (r) => (await listPods(r, filter)).map(toPodSandbox)),
    // Loaded by statsp alone: pods and the other verbs do not pay for it. One
    // deadline for the whole sampling (statsp sets it from --seconds, or none for --watch).
    samplePodSandboxStats: async function* (filter, options) {
      const {samplePodSandboxStats} = await import('./stats.js')
      const deadline = withDeadline(rt)
      try {
        yield* samplePodSandboxStats(deadline.rt, filter, options)
      } finally {
        deadline.done()
      }
    },
  }
}

/** What runs, stops, removes and inspects pods: loaded on first use, so that `pods` does not pay for the runtime, CNI, netns and cgroup modules. */
const sandbox = () => import('./sandbox.js')

/** `rt` with a signal that also fires when --timeout has passed since now. */
export function withDeadline(rt: Runtime): {rt: Runtime; done: () => void} {
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

async function timed<T>(rt: Runtime, call: (rt: Runtime) => Promise<T>): Promise<T> {
  const deadline = withDeadline(rt)
  try {
    return await call(deadline.rt)
  } finally {
    deadline.done()
  }
}
