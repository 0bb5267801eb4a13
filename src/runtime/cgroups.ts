// cgroup paths for pods, on cgroup v1, hybrid and v2 hosts, with the
// cgroupfs driver (podctl runs no systemd units; systemd-style slice names
// given as a parent are mapped to the paths systemd itself would use).

import {type Dirent, existsSync, readdirSync, readFileSync, rmdirSync, statfsSync} from 'node:fs'
import {join} from 'node:path'

import type {LinuxContainerResources} from '../cri/types.js'
import {usageError} from './errors.js'
import {builtinDefaults} from './settings.js'

export type CgroupMode = 'v1' | 'hybrid' | 'v2'

const CGROUP2_SUPER_MAGIC = 0x63677270

/** The parent of pods that name none, unless the cgroup-parent setting says otherwise: podctl's own cgroup. */
export const defaultCgroupParent = builtinDefaults.cgroupParent

export function detectCgroupMode(mountPoint = '/sys/fs/cgroup'): CgroupMode {
  if (statfsSync(mountPoint).type === CGROUP2_SUPER_MAGIC) return 'v2'
  try {
    if (statfsSync(join(mountPoint, 'unified')).type === CGROUP2_SUPER_MAGIC) return 'hybrid'
  } catch {
    // no unified hierarchy: plain v1
  }
  return 'v1'
}

/**
 * Expand a systemd slice name to its path, as systemd does:
 * "kubepods-burstable.slice" → "/kubepods.slice/kubepods-burstable.slice".
 */
export function expandSlice(slice: string): string {
  const name = slice.replace(/\.slice$/, '')
  if (name === '' || name === '-') return '/'
  if (name.startsWith('-') || name.endsWith('-') || name.includes('--') || name.includes('/')) {
    throw usageError(`"${slice}" is not a valid systemd slice name`, 'a slice is named like kubepods-burstable.slice: dash-separated parts, none empty')
  }
  const parts = name.split('-')
  let path = ''
  let prefix = ''
  for (const part of parts) {
    prefix = prefix ? `${prefix}-${part}` : part
    path += `/${prefix}.slice`
  }
  return path
}

/** The longest cgroup parent taken: with /sys/fs/cgroup/<controller>/ before it and /<pod ID> after, a path fits PATH_MAX (4096) with room. */
export const maxCgroupParentLength = 2048
/** A cgroup is a directory: each component is a file name (NAME_MAX). */
const maxCgroupComponentBytes = 255

/**
 * Why a cgroup parent is refused, or null: the rules the cgroup-parent
 * setting and a pod's linux.cgroup_parent share. An absolute path with no
 * "." or ".." component (no way out of the pods' own part of the tree), or
 * a bare systemd slice name; short enough that the pod's cgroup can be made
 * and removed again.
 */
export function cgroupParentProblem(value: string): string | null {
  const shown = JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  if (value.length > maxCgroupParentLength) return `${shown} is ${value.length} characters long; the limit is ${maxCgroupParentLength}`
  const parts = value.split('/')
  const dots = parts.find((part) => part === '..' || part === '.')
  if (dots) return `${shown} has a "${dots}" component`
  if (!(value.startsWith('/') || (value.endsWith('.slice') && parts.length === 1))) return `${shown} is a relative path`
  const long = parts.find((part) => Buffer.byteLength(part) > maxCgroupComponentBytes)
  if (long) return `${shown} has a component of ${Buffer.byteLength(long)} bytes; the limit is ${maxCgroupComponentBytes}`
  return null
}

/**
 * The cgroupsPath of a pod's pause container for the cgroupfs driver: the
 * pod's own cgroup, named by its ID, under the requested parent. A parent
 * given in systemd form ("/test.slice", "kubepods-burstable.slice") is mapped
 * to the directory systemd would use, so pods land beside the kubelet's.
 */
/** The cgroup parent a pod record was placed under; older records did not say, and used the config's or the built-in one. */
export const recordCgroupParent = (record: {cgroupParent?: string; config: {linux?: {cgroup_parent?: string}}}): string | undefined =>
  record.cgroupParent || record.config.linux?.cgroup_parent || undefined

