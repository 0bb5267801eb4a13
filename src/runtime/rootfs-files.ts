// Reading a file of a container's rootfs from the host, as the container
// would see it: the image decides what /etc/passwd is, and may make it (or
// /etc) a symlink, "/etc/passwd -> /host/secret" or "../../../../etc/shadow".
// Each component is looked up under the rootfs and a symlink's target is
// resolved against the rootfs, ".." stopping at its top (as runc's and
// containerd's filepath-securejoin): nothing outside the rootfs is read.
// The rootfs is freshly mounted and no process runs in it yet, so the
// lookup cannot be raced.

import {closeSync, constants, fstatSync, lstatSync, openSync, readFileSync, readlinkSync} from 'node:fs'

import {errnoOf, messageOf, usageError} from './errors.js'

const maxLinks = 40

/** The host path of `path` inside `root`, symlinks resolved within it; a missing tail is kept as it is. */
export function resolveInRoot(root: string, path: string): string {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.')
  const at: string[] = []
  let links = 0
  while (pending.length > 0) {
    const part = pending.shift()!
    if (part === '.') continue
    if (part === '..') {
      at.pop()
      continue
    }
    const host = [root, ...at, part].join('/')
    let isLink: boolean
    try {
      isLink = lstatSync(host).isSymbolicLink()
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') throw err
      return [root, ...at, part, ...pending].join('/')
    }
    if (!isLink) {
      at.push(part)
      continue
    }
    if (++links > maxLinks) throw usageError(`"${path}" in the image has more than ${maxLinks} symbolic links in a row`)
    const target = readlinkSync(host)
    if (target.startsWith('/')) at.length = 0
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'))
  }
  return [root, ...at].join('/')
}

/** A regular file of the rootfs as text, or undefined when there is none; bounded, never a FIFO or device. */
export function readRootfsFile(root: string, path: string, maxBytes: number): string | undefined {
  const host = resolveInRoot(root, path)
  let fd
  try {
    // O_NOFOLLOW: resolveInRoot followed every link already; O_NONBLOCK: a FIFO does not block the open.
    fd = openSync(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined
    throw usageError(`cannot read ${path} of the image: ${messageOf(err)}`)
  }
  try {
    const st = fstatSync(fd)
    if (!st.isFile()) throw usageError(`${path} of the image is not a regular file`)
    if (st.size > maxBytes) throw usageError(`${path} of the image is ${st.size} bytes; podctl reads at most ${maxBytes}`)
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}
