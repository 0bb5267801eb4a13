// The pod and container lifecycles as services: what the pod and container
// verbs act through, whether in this process (./backend.ts: localBackend,
// inProcessService, localContainerBackend, inProcessContainers) or as a CRI
// client of a runtime at --runtime-endpoint (src/cri/client.ts); the gRPC
// handlers of `podctl serve` (src/server/) call the in-process ones. Types
// only: every side may import it.

import type {Container, ContainerConfig, ContainerStatus} from '../cri/container-types.js'
import type {PodSandbox, PodSandboxConfig, PodSandboxStatus} from '../cri/types.js'
import type {ContainerFilter} from './container.js'
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

export interface ContainerStatusResult {
  status: ContainerStatus
  info?: Record<string, unknown>
}

export interface ContainerService {
  /** CreateContainer in the pod a user's reference names; podConfig is what the CRI passes along (crictl's pod config file). */
  createContainer(podRef: string, config: ContainerConfig, podConfig?: PodSandboxConfig): Promise<string>
  /** The container ID a user's reference (ID, unique prefix, name) names, or null for none. */
  resolve(ref: string): Promise<string | null>
  /** StartContainer of a resolved ID. */
  startContainer(id: string): Promise<void>
  /** StopContainer of a resolved ID: the stop signal, timeoutSec, then SIGKILL; CRI: idempotent. */
  stopContainer(id: string, timeoutSec: number): Promise<void>
  /** RemoveContainer of a resolved ID; a running one is refused unless force. */
  removeContainer(id: string, force: boolean): Promise<void>
  /** ListContainers, newest first; the pod filter is a user's pod reference. */
  listContainers(filter: ContainerFilter): Promise<Container[]>
  /** ContainerStatus of a resolved ID; verbose adds info. */
  containerStatus(id: string, verbose: boolean): Promise<ContainerStatusResult>
}