export function podCgroupsPath(cgroupParent: string | undefined, podSandboxId: string): string {
  const parent = cgroupParent && cgroupParent !== '' ? cgroupParent : defaultCgroupParent
  const base = parent.split('/').filter(Boolean)
  const last = base[base.length - 1] ?? ''
  const dir = last.endsWith('.slice') && base.length === 1 ? expandSlice(last) : '/' + base.join('/')
  return join(dir, podSandboxId)
}

/** The pause's cgroup below the pod's on v2, where the pod cgroup cannot hold it (./cgroup-v2.ts). */
export const pauseLeaf = 'pause'

/** The pause's cgroupsPath: the pod cgroup itself on v1 and hybrid hosts, its leaf on v2. */
export const pauseCgroupsPath = (podCgroup: string, mode: CgroupMode): string => (mode === 'v2' ? `${podCgroup}/${pauseLeaf}` : podCgroup)

/**
 * Remove a pod's cgroup in every hierarchy, for when the runtime cannot (its
 * state was lost with the run root). Missing is fine; one still holding a
 * live process is an error (EBUSY).
 */
export async function removePodCgroup(cgroupsPath: string, mountPoint = '/sys/fs/cgroup'): Promise<void> {
  const dirs = [join(mountPoint, cgroupsPath)]
  for (const e of entriesOf(mountPoint)) if (e.isDirectory()) dirs.push(join(mountPoint, e.name, cgroupsPath))
  // On v2 the pause's leaf goes first; on v1 there is none.
  for (const dir of dirs.flatMap((d) => [join(d, pauseLeaf), d])) {
    try {
      rmdirSync(dir)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw new Error(`cannot remove cgroup ${dir}: ${(err as Error).message}`)
    }
  }
}

/** What the host's cgroups offer pods; read once per runp, checked by the pure checkResources. */
export interface CgroupFacts {
  mode: CgroupMode
  /** controllers a pod cgroup can use (v1: mounted hierarchies; v2: the root's cgroup.controllers) */
  controllers: string[]
  /** huge page sizes the kernel offers, named as the CRI names them ("2MB", "1GB") */
  hugepageSizes: string[]
  /** CPUs and memory nodes a pod may be given, in cpuset list form ("0-3,6") */
  cpus: string
  mems: string
  /** memory+swap limits can be set (cgroup v1 needs swap accounting: memory.memsw.*) */
  swapLimit: boolean
}

// Read synchronously: small kernel files, and the promise API's thread pool
// costs a verb milliseconds (see writeFileAtomic in store.ts).

/** A directory's entries; none when it cannot be read. */
function entriesOf(dir: string): Dirent[] {
  try {
    return readdirSync(dir, {withFileTypes: true})
  } catch {
    return []
  }
}

const readTrimmed = (path: string) => {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return ''
  }
}

export function readCgroupFacts(mode: CgroupMode, mountPoint = '/sys/fs/cgroup', hugepagesDir = '/sys/kernel/mm/hugepages'): CgroupFacts {
  const hugepageSizes = entriesOf(hugepagesDir)
    .map((e) => e.name.match(/^hugepages-(\d+)kB$/)?.[1])
    .filter((kb): kb is string => kb !== undefined)
    .map((kb) => pageSizeName(Number(kb) * 1024))
  if (mode === 'v2') {
    const controllers = readTrimmed(join(mountPoint, 'cgroup.controllers')).split(/\s+/).filter(Boolean)
    return {
      mode,
      controllers,
      hugepageSizes,
      cpus: readTrimmed(join(mountPoint, 'cpuset.cpus.effective')),
      mems: readTrimmed(join(mountPoint, 'cpuset.mems.effective')),
      swapLimit: controllers.includes('memory'),
    }
  }
  const entries = entriesOf(mountPoint)
  // "cpu,cpuacct" is one hierarchy with two controllers; "unified" and "systemd" are not controllers.
  const controllers = entries.filter((e) => e.isDirectory() && e.name !== 'unified' && e.name !== 'systemd').flatMap((e) => e.name.split(','))
  return {
    mode,
    controllers: [...new Set(controllers)].sort(),
    hugepageSizes,
    cpus: readTrimmed(join(mountPoint, 'cpuset', 'cpuset.effective_cpus')),
    mems: readTrimmed(join(mountPoint, 'cpuset', 'cpuset.effective_mems')),
    swapLimit: existsSync(join(mountPoint, 'memory', 'memory.memsw.limit_in_bytes')),
  }
}

