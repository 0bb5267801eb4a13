// The one reader for files a user names (a pod config, --config, a Localhost
// seccomp profile). Such a path can be anything: a FIFO with no writer (an
// open that never returns; in serve, four of them fill node's fs thread pool
// and every later call waits behind them), a device, /proc/self/mem, or a
// path that climbs out of the directory it was meant for. So the reader is
// synchronous (no pool thread to hold), opens with O_NONBLOCK, reads only a
// regular file of bounded size, and only inside `within` when one is given.

import {closeSync, constants, fstatSync, openSync, readFileSync, realpathSync} from 'node:fs'
import {isAbsolute, relative, resolve, sep} from 'node:path'

import {strictUtf8} from './strict-text.js'
import {errnoOf, messageOf, usageError} from './errors.js'

export interface UserFileOptions {
  /** how messages name the file, e.g. `pod config "x.yaml"` */
  what: string
  maxBytes: number
  /** the directory the file must resolve inside (after symlinks), and how messages name it */
  within?: {dir: string; name: string}
}

/** Trees of kernel files whose reads may never end or have side effects. */
const kernelTrees = ['/proc', '/sys', '/dev']

/** Whether an absolute path lies at or under `dir`. */
export function isInside(path: string, dir: string): boolean {
  const rel = relative(dir, path)
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/** The kernel tree (/proc, /sys, /dev) a path is in, after resolving what exists of it. */
export function kernelTreeOf(path: string): string | undefined {
  const real = realpathOfExisting(resolve(path))
  return kernelTrees.find((tree) => isInside(real, tree) || isInside(resolve(path), tree))
}

/** The real path of the longest existing prefix of `path`, with the rest appended. */
function realpathOfExisting(path: string): string {
  const rest: string[] = []
  let at = path
  for (;;) {
    try {
      return [realpathSync(at), ...rest.reverse()].join(sep).replace(/\/+/g, '/')
    } catch {
      const parent = resolve(at, '..')
      if (parent === at) return path
      rest.push(at.slice(parent === '/' ? 1 : parent.length + 1))
      at = parent
    }
  }
}

/** The bytes of a user-named file as text, or a one-line usage error; never the file's content in a message. */
export function readUserFile(file: string, options: UserFileOptions): string {
  const {what, maxBytes, within} = options
  if (within) {
    const dir = resolve(within.dir)
    const lexical = resolve(file)
    let real: string
    try {
      real = realpathSync(lexical)
    } catch {
      real = realpathOfExisting(lexical)
    }
    let realDir: string
    try {
      realDir = realpathSync(dir)
    } catch {
      realDir = dir
    }
    if (!isInside(lexical, dir) || !isInside(real, realDir)) {
      throw usageError(`${what} is outside the ${within.name} ${dir}`, `put the file under ${dir}`)
    }
  }
  let fd
  try {
    // O_NONBLOCK: opening a FIFO with no writer returns at once; the type check refuses it.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY)
  } catch (err) {
    const code = errnoOf(err)
    if (code === 'ENOENT') throw usageError(`${what} not found`)
    if (code === 'EISDIR') throw usageError(`${what} is a directory, not a file`)
    throw usageError(`cannot read ${what}: ${messageOf(err)}`)
  }
  try {
    const st = fstatSync(fd)
    if (st.isDirectory()) throw usageError(`${what} is a directory, not a file`)
    if (!st.isFile()) throw usageError(`${what} is not a regular file`)
    // Kernel files look regular (size 0) but may never end, or change something when read.
    const tree = kernelTreeOf(file)
    if (tree) throw usageError(`${what} is under ${tree}, which podctl does not read user files from`)
    const limit = `${maxBytes}${maxBytes % (1 << 20) === 0 ? ` (${maxBytes >> 20} MiB)` : ''}`
    if (st.size > maxBytes) throw usageError(`${what} is ${st.size} bytes; the limit is ${limit}`)
    const buf = readFileSync(fd)
    if (buf.length > maxBytes) throw usageError(`${what} is over the limit of ${limit}`)
    if (buf.includes(0)) throw usageError(`${what} is not a text file (it contains NUL bytes)`)
    const decoded = strictUtf8(buf)
    if ('badOffset' in decoded) {
      throw usageError(`${what} is not valid UTF-8: byte 0x${decoded.byte.toString(16).padStart(2, '0')} at offset ${decoded.badOffset}`, 'save the file as UTF-8')
    }
    return decoded.text
  } finally {
    closeSync(fd)
  }
}

/**
 * A JSON.parse error without the text it quotes: node's messages include a
 * snippet of the input ("Unexpected token 'r', "root:x:0:0:"... is not valid
 * JSON"), which must not reach a terminal or a CRI client for a file that is
 * not the user's own. Only the position is kept.
 */
export function jsonErrorWithoutContent(err: unknown): string {
  const message = messageOf(err)
  const position = /position (\d+)/.exec(message)?.[1]
  if (position !== undefined) return `syntax error at offset ${position}`
  if (/end of JSON input/i.test(message)) return 'unexpected end of input'
  return 'syntax error'
}
