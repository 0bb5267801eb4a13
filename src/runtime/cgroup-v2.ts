// The pod cgroup on a cgroup v2 (unified) host. v2's no-internal-process rule
// forbids a cgroup that holds processes from giving controllers to cgroups
// below it, so the pause cannot sit in the pod cgroup as it does on v1, with
// the containers' cgroups below it: on v2 it runs in a leaf of its own,
// <pod cgroup>/pause, beside them (podman's infra container likewise sits in
// its own scope under the pod's slice). The pod's limits then cannot be the
// pause's: podctl writes them into the pod cgroup itself, converted as runc
// converts them for its fs2 driver, so that they bound the pod as a whole, as
// they do on v1.

import {closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import type {LinuxContainerResources} from '../cri/types.js'
import {usageError} from './errors.js'

/** runc's conversion of v1 CPU shares (2..262144) to a v2 weight (1..10000). */
export const cpuWeight = (shares: number): number => Math.floor(1 + ((shares - 2) * 9999) / 262142)

/**
 * v2 holds swap alone where v1 held memory + swap: the conversion runc makes,
 * with its rules (-1 is "max"; swap without a memory limit is refused).
 */
function swapMax(swap: number, memory: number | undefined, field: string): string | undefined {
  if (memory === -1 && !swap) return 'max'
  if (swap === -1) return 'max'
  if (!swap) return undefined
  if (!memory || memory === -1) throw usageError(`${field}.memory_swap_limit_in_bytes: a swap limit needs a memory limit`, 'set memory_limit_in_bytes too')
  if (swap < memory) throw usageError(`${field}.memory_swap_limit_in_bytes: ${swap} is below memory_limit_in_bytes (${memory}); it counts memory + swap`, 'give at least the memory limit')
  return String(swap - memory)
}

/** The v2 interface files a pod cgroup gets for CRI resources, in writing order. */
export function v2ResourceFiles(r: LinuxContainerResources, field = 'linux.resources'): [string, string][] {
  const files: [string, string][] = []
  if (r.cpuset_cpus) files.push(['cpuset.cpus', r.cpuset_cpus])
  if (r.cpuset_mems) files.push(['cpuset.mems', r.cpuset_mems])
  if (r.cpu_shares) files.push(['cpu.weight', String(cpuWeight(r.cpu_shares))])
  if (r.cpu_quota || r.cpu_period) files.push(['cpu.max', `${r.cpu_quota && r.cpu_quota > 0 ? r.cpu_quota : 'max'}${r.cpu_period ? ` ${r.cpu_period}` : ''}`])
  if (r.memory_limit_in_bytes) files.push(['memory.max', r.memory_limit_in_bytes === -1 ? 'max' : String(r.memory_limit_in_bytes)])
  const swap = swapMax(r.memory_swap_limit_in_bytes ?? 0, r.memory_limit_in_bytes, field)
  if (swap !== undefined) files.push(['memory.swap.max', swap])
  for (const h of r.hugepage_limits ?? []) files.push([`hugetlb.${h.page_size}.max`, String(h.limit ?? 0)])
  // unified: the keys are v2 file names already, and go last so that they win, as runc applies them.
  for (const [key, value] of Object.entries(r.unified ?? {})) files.push([key, value])
  return files
}

const readWords = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split(/\s+/).filter(Boolean) : [])

/** Write an existing interface file: a missing one is an error, never a new plain file. */
function writeInterface(file: string, value: string): void {
  const fd = openSync(file, 'r+')
  try {
    writeSync(fd, value)
  } finally {
    closeSync(fd)
  }
}

/**
 * Enable in dir's cgroup.subtree_control every controller dir has, as runc
 * does for each parent: all at once, else one by one; a controller the kernel
 * refuses is left out, and a limit that needs it fails below, by name.
 */
function enableControllers(dir: string): void {
  const wanted = readWords(join(dir, 'cgroup.controllers'))
  if (wanted.length === 0) return
  const file = join(dir, 'cgroup.subtree_control')
  try {
    writeInterface(file, wanted.map((c) => `+${c}`).join(' '))
  } catch {
    for (const c of wanted) {
      try {
        writeInterface(file, `+${c}`)
      } catch {
        // refused (a parent that holds processes, a threaded subtree): see above
      }
    }
  }
}

/**
 * Make the pod cgroup (and its parents), give the controllers down to it and
 * to the cgroups below it (the pause's leaf, the containers'), and write the
 * pod's limits into it. Runs before the runtime makes the pause's leaf.
 */
export function preparePodCgroupV2(podCgroup: string, resources: LinuxContainerResources, mountPoint = '/sys/fs/cgroup'): void {
  const files = v2ResourceFiles(resources)
  let dir = mountPoint
  for (const part of podCgroup.split('/').filter(Boolean)) {
    enableControllers(dir)
    dir = join(dir, part)
    mkdirSync(dir, {recursive: true})
  }
  enableControllers(dir)
  const have = new Set(readWords(join(dir, 'cgroup.controllers')))
  for (const [file, value] of files) {
    const controller = file.split('.')[0]
    if (!have.has(controller)) {
      throw usageError(
        `linux.resources: ${file} needs the ${controller} controller, which the pod cgroup ${podCgroup} does not have`,
        `enable it for the parent (echo +${controller} > <parent>/cgroup.subtree_control), or leave the limit out`,
      )
    }
    try {
      writeInterface(join(dir, file), value)
    } catch (err) {
      throw usageError(`linux.resources: cannot write ${JSON.stringify(value)} to ${join(dir, file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'check the value against the kernel\'s cgroup v2 documentation')
    }
  }
}
