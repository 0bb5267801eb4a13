// Container stats, the CRI's ListContainerStats computed in-process: CPU and
// memory from the container's own cgroup (the readers of ./stats.ts, which
// pods use too), and the writable layer's usage from its overlay upper
// directory, counted as du(1) counts: allocated blocks of each inode once,
// and the number of inodes (containerd's snapshotter usage does the same).

import {lstatSync, readdirSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import {listContainers} from './container.js'
import {containerRootfs} from './container-store.js'
import type {CallContext} from './context.js'
import {errnoOf} from './errors.js'
import {type CpuUsage, hostStatsSource, type MemoryUsage, nowNanos, readCgroupUsage, type StatsSource, type UInt64Value, usageNanoCores} from './stats.js'

export interface FilesystemUsage {
  timestamp: string
  fsId: {mountpoint: string}
  usedBytes: UInt64Value
  inodesUsed: UInt64Value
}

export interface ContainerAttributes {
  id: string
  metadata: {name: string; attempt: number}
  labels: Record<string, string>
  annotations: Record<string, string>
}

export interface ContainerStats {
  attributes: ContainerAttributes
  cpu: CpuUsage | null
  memory: MemoryUsage | null
  writableLayer: FilesystemUsage | null
}

export interface DiskUsage {
  bytes: bigint
  inodes: bigint
}

/**
 * What a directory tree holds on disk: 512-byte blocks of every inode,
 * hard links counted once, and the inodes (the directory itself included).
 * Null when the directory is gone; entries that vanish during the walk are
 * skipped.
 */
export function diskUsage(dir: string): DiskUsage | null {
  const seen = new Set<bigint>()
  let bytes = 0n
  const visit = (path: string): boolean => {
    let st
    try {
      st = lstatSync(path, {bigint: true})
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false
      throw err
    }
    if (!seen.has(st.ino)) {
      seen.add(st.ino)
      bytes += st.blocks * 512n
    }
    if (!st.isDirectory()) return true
    let names: string[]
    try {
      names = readdirSync(path)
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return true
      throw err
    }
    for (const name of names) visit(`${path}/${name}`)
    return true
  }
  if (!visit(dir)) return null
  return {bytes, inodes: BigInt(seen.size)}
}

export interface ContainerStatsInput {
  attributes: ContainerAttributes
  /** the container's cgroup, as its OCI spec names it */
  cgroupsPath: string
  /** the overlay upper directory: what the container wrote */
  upperDir: string
  /** where the rootfs is mounted, for fsId */
  rootfs: string
}

/** One running container's figures; its cgroup or upper directory being gone leaves that part null. */
export function readContainerStats(input: ContainerStatsInput, source: StatsSource): ContainerStats {
  const {cpu, memory} = readCgroupUsage(source, input.cgroupsPath)
  const now = source.now ?? nowNanos
  const timestamp = now()
  const usage = diskUsage(input.upperDir)
  const writableLayer = usage && {
    timestamp: timestamp.toString(),
    fsId: {mountpoint: input.rootfs},
    usedBytes: {value: usage.bytes.toString()},
    inodesUsed: {value: usage.inodes.toString()},
  }
  return {attributes: input.attributes, cpu, memory, writableLayer}
}

export interface ContainerStatsFilter {
  id?: string
  podSandboxId?: string
  labelSelector?: Record<string, string>
}

/** ListContainerStats: every running container the filter selects, sorted by ID as crictl sorts them. */
export async function listContainerStats(rt: CallContext, filter: ContainerStatsFilter, source: StatsSource): Promise<ContainerStats[]> {
  const views = await listContainers(rt, {...filter, state: 'CONTAINER_RUNNING'})
  return views
    .sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0))
    .flatMap(({record}) => {
      if (!record.cgroupsPath) return []
      const {rootfs, upper} = containerRootfs(rt.store, record.podSandboxId, record.id)
      const {metadata, labels = {}, annotations = {}} = record.config
      const attributes = {id: record.id, metadata: {name: metadata.name, attempt: metadata.attempt ?? 0}, labels, annotations}
      return [readContainerStats({attributes, cgroupsPath: record.cgroupsPath, upperDir: upper, rootfs}, source)]
    })
}

/** The current sample with usage_nano_cores over the time since the previous one, container by container. */
export function withContainerCpuRates(previous: ContainerStats[], current: ContainerStats[]): ContainerStats[] {
  const before = new Map(previous.map((s) => [s.attributes.id, s.cpu]))
  return current.map((s) => (s.cpu ? {...s, cpu: {...s.cpu, usageNanoCores: usageNanoCores(before.get(s.attributes.id), s.cpu)}} : s))
}

/**
 * Samples every `seconds` until the runtime's signal fires: the first at once
 * (or, with rateFirst, after one interval), each later one with
 * usage_nano_cores over the interval before it.
 */
export async function* sampleContainerStats(rt: CallContext, filter: ContainerStatsFilter, options: {seconds: number; rateFirst: boolean}): AsyncGenerator<ContainerStats[]> {
  const source = await hostStatsSource()
  let previous = await listContainerStats(rt, filter, source)
  if (!options.rateFirst) yield previous
  const signal = rt.ctx.signal
  for (;;) {
    await sleep(options.seconds * 1000, undefined, {signal}).catch((err: unknown) => {
      throw signal.aborted ? signal.reason : err
    })
    const current = withContainerCpuRates(previous, await listContainerStats(rt, filter, source))
    yield current
    previous = current
  }
}
