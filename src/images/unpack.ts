// Unpack one layer into an empty directory, as overlayfs wants a lower
// layer: whiteout files become whiteouts (a 0/0 character device), an
// opaque marker becomes trusted.overlay.opaque=y on its directory. Every
// path is created here, never through a symlink or outside the directory;
// owners, modes, times, xattrs, hard links and device nodes are kept.

import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {chmodSync, closeSync, constants, fchmodSync, fchownSync, futimesSync, lchownSync, linkSync, lutimesSync, mkdirSync, openSync, readFileSync, rmSync, symlinkSync, utimesSync, writevSync} from 'node:fs'
import {join} from 'node:path'
import {PassThrough, type Duplex} from 'node:stream'
import {promisify} from 'node:util'
import {createGunzip} from 'node:zlib'

import {errnoOf, messageOf, PodctlError} from '../runtime/errors.js'
import {ByteReader, readTar, type TarEntry} from './tar.js'

const run = promisify(execFile)

const whiteoutPrefix = '.wh.'
const opaqueMarker = '.wh..wh..opq'

/** A layer path as components, refusing any that climb out ("../"). */
export function layerPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.')
  if (parts.includes('..')) throw new PodctlError(`the layer has an entry ${JSON.stringify(path)} that escapes the layer ("..")`)
  return parts
}

export interface UnpackResult {
  entries: number
  bytes: number
}

/** What writes a layer's files from its tar stream into `dir`, as unpackLayer does. */
export type LayerWriter = (source: AsyncIterable<Buffer>, dir: string) => Promise<unknown>

/** Unpack the tar stream into `dir` (which must exist and be empty). */
export async function unpackLayer(source: AsyncIterable<Buffer>, dir: string): Promise<UnpackResult> {
  // What this layer made at each path: only directories it made (or the root) may hold entries.
  const kinds = new Map<string, 'dir' | 'other'>([['', 'dir']])
  const dirAttrs = new Map<string, TarEntry>()
  const opaque = new Set<string>()
  const made = creator()
  let entries = 0
  let bytes = 0

  const parentOf = async (parts: string[], path: string): Promise<void> => {
    // A parent this layer made as a directory has had its own parents checked (clear() forgets a replaced one's children).
    if (parts.length === 1 || kinds.get(parts.slice(0, -1).join('/')) === 'dir') return
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/')
      const kind = kinds.get(p)
      if (kind === 'dir') continue
      if (kind === 'other') throw new PodctlError(`the layer has an entry "${path}" under "${p}", which is not a directory (a path through a symlink is refused)`)
      mkdirSync(join(dir, p), {mode: 0o755})
      kinds.set(p, 'dir')
    }
  }

  const clear = async (rel: string) => {
    const kind = kinds.get(rel)
    if (kind === undefined) return
    rmSync(join(dir, rel), {recursive: true, force: true})
    kinds.delete(rel)
    for (const k of [...kinds.keys()]) if (k.startsWith(`${rel}/`)) kinds.delete(k)
  }

  await readTar(new ByteReader(source), async (e, data) => {
    entries++
    const parts = layerPath(e.path)
    const rel = parts.join('/')
    if (rel === '') {
      if (e.type === 'dir') dirAttrs.set('', e)
      return
    }
    await parentOf(parts, e.path)
    const name = parts[parts.length - 1]
    const parent = parts.slice(0, -1).join('/')
    if (name === opaqueMarker) {
      opaque.add(parent)
      return
    }
    if (name.startsWith(whiteoutPrefix)) {
      const hidden = [...parts.slice(0, -1), name.slice(whiteoutPrefix.length)].join('/')
      if (name.length === whiteoutPrefix.length || name.slice(whiteoutPrefix.length).includes('/')) throw new PodctlError(`the layer has a bad whiteout "${e.path}"`)
      await clear(hidden)
      await mknod(join(dir, hidden), 'c', 0, 0, 0)
      kinds.set(hidden, 'other')
      return
    }
    const target = join(dir, rel)
    if (e.type === 'dir') {
      if (kinds.get(rel) !== 'dir') {
        await clear(rel)
        mkdirSync(target, {mode: 0o700})
        kinds.set(rel, 'dir')
      }
      dirAttrs.set(rel, e)
      return
    }
    await clear(rel)
    switch (e.type) {
      case 'file': {
        // Created with its mode, and its owner, mode and times set through the open file: no path lookups, and no
        // chown or chmod that would change nothing (most files are root's, with a mode the umask leaves as it is).
        const fd = openSync(target, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, e.mode & 0o777)
        try {
          await data((chunk) => {
            bytes += chunk.length
            let off = 0
            while (off < chunk.length) off += writevSync(fd, [off === 0 ? chunk : chunk.subarray(off)])
          })
          const chowned = e.uid !== made.uid || e.gid !== made.gid
          if (chowned) fchownSync(fd, e.uid, e.gid)
          // After the chown, which clears the set-user-ID and set-group-ID bits.
          if ((e.mode & 0o7000) !== 0 || (e.mode & made.umask) !== 0) fchmodSync(fd, e.mode)
          futimesSync(fd, e.mtime, e.mtime)
        } finally {
          closeSync(fd)
        }
        kinds.set(rel, 'other')
        for (const [name, value] of Object.entries(e.xattrs)) await setXattr(target, name, value)
        return
      }
      case 'hardlink': {
        const linkParts = layerPath(e.linkname)
        const to = linkParts.join('/')
        if (kinds.get(to) !== 'other') throw new PodctlError(`the layer has a hard link "${e.path}" to "${e.linkname}", which is not a file earlier in the layer`)
        linkSync(join(dir, to), target)
        kinds.set(rel, 'other')
        return
      }
      case 'symlink':
        symlinkSync(e.linkname, target)
        break
      case 'chardev':
      case 'blockdev':
        await mknod(target, e.type === 'chardev' ? 'c' : 'b', e.devmajor, e.devminor, e.mode)
        break
      case 'fifo':
        await mknod(target, 'p', 0, 0, e.mode)
        break
    }
    kinds.set(rel, 'other')
    await attributes(target, e, made)
  })

  // Directories last: writing into one changes its times, and a read-only mode would stop the writes.
  for (const rel of opaque) await setXattr(join(dir, rel), 'trusted.overlay.opaque', Buffer.from('y'))
  for (const [rel, e] of [...dirAttrs].sort((a, b) => b[0].length - a[0].length)) await attributes(join(dir, rel), e, made)
  return {entries, bytes}
}