/** 2097152 → "2MB", 1073741824 → "1GB": the names runc's hugetlb files use. */
export function pageSizeName(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let i = 0
  let n = bytes
  while (n >= 1024 && n % 1024 === 0 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return `${n}${units[i]}`
}

/** The numbers in a cpuset list ("0-3,6"), or undefined when it is not one. */
export function parseCpuset(list: string): Set<number> | undefined {
  const out = new Set<number>()
  if (list.trim() === '') return out
  for (const part of list.split(',')) {
    const m = part.trim().match(/^(\d+)(?:-(\d+))?$/)
    if (!m) return undefined
    const lo = Number(m[1])
    const hi = m[2] === undefined ? lo : Number(m[2])
    if (hi < lo || hi - lo > 65_536) return undefined
    for (let n = lo; n <= hi; n++) out.add(n)
  }
  return out
}

/**
 * Refuse, naming the field, what this host's cgroups cannot apply: the
 * runtime's own errors come late (after the network is set up) and are
 * cryptic ("cannot set hugetlb limit: container could not join or create
 * cgroup", "numerical result out of range"). `field` is linux.resources or
 * linux.overhead.
 */
export function checkResources(r: LinuxContainerResources | undefined, facts: CgroupFacts, field: string): void {
  if (!r) return
  const hugepages = r.hugepage_limits ?? []
  if (hugepages.length > 0 && !facts.controllers.includes('hugetlb')) {
    // On a hybrid host hugetlb may sit in the v2 hierarchy, where a v1 driver (runc's, here) cannot use it.
    const where = facts.mode === 'v2' ? '' : ' mounted as a cgroup v1 hierarchy'
    throw usageError(`${field}.hugepage_limits: this host has no hugetlb cgroup controller${where}`, 'remove hugepage_limits, or run on a host with the hugetlb controller')
  }
  for (const [i, h] of hugepages.entries()) {
    if (!facts.hugepageSizes.includes(h.page_size ?? '')) {
      throw usageError(`${field}.hugepage_limits[${i}].page_size: "${h.page_size ?? ''}" is not a huge page size of this host (${facts.hugepageSizes.join(', ') || 'none'})`)
    }
  }
  if (r.unified && Object.keys(r.unified).length > 0 && facts.mode !== 'v2') {
    throw usageError(`${field}.unified: needs cgroup v2; this host has cgroup v1 controllers (${facts.mode})`, 'use the v1 fields (cpu_shares, memory_limit_in_bytes, ...) instead')
  }
  if ((r.memory_swap_limit_in_bytes ?? 0) > 0 && !facts.swapLimit) {
    throw usageError(`${field}.memory_swap_limit_in_bytes: this host has no swap accounting (memory.memsw.*)`, 'boot with swapaccount=1, or remove the swap limit')
  }
  for (const [key, available] of [['cpuset_cpus', facts.cpus], ['cpuset_mems', facts.mems]] as const) {
    const wanted = parseCpuset(r[key] ?? '')
    const have = parseCpuset(available)
    if (!r[key] || !wanted || !have || have.size === 0) continue
    const missing = [...wanted].filter((n) => !have.has(n))
    if (missing.length > 0) {
      throw usageError(`${field}.${key}: "${r[key]}" names ${missing.join(', ')}, which this host does not offer (${available})`)
    }
  }
}
