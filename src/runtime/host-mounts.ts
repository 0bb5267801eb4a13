// Host facts a container's mounts depend on, gathered before the pure spec
// builder runs: each host path as it will be bind-mounted (created when
// absent and its symlinks resolved, as containerd's WithMounts does), the
// host mount it lies on with that mount's propagation (from
// /proc/self/mountinfo, as containerd's LookupMount), and whether SELinux is
// enforcing (a mount's selinux_relabel asks for a relabel podctl cannot do).

import {mkdirSync, readFileSync, realpathSync, statSync} from 'node:fs'

import type {Mount} from '../cri/container-types.js'
import {MountPropagation} from '../cri/container-types.js'
import {errnoOf, messageOf, usageError} from './errors.js'
import {isInside} from './user-file.js'

export interface HostMount {
  /** the host path with its symlinks resolved: what is bind-mounted */
  source: string
  /** the mount point of the host mount the source lies on */
  mountPoint: string
  /** that mount's optional fields: "shared:N", "master:N", "propagate_from:N", "unbindable" */
  optional: string[]
}

export interface MountInfoEntry {
  mountPoint: string
  optional: string[]
}

/** mountinfo escapes space, tab, newline and backslash in paths as \ooo. */
const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)))

/** The lines of /proc/<pid>/mountinfo: "id parent maj:min root mountpoint options [optional...] - fstype source superopts". */
export function parseMountInfo(text: string): MountInfoEntry[] {
  const out: MountInfoEntry[] = []
  for (const line of text.split('\n')) {
    const fields = line.split(' ')
    const dash = fields.indexOf('-', 6)
    if (fields.length < 7 || dash < 0) continue
    out.push({mountPoint: unescape(fields[4]), optional: fields.slice(6, dash).filter(Boolean)})
  }
  return out
}

/** The mount a path lies on: the deepest mount point above it, the last of a stack (the one on top). */
export function mountOf(path: string, entries: MountInfoEntry[]): MountInfoEntry | undefined {
  let found: MountInfoEntry | undefined
  for (const e of entries) if (isInside(path, e.mountPoint) && (!found || e.mountPoint.length >= found.mountPoint.length)) found = e
  return found
}

export const isShared = (m: Pick<HostMount, 'optional'>) => m.optional.some((o) => o.startsWith('shared:'))
export const isSlave = (m: Pick<HostMount, 'optional'>) => m.optional.some((o) => o.startsWith('master:'))

/**
 * Each mount's host path, keyed by the config's host_path. A path that does
 * not exist is created as a directory (0755), as containerd does: kubelet's
 * hostPath volumes count on it.
 */
export function hostMountsOf(mounts: Mount[], where: string): Record<string, HostMount> {
  const out: Record<string, HostMount> = {}
  let info: MountInfoEntry[] | undefined
  for (const [i, m] of mounts.entries()) {
    const given = m.host_path ?? ''
    if (out[given]) continue
    try {
      statSync(given)
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw usageError(`${where}: mounts[${i}].host_path: cannot stat "${given}": ${messageOf(err)}`)
      try {
        mkdirSync(given, {recursive: true, mode: 0o755})
      } catch (mkErr) {
        throw usageError(`${where}: mounts[${i}].host_path: "${given}" does not exist and cannot be created: ${messageOf(mkErr)}`)
      }
    }
    const source = realpathSync(given)
    let mountPoint = '/'
    let optional: string[] = []
    if ((m.propagation ?? MountPropagation.PROPAGATION_PRIVATE) !== MountPropagation.PROPAGATION_PRIVATE) {
      info ??= parseMountInfo(readFileSync('/proc/self/mountinfo', 'utf8'))
      const entry = mountOf(source, info)
      if (entry) ({mountPoint, optional} = entry)
    }
    out[given] = {source, mountPoint, optional}
  }
  return out
}

export type SelinuxMode = 'disabled' | 'permissive' | 'enforcing'

/** SELinux as the kernel reports it: selinuxfs's enforce file, absent when SELinux is off. */
export function selinuxMode(): SelinuxMode {
  try {
    return readFileSync('/sys/fs/selinux/enforce', 'utf8').trim() === '1' ? 'enforcing' : 'permissive'
  } catch {
    return 'disabled'
  }
}
