// The host device nodes a container config's `devices` name, as containerd's
// oci.WithDevices finds them: the host path's symlinks resolved, a character
// or block device taken with its major, minor, mode and owner, a directory
// walked for the devices under it (/dev/snd → /dev/snd/*). Gathered before
// the pure spec builder, which makes each one a node in the container and
// a rule in its devices cgroup.

import {appendFileSync, lstatSync, readdirSync, realpathSync, type BigIntStats} from 'node:fs'
import {join} from 'node:path'

import type {Device} from '../cri/container-types.js'
import {errnoOf, messageOf, PodctlError, usageError} from './errors.js'

export interface HostDevice {
  /** where it appears in the container */
  containerPath: string
  type: 'c' | 'b'
  major: number
  minor: number
  /** the node's permission bits */
  fileMode: number
  uid: number
  gid: number
  /** the cgroup access: some of r, w, m */
  access: string
}

/** glibc's major() and minor() of a dev_t. */
export const devMajor = (rdev: bigint): number => Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn))
export const devMinor = (rdev: bigint): number => Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn))

function deviceOf(st: BigIntStats, containerPath: string, access: string): HostDevice | undefined {
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined
  if (!type) return undefined
  return {containerPath, type, major: devMajor(st.rdev), minor: devMinor(st.rdev), fileMode: Number(st.mode & 0o777n), uid: Number(st.uid), gid: Number(st.gid), access}
}

/** Each config device as the host's nodes; `where` names the config in errors. */
export function hostDevicesOf(devices: Device[], where: string): HostDevice[] {
  const out: HostDevice[] = []
  for (const [i, d] of devices.entries()) {
    const field = `${where}: devices[${i}].host_path`
    const access = d.permissions || 'rwm'
    let real: string
    let st: BigIntStats
    try {
      real = realpathSync(d.host_path ?? '')
      st = lstatSync(real, {bigint: true})
    } catch (err) {
      if (errnoOf(err) === 'ENOENT') throw usageError(`${field}: "${d.host_path}" does not exist`, 'name a device node of this host, as /dev/fuse')
      throw usageError(`${field}: cannot stat "${d.host_path}": ${messageOf(err)}`)
    }
    if (st.isDirectory()) {
      // containerd: every device node under the directory, at the same place under container_path.
      const walk = (dir: string, rel: string) => {
        for (const e of readdirSync(dir, {withFileTypes: true})) {
          const host = join(dir, e.name)
          if (e.isDirectory()) walk(host, join(rel, e.name))
          else {
            const dev = deviceOf(lstatSync(host, {bigint: true}), join(d.container_path ?? '', rel, e.name), access)
            if (dev) out.push(dev)
          }
        }
      }
      walk(real, '')
      continue
    }
    const dev = deviceOf(st, d.container_path ?? '', access)
    if (!dev) throw usageError(`${field}: "${d.host_path}" is not a device node (a character or block device)`, 'name a device node, as /dev/fuse')
    out.push(dev)
  }
  return out
}

/**
 * On cgroup v1 the devices controller is hierarchical and the pause lives in
 * the pod's cgroup itself, with runc's default list: a container below it
 * cannot be granted a device its parent lacks. So each device's rule is
 * added to the pod's cgroup first (the pause may then open it too; it runs
 * nothing but the pause binary, and its /dev has no such node). On v2 the
 * pause is in a leaf of its own and the pod's cgroup has no device program.
 */
export function allowInPodCgroup(devices: HostDevice[], podCgroup: string, v2: boolean, mountPoint = '/sys/fs/cgroup'): void {
  if (v2 || devices.length === 0) return
  const file = join(mountPoint, 'devices', podCgroup, 'devices.allow')
  for (const d of devices) {
    const rule = `${d.type} ${d.major}:${d.minor} ${d.access}`
    try {
      appendFileSync(file, rule)
    } catch (err) {
      throw new PodctlError(`cannot allow device "${d.containerPath}" (${rule}) in the pod's cgroup ${file}: ${messageOf(err)}`)
    }
  }
}
