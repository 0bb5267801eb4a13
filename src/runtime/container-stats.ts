// Container stats, the CRI's ListContainerStats computed in-process: CPU and
// memory from the container's own cgroup (the readers of ./stats.ts, which
// pods use too), and the writable layer's usage from its overlay upper
// directory, counted as du(1) counts: allocated blocks of each inode once,
// and the number of inodes (containerd's snapshotter usage does the same).

import {lstatSync, readdirSync} from 'node:fs'

import {errnoOf} from './errors.js'
import {type CpuUsage, type MemoryUsage, nowNanos, readCgroupUsage, type StatsSource, type UInt64Value} from './stats.js'

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
