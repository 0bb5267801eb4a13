// Every CRI client must be served whatever `:authority` it sends, but node's
// HTTP/2 layer (nghttp2, with no option to relax it in node 20) resets any
// request stream whose authority is not a valid URI authority. The Go client
// of crictl and kubelet 1.26, grpc-java and older gRPC C clients send the
// socket path (`/run/podctl/cri.sock`); others send `localhost`, a
// %-encoded path, an empty value or none. On a unix socket the authority
// names nothing, so before the bytes reach grpc-js each request's header
// block is decoded and written again with `:authority: localhost`, which is
// what Kubernetes itself sends over unix sockets.
//
// Why a filter between the socket and grpc-js rather than something else:
// grpc-js takes a ready connection through createConnectionInjector, so the
// filter runs in the same process on the same socket (no second socket, no
// proxy process), and grpc-js stays the gRPC server; RPCs are untouched.
// Only the client-to-server direction is parsed, and in it only HEADERS and
// CONTINUATION frames are changed; every other frame, and the whole
// server-to-client direction, is copied as it is.
//
// HPACK is stateful, so rewriting a header in place would leave nghttp2's
// dynamic table out of step with the client's. Instead the filter keeps the
// client's table itself (it decodes every block, Huffman included) and hands
// grpc-js each block as plain literals "without indexing": nghttp2's dynamic
// table then stays empty, and nothing the client indexes can be misread.
// A block the filter cannot decode, or framing it does not expect, is passed
// on unchanged from there on, so nghttp2 answers it as it would have.

import {Duplex} from 'node:stream'
import type {Socket} from 'node:net'

import {huffmanCodes, huffmanLengths, staticTable} from './hpack-tables.js'

/** What a unix-socket request's `:authority` becomes. */
export const unixAuthority = 'localhost'

const clientPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1')
const frameHeaderBytes = 9
const FRAME_HEADERS = 0x1
const FRAME_CONTINUATION = 0x9
const FLAG_END_STREAM = 0x1
const FLAG_END_HEADERS = 0x4
const FLAG_PADDED = 0x8
const FLAG_PRIORITY = 0x20
/** SETTINGS_MAX_FRAME_SIZE's initial value; node's server does not raise it. */
const maxFramePayload = 16_384
/** Bounds the client's HPACK table; SETTINGS_HEADER_TABLE_SIZE's default is 4096. */
const maxTableSize = 65_536

class HpackError extends Error {}

type Field = {name: string; value: string; neverIndexed: boolean}

/** Huffman codes by bit length, for decoding one bit at a time (header blocks are small). */
const huffmanByLength: Array<Map<number, number>> = (() => {
  const byLength: Array<Map<number, number>> = []
  huffmanCodes.forEach((code, symbol) => {
    const length = huffmanLengths[symbol]
    ;(byLength[length] ??= new Map()).set(code, symbol)
  })
  return byLength
})()

function huffmanDecode(bytes: Buffer): string {
  const out: number[] = []
  let code = 0
  let length = 0
  for (const byte of bytes) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1)
      length++
      const symbol = huffmanByLength[length]?.get(code)
      if (symbol !== undefined) {
        if (symbol === 256) throw new HpackError('EOS in a Huffman string')
        out.push(symbol)
        code = 0
        length = 0
      } else if (length > 30) {
        throw new HpackError('bad Huffman code')
      }
    }
  }
  // What is left must be padding: fewer than 8 bits, all ones (a prefix of EOS).
  if (length > 7 || code !== 2 ** length - 1) throw new HpackError('bad Huffman padding')
  return Buffer.from(out).toString('latin1')
}

/** The client's side of HPACK: decodes its header blocks, keeping its dynamic table. */
export class HpackDecoder {
  private dynamic: Array<[string, string]> = []
  private size = 0
  private maxSize = 4096

