// A streaming tar reader: ustar, pax extended headers (path, linkpath,
// size, uid, gid, mtime, SCHILY.xattr.*) and GNU long names, with base-256
// numbers. It only parses; the caller creates every path itself.

import {PodctlError} from '../runtime/errors.js'

export type EntryType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'dir' | 'fifo'

export interface TarEntry {
  path: string
  type: EntryType
  mode: number
  uid: number
  gid: number
  size: number
  mtime: number
  linkname: string
  devmajor: number
  devminor: number
  xattrs: Record<string, Buffer>
}

/** Reads exact byte counts from an async stream of chunks. */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0)
  private done = false
  private readonly it: AsyncIterator<Buffer>

  constructor(source: AsyncIterable<Buffer>) {
    this.it = source[Symbol.asyncIterator]()
  }

  private async fill(): Promise<boolean> {
    if (this.done) return false
    const r = await this.it.next()
    if (r.done) {
      this.done = true
      return false
    }
    this.buf = this.buf.length === 0 ? r.value : Buffer.concat([this.buf, r.value])
    return true
  }

  /** Exactly n bytes, or null at a clean end of stream; a short read is an error. */
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null
        throw truncated()
      }
    }
    const out = this.buf.subarray(0, n)
    this.buf = this.buf.subarray(n)
    return out
  }

  /** Hand n bytes on in chunks as they come. */
  async pipe(n: number, sink: (chunk: Buffer) => Promise<void> | void): Promise<void> {
    let left = n
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill())) throw truncated()
      const take = Math.min(left, this.buf.length)
      const chunk = this.buf.subarray(0, take)
      this.buf = this.buf.subarray(take)
      left -= take
      await sink(chunk)
    }
  }

  /** Read to the end (trailing padding after the end-of-archive blocks). */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0)
    while (await this.fill()) this.buf = Buffer.alloc(0)
  }
}

const truncated = () => new PodctlError('the layer archive is truncated')

function octal(b: Buffer, off: number, len: number): number {
  const field = b.subarray(off, off + len)
  if (field[0] & 0x80) {
    // base-256: big-endian, the top bit of the first byte marks it
    let v = field[0] & 0x7f
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]
    return v
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new PodctlError(`the layer archive has a bad header field ${JSON.stringify(text)}`)
  return parseInt(text, 8)
}

const str = (b: Buffer, off: number, len: number) => {
  const f = b.subarray(off, off + len)
  const z = f.indexOf(0)
  return f.subarray(0, z < 0 ? f.length : z).toString('utf8')
}

function checksumOk(h: Buffer): boolean {
  const want = octal(h, 148, 8)
  let sum = 0
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]
  return sum === want
}

function parsePax(data: Buffer): Record<string, string | Buffer> {
  const out: Record<string, string | Buffer> = {}
  let off = 0
  while (off < data.length) {
    const sp = data.indexOf(0x20, off)
    if (sp < 0) break
    const len = Number(data.subarray(off, sp).toString())
    if (!Number.isInteger(len) || len <= 0 || off + len > data.length) throw new PodctlError('the layer archive has a bad pax header')
    const rec = data.subarray(sp + 1, off + len - 1)
    const eq = rec.indexOf(0x3d)
    const key = rec.subarray(0, eq).toString('utf8')
    const value = rec.subarray(eq + 1)
    out[key] = key.startsWith('SCHILY.xattr.') ? Buffer.from(value) : value.toString('utf8')
    off += len
  }
  return out
}

const typeOf: Record<string, EntryType> = {'0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'chardev', '4': 'blockdev', '5': 'dir', '6': 'fifo'}

/**
 * Each entry in turn; `body` must consume the entry's data (size bytes) by
 * calling `read.pipe(entry.size, ...)` or skipping it, before the next one.
 */
export async function readTar(reader: ByteReader, onEntry: (entry: TarEntry, data: (sink: (chunk: Buffer) => Promise<void> | void) => Promise<void>) => Promise<void>): Promise<void> {
  let pax: Record<string, string | Buffer> = {}
  let longName: string | undefined
  let longLink: string | undefined
  for (;;) {
    const h = await reader.read(512)
    if (h === null) throw truncated()
    if (h.every((b) => b === 0)) {
      await reader.drain()
      return
    }
    if (!checksumOk(h)) throw new PodctlError('the layer archive has a header with a bad checksum (not a tar, or corrupt)')
    const flag = String.fromCharCode(h[156])
    const size = octal(h, 124, 12)
    const padded = Math.ceil(size / 512) * 512
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > 16 << 20) throw new PodctlError('the layer archive has an extended header larger than 16 MiB')
      const data = (await reader.read(padded))?.subarray(0, size)
      if (!data) throw truncated()
      if (flag === 'x') pax = {...pax, ...parsePax(data)}
      else if (flag === 'L') longName = str(data, 0, data.length)
      else if (flag === 'K') longLink = str(data, 0, data.length)
      continue
    }
    const type = typeOf[flag]
    const magic = h.subarray(257, 263).toString('latin1')
    const prefix = magic.startsWith('ustar') && magic !== 'ustar ' ? str(h, 345, 155) : ''
    let path = longName ?? (prefix ? `${prefix}/${str(h, 0, 100)}` : str(h, 0, 100))
    if (typeof pax.path === 'string') path = pax.path
    const xattrs: Record<string, Buffer> = {}
    for (const [k, v] of Object.entries(pax)) if (k.startsWith('SCHILY.xattr.') && Buffer.isBuffer(v)) xattrs[k.slice(13)] = v
    const entry: TarEntry = {
      path,
      type: type ?? 'file',
      mode: octal(h, 100, 8) & 0o7777,
      uid: typeof pax.uid === 'string' ? Number(pax.uid) : octal(h, 108, 8),
      gid: typeof pax.gid === 'string' ? Number(pax.gid) : octal(h, 116, 8),
      size: typeof pax.size === 'string' ? Number(pax.size) : size,
      mtime: typeof pax.mtime === 'string' ? Number(pax.mtime) : octal(h, 136, 12),
      linkname: typeof pax.linkpath === 'string' ? pax.linkpath : (longLink ?? str(h, 157, 100)),
      devmajor: octal(h, 329, 8),
      devminor: octal(h, 337, 8),
      xattrs,
    }
    pax = {}
    longName = undefined
    longLink = undefined
    const dataSize = entry.type === 'file' ? entry.size : 0
    if (type === undefined) {
      // Unknown entry kinds (GNU sparse, volume labels): refuse rather than guess.
      throw new PodctlError(`the layer archive has an entry "${path}" of unsupported type ${JSON.stringify(flag)}`)
    }
    let consumed = false
    await onEntry(entry, async (sink) => {
      consumed = true
      await reader.pipe(dataSize, sink)
    })
    if (!consumed) await reader.pipe(dataSize, () => undefined)
    const pad = Math.ceil(dataSize / 512) * 512 - dataSize
    if (pad > 0 && (await reader.read(pad)) === null) throw truncated()
    // Non-file entries with a size field keep their (unused) data blocks.
    if (entry.type !== 'file' && size > 0) await reader.pipe(Math.ceil(size / 512) * 512, () => undefined)
  }
}
