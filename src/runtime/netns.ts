// Pinned network namespaces. Node cannot unshare(2) on a thread, so the
// namespace is made by util-linux `unshare --net=<file>`, which creates it
// and bind-mounts it onto the file (as `ip netns add` does, but under
// podctl's own run root, so it never mixes with a user's namespaces).

import {constants, readFileSync, statSync} from 'node:fs'
import {mkdir, open, unlink} from 'node:fs/promises'
import {dirname} from 'node:path'

import {errnoOf, PodctlError} from './errors.js'
import {type OpContext, run} from './exec.js'

export async function createNetns(ctx: OpContext, path: string): Promise<void> {
  await mkdir(dirname(path), {recursive: true, mode: 0o711})
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o444)
  await handle.close()
  const result = await run(ctx, 'unshare', [`--net=${path}`, 'true'])
  if (result.exitCode !== 0) {
    await unlink(path).catch(() => undefined)
    throw new PodctlError(`failed to create network namespace "${path}": ${result.stderr || `unshare exited ${result.exitCode}`}`)
  }
}

/**
 * Pin the namespace a live process is in onto `path` again: the netns file of
 * a pod whose mount was removed by hand while its pause still holds the
 * namespace, so that CNI DEL can enter it and see the pod's interface (bridge
 * finds the masquerade rules to remove by its addresses).
 */
export async function repinNetns(ctx: OpContext, pid: number, path: string): Promise<void> {
  // A process in the host's namespace (a record edited to name one) has no namespace of the pod's to pin.
  if (statSync(`/proc/${pid}/ns/net`).ino === statSync('/proc/self/ns/net').ino) throw new PodctlError(`PID ${pid} is in the host's network namespace`)
  await mkdir(dirname(path), {recursive: true, mode: 0o711})
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o444)
  await handle.close()
  const result = await run(ctx, 'mount', ['--bind', `/proc/${pid}/ns/net`, path])
  if (result.exitCode !== 0) throw new PodctlError(`failed to pin the network namespace of PID ${pid} to "${path}": ${result.stderr || `mount exited ${result.exitCode}`}`)
}

/** Unmount and delete; a namespace already gone is not an error. */
export async function removeNetns(ctx: OpContext, path: string): Promise<void> {
  if (isMountPoint(path)) {
    // Lazy: a process still inside (a dying pause) must not make stop fail.
    const result = await run(ctx, 'umount', ['--lazy', path])
    if (result.exitCode !== 0 && isMountPoint(path)) {
      throw new PodctlError(`failed to unmount network namespace "${path}": ${result.stderr}`)
    }
  }
  try {
    await unlink(path)
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT') throw new PodctlError(`failed to remove network namespace file "${path}": ${(err as Error).message}`)
  }
}

/**
 * Whether something is mounted at exactly this path (reads /proc/self/mountinfo).
 * Synchronously: the stop path asks before CNI DEL, and a read on the thread
 * pool (open, read, close, each a round trip) waited behind the runtime
 * process the other lane was starting, 12-17 ms.
 */
export function isMountPoint(path: string): boolean {
  return mountPoints(readFileSync('/proc/self/mountinfo', 'utf8')).has(path)
}

/** Mount points from mountinfo text (field 5, octal escapes decoded). */
export function mountPoints(mountinfo: string): Set<string> {
  const points = new Set<string>()
  for (const line of mountinfo.split('\n')) {
    const field = line.split(' ')[4]
    if (field) points.add(field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))))
  }
  return points
}