  decode(block: Buffer): Field[] {
    const fields: Field[] = []
    let at = 0
    const integer = (prefixBits: number): number => {
      if (at >= block.length) throw new HpackError('truncated integer')
      const max = (1 << prefixBits) - 1
      let value = block[at++] & max
      if (value < max) return value
      let shift = 0
      for (;;) {
        if (at >= block.length) throw new HpackError('truncated integer')
        const byte = block[at++]
        value += (byte & 0x7f) * 2 ** shift
        shift += 7
        if (value > 2 ** 28) throw new HpackError('integer too large')
        if ((byte & 0x80) === 0) return value
      }
    }
    const string = (): string => {
      if (at >= block.length) throw new HpackError('truncated string')
      const huffman = (block[at] & 0x80) !== 0
      const length = integer(7)
      if (at + length > block.length) throw new HpackError('truncated string')
      const bytes = block.subarray(at, at + length)
      at += length
      return huffman ? huffmanDecode(bytes) : bytes.toString('latin1')
    }
    while (at < block.length) {
      const first = block[at]
      if (first & 0x80) {
        const [name, value] = this.entry(integer(7))
        fields.push({name, value, neverIndexed: false})
      } else if ((first & 0xe0) === 0x20) {
        const size = integer(5)
        if (size > maxTableSize) throw new HpackError('table size too large')
        this.maxSize = size
        this.evict()
      } else {
        const indexing = (first & 0xc0) === 0x40
        const index = integer(indexing ? 6 : 4)
        const name = index === 0 ? string() : this.entry(index)[0]
        const value = string()
        if (indexing) this.add(name, value)
        fields.push({name, value, neverIndexed: (first & 0xf0) === 0x10})
      }
    }
    return fields
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError('index 0')
    const entry = index <= staticTable.length ? staticTable[index - 1] : this.dynamic[index - staticTable.length - 1]
    if (!entry) throw new HpackError(`index ${index} is not in the table`)
    return entry
  }

  private add(name: string, value: string): void {
    this.dynamic.unshift([name, value])
    this.size += name.length + value.length + 32
    this.evict()
  }

  private evict(): void {
    while (this.size > this.maxSize) {
      const [name, value] = this.dynamic.pop()!
      this.size -= name.length + value.length + 32
    }
  }
}

function encodeInteger(value: number, prefixBits: number, firstByte: number): number[] {
  const max = (1 << prefixBits) - 1
  if (value < max) return [firstByte | value]
  const out = [firstByte | max]
  let rest = value - max
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  out.push(rest)
  return out
}

/** Every field as a literal without indexing (never indexed where the client said so), no Huffman. */
export function encodeLiterals(fields: readonly Field[]): Buffer {
  const parts: Buffer[] = []
  for (const {name, value, neverIndexed} of fields) {
    const n = Buffer.from(name, 'latin1')
    const v = Buffer.from(value, 'latin1')
    parts.push(Buffer.from([neverIndexed ? 0x10 : 0x00]), Buffer.from(encodeInteger(n.length, 7, 0)), n, Buffer.from(encodeInteger(v.length, 7, 0)), v)
  }
  return Buffer.concat(parts)
}

/** A request's fields with `:authority` set to localhost, added among the pseudo-headers when missing. */
export function withUnixAuthority(fields: readonly Field[]): Field[] {
  if (!fields.some((f) => f.name === ':method')) return [...fields]
  const out = fields.filter((f) => f.name !== ':authority')
  let pseudo = 0
  while (pseudo < out.length && out[pseudo].name.startsWith(':')) pseudo++
  out.splice(pseudo, 0, {name: ':authority', value: unixAuthority, neverIndexed: false})
  return out
}

/** One HTTP/2 frame: the 9-byte header, then the payload. */
export function frame(type: number, flags: number, streamId: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(frameHeaderBytes)
  header.writeUIntBE(payload.length, 0, 3)
  header[3] = type
  header[4] = flags
  header.writeUInt32BE(streamId, 5)
  return Buffer.concat([header, payload])
}

interface PendingBlock {
  streamId: number
  flags: number
  priority: Buffer
  fragments: Buffer[]
  raw: Buffer[]
}

/**
 * The client-to-server byte stream of one connection, frame by frame: header
 * blocks come out re-encoded with a valid authority, the rest as it came.
 */
export class AuthorityFilter {
  private buffered: Buffer = Buffer.alloc(0)
  private prefaceLeft = clientPreface.length
  private pending: PendingBlock | undefined
  private passthrough = false
  private readonly hpack = new HpackDecoder()

