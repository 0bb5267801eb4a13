// cgroup paths for pods, on cgroup v1, hybrid and v2 hosts, with the
// cgroupfs driver (podctl runs no systemd units; systemd-style slice names
// given as a parent are mapped to the paths systemd itself would use).

import {readdir, rmdir, statfs} from 'node:fs/promises'
import {join} from 'node:path'

export type CgroupMode = 'v1' | 'hybrid' | 'v2'

const CGROUP2_SUPER_MAGIC = 0x63677270

/** The parent of pods that name none: podctl's own cgroup. */
export const defaultCgroupParent = '/podctl'

export async function detectCgroupMode(mountPoint = '/sys/fs/cgroup'): Promise<CgroupMode> {
  if ((await statfs(mountPoint)).type === CGROUP2_SUPER_MAGIC) return 'v2'
  try {
    if ((await statfs(join(mountPoint, 'unified'))).type === CGROUP2_SUPER_MAGIC) return 'hybrid'
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
    throw new Error(`"${slice}" is not a valid systemd slice name`)
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

/**
 * The cgroupsPath of a pod's pause container for the cgroupfs driver: the
 * pod's own cgroup, named by its ID, under the requested parent. A parent
 * given in systemd form ("/test.slice", "kubepods-burstable.slice") is mapped
 * to the directory systemd would use, so pods land beside the kubelet's.
 */
export function podCgroupsPath(cgroupParent: string | undefined, podSandboxId: string): string {
  const parent = cgroupParent && cgroupParent !== '' ? cgroupParent : defaultCgroupParent
  const base = parent.split('/').filter(Boolean)
  const last = base[base.length - 1] ?? ''
  const dir = last.endsWith('.slice') && base.length === 1 ? expandSlice(last) : '/' + base.join('/')
  return join(dir, podSandboxId)
}

/**
 * Remove a pod's cgroup in every hierarchy, for when the runtime cannot (its
 * state was lost with the run root). Missing is fine; one still holding a
 * live process is an error (EBUSY).
 */
export async function removePodCgroup(cgroupsPath: string, mountPoint = '/sys/fs/cgroup'): Promise<void> {
  const dirs = [join(mountPoint, cgroupsPath)]
  const entries = await readdir(mountPoint, {withFileTypes: true}).catch(() => [])
  for (const e of entries) if (e.isDirectory()) dirs.push(join(mountPoint, e.name, cgroupsPath))
  for (const dir of dirs) {
    await rmdir(dir).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw new Error(`cannot remove cgroup ${dir}: ${err.message}`)
    })
  }
}
