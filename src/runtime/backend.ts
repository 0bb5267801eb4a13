// What the pod verbs act through: this process's own runtime (the default),
// or a CRI runtime at --runtime-endpoint (src/cri/client.ts: podctl serve,
// containerd, CRI-O). The verbs hold one of these and never know which, so
// their flags, output and exit codes are the same either way.

import type {PodSandbox, PodSandboxConfig} from '../cri/types.js'
import {listPods, type PodFilter, type PodStatusResult, podStatus, type RemoveOptions, removePod, runPod, type Runtime, stopPod, toPodSandbox} from './sandbox.js'
import type {PodStatsEntry, SamplingOptions} from './stats.js'

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

/** The verbs' default: the runtime in this process. */
export function localBackend(rt: Runtime): PodBackend {
  return {
    runPod: (config, runtimeHandler) => runPod(rt, config, runtimeHandler),
    stopPod: async (ref) => {
      await stopPod(rt, ref)
    },
    resolve: (ref) => rt.store.resolve(ref),
    listIds: () => rt.store.listIds(),
    removePod: (id, options) => removePod(rt, id, options),
    podStatus: (id, verbose) => podStatus(rt, id, verbose),
    listPods: async (filter) => (await listPods(rt, filter)).map(toPodSandbox),
    // Loaded by statsp alone: pods and the other verbs do not pay for it.
    samplePodSandboxStats: async function* (filter, options) {
      const {samplePodSandboxStats} = await import('./stats.js')
      yield* samplePodSandboxStats(rt, filter, options)
    },
  }
}