  push(chunk: Buffer): Buffer[] {
    if (this.passthrough) return [chunk]
    const out: Buffer[] = []
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk])
    if (this.prefaceLeft > 0) {
      const take = Math.min(this.prefaceLeft, this.buffered.length)
      out.push(this.buffered.subarray(0, take))
      this.buffered = this.buffered.subarray(take)
      this.prefaceLeft -= take
    }
    while (!this.passthrough && this.buffered.length >= frameHeaderBytes) {
      const length = this.buffered.readUIntBE(0, 3)
      if (this.buffered.length < frameHeaderBytes + length) break
      const raw = this.buffered.subarray(0, frameHeaderBytes + length)
      this.buffered = this.buffered.subarray(frameHeaderBytes + length)
      out.push(...this.frame(raw))
    }
    if (this.passthrough && this.buffered.length > 0) {
      out.push(this.buffered)
      this.buffered = Buffer.alloc(0)
    }
    return out
  }

  private frame(raw: Buffer): Buffer[] {
    const type = raw[3]
    const flags = raw[4]
    const streamId = raw.readUInt32BE(5) & 0x7fffffff
    const payload = raw.subarray(frameHeaderBytes)
    if (type === FRAME_HEADERS && !this.pending) {
      let start = 0
      let padding = 0
      if (flags & FLAG_PADDED) {
        padding = payload[0] ?? 0
        start = 1
      }
      const priority = flags & FLAG_PRIORITY ? payload.subarray(start, start + 5) : Buffer.alloc(0)
      start += priority.length
      if (start + padding > payload.length) return this.giveUp([raw])
      this.pending = {streamId, flags, priority, fragments: [payload.subarray(start, payload.length - padding)], raw: [raw]}
    } else if (type === FRAME_CONTINUATION && this.pending?.streamId === streamId) {
      this.pending.fragments.push(payload)
      this.pending.raw.push(raw)
    } else if (this.pending) {
      return this.giveUp([...this.pending.raw, raw])
    } else {
      return [raw]
    }
    if ((flags & FLAG_END_HEADERS) === 0) return []
    const block = this.pending
    this.pending = undefined
    let fields: Field[]
    try {
      fields = this.hpack.decode(Buffer.concat(block.fragments))
    } catch (err) {
      if (err instanceof HpackError) return this.giveUp(block.raw)
      throw err
    }
    return this.headerFrames(block, encodeLiterals(withUnixAuthority(fields)))
  }

  private headerFrames(block: PendingBlock, encoded: Buffer): Buffer[] {
    const flags = block.flags & (FLAG_END_STREAM | FLAG_PRIORITY)
    const firstRoom = maxFramePayload - block.priority.length
    const frames = [frame(FRAME_HEADERS, flags, block.streamId, Buffer.concat([block.priority, encoded.subarray(0, firstRoom)]))]
    for (let at = firstRoom; at < encoded.length; at += maxFramePayload) {
      frames.push(frame(FRAME_CONTINUATION, 0, block.streamId, encoded.subarray(at, at + maxFramePayload)))
    }
    frames[frames.length - 1][4] |= FLAG_END_HEADERS
    return frames
  }

  private giveUp(raw: Buffer[]): Buffer[] {
    this.passthrough = true
    this.pending = undefined
    return raw
  }
}

/** The socket as grpc-js should see it: the client's bytes through an AuthorityFilter. */
export function withValidAuthority(socket: Socket): Duplex {
  const filter = new AuthorityFilter()
  const inner = new Duplex({
    read: () => socket.resume(),
    write: (chunk: Buffer, _encoding, done) => (socket.write(chunk) ? done() : socket.once('drain', () => done())),
    final: (done) => socket.end(done),
    destroy: (err, done) => {
      socket.destroy()
      done(err)
    },
  })
  socket.on('data', (chunk: Buffer) => {
    let more = true
    for (const out of filter.push(chunk)) more = inner.push(out) && more
    if (!more) socket.pause()
  })
  socket.on('end', () => inner.push(null))
  socket.on('error', (err) => inner.destroy(err))
  socket.on('close', () => inner.destroy())
  return inner
}
