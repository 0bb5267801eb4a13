// The pod lifecycle as one service: what the pod verbs act through, whether
// in this process (./backend.ts: localBackend, inProcessService) or as a CRI
// client of a runtime at --runtime-endpoint (src/cri/client.ts); the gRPC
// handlers of `podctl serve` (src/server/runtime-service.ts) call the
// in-process one. Types only: every side may import it.

import type {PodSandbox, PodSandboxConfig, PodSandboxStatus} from '../cri/types.js'
import type {PodFilter} from './listing.js'
import type {PodStatsEntry, SamplingOptions} from './stats.js'

export interface RemoveOptions {
  /** stop a READY pod first (crictl rmp -f) */
  force: boolean
}

export interface PodStatusResult {
  status: PodSandboxStatus
  info?: Record<string, unknown>
}

export interface PodService {
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
