// The CRI shapes of a container (ListContainers' Container, ContainerStatus)
// from its view: the record and the state derived from the live system.

import type {Container, ContainerStatus} from '../cri/container-types.js'
import {enumName} from '../cri/schema.js'
import type {ContainerView} from './container.js'
import {exitReason} from './container-state.js'

const metadataOf = (v: ContainerView) => ({name: v.record.config.metadata.name, attempt: v.record.config.metadata.attempt ?? 0})
const imageOf = (v: ContainerView) => ({image: v.record.imageRef ?? v.record.config.image.image ?? '', annotations: v.record.config.image.annotations ?? {}})

export function toContainer(v: ContainerView): Container {
  const {record} = v
  return {
    id: record.id,
    podSandboxId: record.podSandboxId,
    metadata: metadataOf(v),
    image: imageOf(v),
    imageRef: record.imageId ?? '',
    state: v.state,
    createdAt: record.createdAt,
    labels: record.config.labels ?? {},
    annotations: record.config.annotations ?? {},
  }
}

export function toContainerStatus(v: ContainerView): ContainerStatus {
  const {record, exit} = v
  const finished = v.state === 'CONTAINER_EXITED' && exit
  let reason = ''
  let message = ''
  if (finished) reason = exitReason(exit)
  else if (v.state === 'CONTAINER_UNKNOWN') {
    reason = 'Unknown'
    message = record.cleanupError ?? (record.phase === 'creating' ? 'its create did not finish' : 'its process and monitor are gone, with no exit code')
  }
  return {
    id: record.id,
    metadata: metadataOf(v),
    state: v.state,
    createdAt: record.createdAt,
    startedAt: record.startedAt ?? '0',
    finishedAt: finished ? exit.finishedAt : '0',
    exitCode: finished ? exit.exitCode : 0,
    image: imageOf(v),
    imageRef: record.imageId ?? '',
    reason,
    message,
    labels: record.config.labels ?? {},
    annotations: record.config.annotations ?? {},
    mounts: (record.config.mounts ?? []).map((m) => ({
      containerPath: m.container_path ?? '',
      hostPath: m.host_path ?? '',
      readonly: m.readonly === true,
      selinuxRelabel: m.selinux_relabel === true,
      propagation: enumName('MountPropagation', m.propagation ?? 0),
    })),
    logPath: record.logPath ?? '',
    ...(record.config.linux?.resources ? {resources: {linux: resourcesJson(record.config.linux.resources)}} : {}),
  }
}

/** LinuxContainerResources as protojson prints it: lowerCamelCase, 64-bit integers as strings, every field. */
function resourcesJson(r: NonNullable<NonNullable<ContainerView['record']['config']['linux']>['resources']>): Record<string, unknown> {
  return {
    cpuPeriod: String(r.cpu_period ?? 0),
    cpuQuota: String(r.cpu_quota ?? 0),
    cpuShares: String(r.cpu_shares ?? 0),
    memoryLimitInBytes: String(r.memory_limit_in_bytes ?? 0),
    oomScoreAdj: String(r.oom_score_adj ?? 0),
    cpusetCpus: r.cpuset_cpus ?? '',
    cpusetMems: r.cpuset_mems ?? '',
    hugepageLimits: (r.hugepage_limits ?? []).map((h) => ({pageSize: h.page_size ?? '', limit: String(h.limit ?? 0)})),
    unified: r.unified ?? {},
    memorySwapLimitInBytes: String(r.memory_swap_limit_in_bytes ?? 0),
  }
}
