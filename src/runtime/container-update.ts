// UpdateContainerResources: new CPU and memory limits for a running (or
// created) container, applied by the runtime to its cgroup (`runc update`)
// and kept in its record and spec, so inspect shows them and a later update
// starts from them. As crictl sends every field, 0 and "" mean "unchanged".

import {readFileSync} from 'node:fs'

import type {LinuxContainerResources} from '../cri/types.js'
import {checkResources, detectCgroupMode, readCgroupFacts} from './cgroups.js'
import {mustResolveContainer, runtimeOf, viewOf, withContainerLock} from './container.js'
import {containerSpecPath, readContainerRecord, writeContainerRecord} from './container-store.js'
import type {CallContext} from './context.js'
import {notFoundError, PodctlError, wrap} from './errors.js'
import {linuxResources} from './oci-spec.js'
import {validateResources} from './podconfig.js'
import {writeFileAtomic} from './store.js'

/** The fields `podctl update` (and crictl's) can change. */
export type ResourceUpdate = Pick<LinuxContainerResources, 'cpu_period' | 'cpu_quota' | 'cpu_shares' | 'cpuset_cpus' | 'cpuset_mems' | 'memory_limit_in_bytes'>

/** The resources after the update: each field given (non-zero, non-empty) replaces the current one. */
export function mergeResources(current: LinuxContainerResources | undefined, update: ResourceUpdate): LinuxContainerResources {
  const merged: LinuxContainerResources = {...current}
  for (const [key, value] of Object.entries(update) as [keyof ResourceUpdate, number | string | undefined][]) {
    if (value !== undefined && value !== 0 && value !== '') (merged as Record<string, unknown>)[key] = value
  }
  return merged
}

/** The OCI resources the runtime applies: the cgroup limits only (the device rules stay as created). */
export function updateResources(r: LinuxContainerResources): Record<string, unknown> {
  const {devices: _devices, ...rest} = linuxResources(r)
  return rest
}

export async function updateContainer(rt: CallContext, ref: string, update: ResourceUpdate): Promise<void> {
  const found = mustResolveContainer(rt, ref)
  await withContainerLock(rt, found.id, async () => {
    const record = readContainerRecord(rt.store, found.podId, found.id)
    if (!record) throw notFoundError(`container "${ref}" not found`, 'list containers with: podctl ps -a')
    const {state} = viewOf(rt, record)
    if (state !== 'CONTAINER_RUNNING' && state !== 'CONTAINER_CREATED') {
      throw new PodctlError(`container "${found.id}" is not running or created (${state}): its resources cannot change`)
    }
    const merged = mergeResources(record.config.linux?.resources, update)
    validateResources(merged, 'update')
    checkResources(merged, readCgroupFacts(detectCgroupMode()), 'update')
    const resources = updateResources(merged)
    await runtimeOf(rt, record).update(rt.ctx, found.id, resources)
    // The record and spec follow what the cgroup now holds.
    writeContainerRecord(rt.store, {...record, config: {...record.config, linux: {...record.config.linux, resources: merged}}})
    const specPath = containerSpecPath(rt.store, found.podId, found.id)
    try {
      const spec = JSON.parse(readFileSync(specPath, 'utf8')) as {linux?: {resources?: Record<string, unknown>}}
      spec.linux = {...spec.linux, resources: {...spec.linux?.resources, ...resources}}
      writeFileAtomic(specPath, JSON.stringify(spec))
    } catch (err) {
      throw wrap(`cannot record the new resources in the spec of container "${found.id}"`, err)
    }
  })
}