/**
 * Unpack a layer blob as it arrives: `source` (the compressed bytes, from
 * the network or a file) is fed to gunzip while the tar is written out, so
 * reading, inflating and writing overlap. The source is always read to its
 * end, also when the unpack fails (the caller verifies the blob's digest
 * over every byte), unless the source itself fails. Returns the diff ID
 * (the sha256 of the uncompressed tar). `write` makes the files of the tar
 * stream: unpackLayer here, or the unpack thread's (./unpack-thread.ts).
 */
export async function unpackCompressed(source: AsyncIterable<Buffer>, gzip: boolean, dir: string, write: LayerWriter = unpackLayer): Promise<string> {
  const diffHash = createHash('sha256')
  // Large inflate chunks: per-chunk overhead dominated unpacking with the default 16 KiB.
  const inflate: Duplex = gzip ? createGunzip({chunkSize: 256 << 10}) : new PassThrough({highWaterMark: 1 << 20})
  // The inflater ended (gunzip stops at trailing bytes after its member) or the unpack failed: the rest is only read.
  let stopped = false
  const stop = () => {
    stopped = true
  }
  inflate.on('end', stop).on('close', stop).on('error', stop)
  const feed = (async () => {
    try {
      for await (const chunk of source) {
        if (stopped) continue
        if (!inflate.write(chunk)) await drained(inflate)
      }
      if (!stopped) inflate.end()
    } catch (err) {
      inflate.destroy(err as Error)
      throw err
    }
  })()
  feed.catch(() => undefined)
  const tar = (async function* () {
    for await (const chunk of inflate) {
      diffHash.update(chunk as Buffer)
      yield chunk as Buffer
    }
  })()
  try {
    await write(tar, dir)
  } catch (err) {
    stop()
    inflate.destroy()
    await feed
    throw err
  }
  await feed
  return `sha256:${diffHash.digest('hex')}`
}

function drained(stream: Duplex): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done).off('close', done).off('error', done).off('end', done)
      resolve()
    }
    stream.on('drain', done).on('close', done).on('error', done).on('end', done)
  })
}

/**
 * Who owns what this process creates, and the bits its umask takes from a
 * new file's mode (all of them when /proc cannot say). A new inode is the
 * creator's effective user's and group's: no directory of a layer being
 * unpacked has its set-group-ID bit yet (they are made 0700, their modes set
 * last), so none hands its group down.
 */
function creator(): {uid: number; gid: number; umask: number} {
  let umask: string | undefined
  try {
    umask = /^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]
  } catch {
    umask = undefined
  }
  return {uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1, umask: umask === undefined ? 0o777 : parseInt(umask, 8)}
}

async function attributes(path: string, e: TarEntry, made: {uid: number; gid: number}): Promise<void> {
  if (e.uid !== made.uid || e.gid !== made.gid) lchownSync(path, e.uid, e.gid)
  // chmod after chown: chown clears the set-user-ID and set-group-ID bits.
  if (e.type !== 'symlink') chmodSync(path, e.mode)
  for (const [name, value] of Object.entries(e.xattrs)) await setXattr(path, name, value)
  if (e.type === 'symlink') lutimesSync(path, e.mtime, e.mtime)
  else utimesSync(path, e.mtime, e.mtime)
}

async function mknod(path: string, kind: 'c' | 'b' | 'p', major: number, minor: number, mode: number): Promise<void> {
  const args = ['-m', (mode & 0o7777).toString(8), path, kind, ...(kind === 'p' ? [] : [String(major), String(minor)])]
  try {
    await run('mknod', args)
  } catch (err) {
    throw new PodctlError(`cannot create device node "${path}": ${messageOf(err).split('\n')[0]}`, {cause: err})
  }
}

/** node has no setxattr(2): setfattr (package attr), never following a symlink. */
async function setXattr(path: string, name: string, value: Buffer): Promise<void> {
  try {
    await run('setfattr', ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, path])
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') throw new PodctlError('setfattr is not installed: it writes the layers\' xattrs', {exitCode: 4, hint: 'apt-get install attr'})
    throw new PodctlError(`cannot set xattr ${name} on "${path}": ${messageOf(err).split('\n')[0]}`, {cause: err})
  }
}
