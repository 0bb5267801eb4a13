// The server side of SPDY/3.1 as kubelet's streaming clients speak it
// (moby/spdystream, under client-go's SPDY round tripper: crictl exec,
// attach and port-forward, and a kubelet proxying them). The peer opens every
// stream; this side replies, moves bytes, echoes pings and says GOAWAY at
// the end. There is no flow control: spdystream sends no WINDOW_UPDATE and
// honours none, so a sender that waited for window would stall it.
//
//   control frame  1 | version 3 (15 bits) | type (16) | flags (8) | length (24) | payload
//   data frame     0 | stream ID (31 bits) | flags (8) | length (24) | data
//
// Header blocks (SYN_STREAM, SYN_REPLY, HEADERS) are zlib with SPDY's
// dictionary, one context per direction for the life of the connection, each
// block ended by a sync flush: every block must go through the context in
// order, including blocks of frames that are otherwise ignored.

import {EventEmitter} from 'node:events'
import type {Socket} from 'node:net'
import {Duplex} from 'node:stream'
import {constants as zlibConstants, createDeflate, createInflate, type Deflate, type Inflate} from 'node:zlib'

import {spdyDictionary} from './spdy-dictionary.js'

export const frameType = {synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goaway: 7, headers: 8, windowUpdate: 9} as const

/** RST_STREAM status codes (SPDY/3 §2.6.3). */
export const rstStatus = {protocolError: 1, invalidStream: 2, refusedStream: 3, cancel: 5, internalError: 6} as const

const flagFin = 0x01
const spdyVersion = 3
/** The 24-bit length field's limit. */
const maxFrameData = 0xffffff
/** A header block (compressed or not) larger than this is a protocol error: Kubernetes' carry three short headers. */
const maxHeaderBlock = 256 * 1024

export type Frame = {kind: 'data'; streamId: number; flags: number; data: Buffer} | {kind: 'control'; type: number; flags: number; payload: Buffer}

export class SpdyProtocolError extends Error {}

/** Frames out of a byte stream, as they complete. */
export class FrameParser {
  private pending: Buffer = Buffer.alloc(0)

  push(chunk: Buffer): Frame[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk])
    const frames: Frame[] = []
    while (buf.length >= 8) {
      const length = buf.readUIntBE(5, 3)
      const flags = buf[4]
      const control = (buf[0] & 0x80) !== 0
      if (control) {
        const version = buf.readUInt16BE(0) & 0x7fff
        if (version !== spdyVersion) throw new SpdyProtocolError(`SPDY version ${version} is not supported (3 is)`)
        if (length > maxHeaderBlock + 12) throw new SpdyProtocolError(`a control frame of ${length} bytes is too large`)
      }
      if (buf.length < 8 + length) break
      const body = buf.subarray(8, 8 + length)
      frames.push(control ? {kind: 'control', type: buf.readUInt16BE(2), flags, payload: body} : {kind: 'data', streamId: buf.readUInt32BE(0) & 0x7fffffff, flags, data: body})
      buf = buf.subarray(8 + length)
    }
    this.pending = buf
    return frames
  }
}

export function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt16BE(0x8000 | spdyVersion, 0)
  head.writeUInt16BE(type, 2)
  head[4] = flags
  head.writeUIntBE(payload.length, 5, 3)
  return Buffer.concat([head, payload])
}

export function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(streamId & 0x7fffffff, 0)
  head[4] = flags
  head.writeUIntBE(data.length, 5, 3)
  return Buffer.concat([head, data])
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32BE(n >>> 0)
  return b
}

/** An uncompressed header block: a count, then each name and value with its length. */
export function encodeHeaderBlock(headers: Record<string, string>): Buffer {
  const parts = [u32(Object.keys(headers).length)]
  for (const [name, value] of Object.entries(headers)) {
    const n = Buffer.from(name.toLowerCase(), 'latin1')
    const v = Buffer.from(value, 'latin1')
    parts.push(u32(n.length), n, u32(v.length), v)
  }
  return Buffer.concat(parts)
}

/** Header names as sent (lower case), each with its first value (a value holds several separated by NUL). */
export function decodeHeaderBlock(block: Buffer): Record<string, string> {
  const headers: Record<string, string> = {}
  let at = 0
  const take = (): Buffer => {
    if (at + 4 > block.length) throw new SpdyProtocolError('a header block is truncated')
    const length = block.readUInt32BE(at)
    if (at + 4 + length > block.length) throw new SpdyProtocolError('a header block is truncated')
    const out = block.subarray(at + 4, at + 4 + length)
    at += 4 + length
    return out
  }
  if (block.length < 4) throw new SpdyProtocolError('a header block is truncated')
  const count = block.readUInt32BE(0)
  at = 4
  for (let i = 0; i < count; i++) {
    const name = take().toString('latin1')
    const value = take().toString('latin1')
    if (name === '' || name !== name.toLowerCase()) throw new SpdyProtocolError(`header name ${JSON.stringify(name)} is not lower case`)
    headers[name] = value.split('\0')[0]
  }
  return headers
}

/** Runs one zlib context (deflate or inflate) block by block, each block ending in a sync flush. */
class ZlibContext {
  private tail: Promise<unknown> = Promise.resolve()
  private chunks: Buffer[] = []
  private size = 0
  private failure: Error | undefined

  constructor(private readonly z: Deflate | Inflate) {
    z.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk)
      this.size += chunk.length
    })
    z.on('error', (err: Error) => {
      this.failure = err
    })
  }

  /** Blocks are processed in the order given, whatever the caller awaits. */
  run(block: Buffer): Promise<Buffer> {
    const result = this.tail.then(
      () =>
        new Promise<Buffer>((resolve, reject) => {
          const failed = (err: Error) => reject(new SpdyProtocolError(`a header block cannot be (de)compressed: ${err.message}`))
          if (this.failure) return failed(this.failure)
          // A zlib error destroys the stream: the flush below never calls back.
          this.z.once('error', failed)
          this.z.write(block)
          this.z.flush(zlibConstants.Z_SYNC_FLUSH, () => {
            this.z.off('error', failed)
            const out = Buffer.concat(this.chunks)
            const size = this.size
            this.chunks = []
            this.size = 0
            if (size > maxHeaderBlock) reject(new SpdyProtocolError(`a header block of more than ${maxHeaderBlock} bytes`))
            else resolve(out)
          })
        }),
    )
    this.tail = result.catch(() => undefined)
    return result
  }

  close(): void {
    this.z.close()
  }
}

export class HeaderCompressor extends ZlibContext {
  constructor() {
    super(createDeflate({dictionary: spdyDictionary, level: 9}))
  }
}

export class HeaderDecompressor extends ZlibContext {
  constructor() {
    super(createInflate({dictionary: spdyDictionary}))
  }
}

/** What serves the streams of one connection: port-forward, or exec and attach. */
export interface StreamSession {
  /** The connection is up (after 101). */
  begin(conn: SpdyConnection): void
  onStream(stream: SpdyStream): void
  /** The connection is gone. */
  close(): void
}

export interface ConnectionOptions {
  /** A new stream from the peer: accept() or reset() it. */
  onStream: (stream: SpdyStream) => void
  /** Close a connection that carried no frame for this long. */
  idleTimeoutMs: number
  log: (message: string) => void
}

/** One upgraded connection. 'close' when the socket is gone. */
export class SpdyConnection extends EventEmitter {
  private readonly parser = new FrameParser()
  private readonly inflate = new HeaderDecompressor()
  private readonly deflate = new HeaderCompressor()
  private readonly streams = new Map<number, SpdyStream>()
  private lastStreamId = 0
  /** Frames wait here while a header block is being decompressed, so that they are handled in order. */
  private readonly inbound: Frame[] = []
  private busy = false
  /** Writes wait behind a header block being compressed, so that a SYN_REPLY precedes its stream's data. */
  private outboundTail: Promise<void> | null = null
  private outboundPending = 0
  private pausedBy = new Set<SpdyStream>()
  private closing = false
  closed = false

  constructor(
    readonly socket: Socket,
    head: Buffer,
    private readonly options: ConnectionOptions,
  ) {
    super()
    socket.setNoDelay(true)
    socket.setTimeout(options.idleTimeoutMs, () => {
      options.log(`closing a streaming connection idle for ${options.idleTimeoutMs} ms`)
      this.close()
    })
    socket.on('data', (chunk: Buffer) => this.receive(chunk))
    socket.on('error', (err) => options.log(`streaming connection: ${err.message}`))
    socket.on('end', () => this.close())
    socket.on('close', () => this.teardown())
    if (head.length > 0) this.receive(head)
  }

  /** GOAWAY, then end the socket; streams still open are destroyed once it closes. */
  close(status = 0): void {
    if (this.closing) return
    this.closing = true
    const payload = Buffer.alloc(8)
    payload.writeUInt32BE(this.lastStreamId, 0)
    payload.writeUInt32BE(status, 4)
    this.send(controlFrame(frameType.goaway, 0, payload))
    this.afterWrites(() => {
      this.socket.end()
      // A peer that never closes its side does not keep the socket.
      setTimeout(() => this.socket.destroy(), 5000).unref()
    })
  }

  private teardown(): void {
    if (this.closed) return
    this.closed = true
    this.closing = true
    for (const stream of this.streams.values()) stream.destroy()
    this.streams.clear()
    this.inflate.close()
    this.deflate.close()
    this.emit('close')
  }

  private receive(chunk: Buffer): void {
    let frames: Frame[]
    try {
      frames = this.parser.push(chunk)
    } catch (err) {
      this.protocolError(err)
      return
    }
    for (const frame of frames) {
      if (this.busy || hasHeaderBlock(frame)) {
        this.inbound.push(frame)
        if (!this.busy) void this.drainInbound()
      } else {
        this.handle(frame, undefined)
      }
    }
  }

  private async drainInbound(): Promise<void> {
    this.busy = true
    while (this.inbound.length > 0 && !this.closed) {
      const frame = this.inbound.shift()!
      let headers: Record<string, string> | undefined
      if (hasHeaderBlock(frame) && frame.kind === 'control') {
        const offset = frame.type === frameType.synStream ? 10 : 4
        try {
          if (frame.payload.length < offset) throw new SpdyProtocolError(`a control frame of type ${frame.type} is truncated`)
          headers = decodeHeaderBlock(await this.inflate.run(frame.payload.subarray(offset)))
        } catch (err) {
          this.protocolError(err)
          break
        }
      }
      this.handle(frame, headers)
    }
    this.busy = false
  }

  private protocolError(err: unknown): void {
    this.options.log(`streaming connection: protocol error: ${(err as Error).message}`)
    this.close(rstStatus.protocolError)
  }

  private handle(frame: Frame, headers: Record<string, string> | undefined): void {
    if (this.closed) return
    if (frame.kind === 'data') {
      const stream = this.streams.get(frame.streamId)
      // Data for a stream this side reset or never had: dropped, as spdystream does.
      if (!stream) return
      stream.receive(frame.data, (frame.flags & flagFin) !== 0)
      return
    }
    const p = frame.payload
    switch (frame.type) {
      case frameType.synStream: {
        const id = p.readUInt32BE(0) & 0x7fffffff
        if (id % 2 === 0 || id <= this.lastStreamId) {
          this.sendReset(id, rstStatus.protocolError)
          return
        }
        this.lastStreamId = id
        if (this.closing) {
          this.sendReset(id, rstStatus.refusedStream)
          return
        }
        const stream = new SpdyStream(this, id, headers ?? {})
        this.streams.set(id, stream)
        this.options.onStream(stream)
        if ((frame.flags & flagFin) !== 0) stream.receive(Buffer.alloc(0), true)
        return
      }
      case frameType.rstStream: {
        if (p.length < 8) return
        this.streams.get(p.readUInt32BE(0) & 0x7fffffff)?.remoteReset()
        return
      }
      case frameType.ping: {
        // Echo the peer's pings (odd IDs from a client); this side sends none.
        if (p.length >= 4 && p.readUInt32BE(0) % 2 === 1) this.send(controlFrame(frameType.ping, 0, Buffer.from(p.subarray(0, 4))))
        return
      }
      case frameType.goaway:
        this.close()
        return
      default:
        // SYN_REPLY and HEADERS (their blocks went through the context), SETTINGS,
        // WINDOW_UPDATE and types SPDY/3 does not name: nothing to do.
        return
    }
  }

  // ---- the stream side ----

  forget(stream: SpdyStream): void {
    this.streams.delete(stream.id)
    this.resumeFor(stream)
  }

  pauseFor(stream: SpdyStream): void {
    this.pausedBy.add(stream)
    this.socket.pause()
  }

  resumeFor(stream: SpdyStream): void {
    if (this.pausedBy.delete(stream) && this.pausedBy.size === 0 && !this.closed) this.socket.resume()
  }

  sendReset(id: number, status: number): void {
    const payload = Buffer.alloc(8)
    payload.writeUInt32BE(id & 0x7fffffff, 0)
    payload.writeUInt32BE(status, 4)
    this.send(controlFrame(frameType.rstStream, 0, payload))
  }

  sendReply(id: number): void {
    this.sendLater(
      this.deflate.run(encodeHeaderBlock({})).then((block) => {
        const payload = Buffer.concat([u32(id & 0x7fffffff), block])
        return controlFrame(frameType.synReply, 0, payload)
      }),
    )
  }

  /** Data frames for one write; false when the socket's buffer is full (wait for 'drain'). */
  sendData(id: number, data: Buffer, fin: boolean): boolean {
    if (data.length <= maxFrameData) return this.send(dataFrame(id, fin ? flagFin : 0, data))
    let ok = true
    for (let at = 0; at < data.length; at += maxFrameData) {
      const last = at + maxFrameData >= data.length
      ok = this.send(dataFrame(id, fin && last ? flagFin : 0, data.subarray(at, at + maxFrameData)))
    }
    return ok
  }

  private send(frame: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return true
    if (this.outboundTail === null) return this.socket.write(frame)
    this.sendLater(Promise.resolve(frame))
    return true
  }

  private sendLater(frame: Promise<Buffer>): void {
    this.outboundPending++
    const previous = this.outboundTail ?? Promise.resolve()
    this.outboundTail = previous
      .then(() => frame)
      .then(
        (buf) => {
          if (!this.closed && !this.socket.destroyed) this.socket.write(buf)
        },
        (err: unknown) => this.options.log(`streaming connection: ${(err as Error).message}`),
      )
      .finally(() => {
        if (--this.outboundPending === 0) this.outboundTail = null
      })
  }

  private afterWrites(fn: () => void): void {
    if (this.outboundTail === null) fn()
    else void this.outboundTail.then(fn)
  }
}

function hasHeaderBlock(frame: Frame): boolean {
  return frame.kind === 'control' && (frame.type === frameType.synStream || frame.type === frameType.synReply || frame.type === frameType.headers)
}

/**
 * One stream the peer opened. Readable: what the peer sends (ends at its FIN);
 * writable: data frames to the peer (end() sends FIN). Accept it with accept()
 * before writing; reset() refuses or aborts it.
 */
export class SpdyStream extends Duplex {
  private accepted = false
  private remoteEnded = false
  private wasReset = false

  constructor(
    private readonly conn: SpdyConnection,
    readonly id: number,
    /** lower-case names, first values */
    readonly headers: Record<string, string>,
  ) {
    super({allowHalfOpen: true})
  }

  accept(): void {
    if (this.accepted || this.wasReset) return
    this.accepted = true
    this.conn.sendReply(this.id)
  }

  reset(status: number = rstStatus.cancel): void {
    if (this.wasReset) return
    this.wasReset = true
    this.conn.sendReset(this.id, status)
    this.destroy()
  }

  remoteReset(): void {
    this.wasReset = true
    this.destroy()
  }

  receive(data: Buffer, fin: boolean): void {
    if (this.remoteEnded || this.destroyed) return
    if (data.length > 0 && !this.push(data)) this.conn.pauseFor(this)
    if (fin) {
      this.remoteEnded = true
      this.push(null)
    }
  }

  override _read(): void {
    this.conn.resumeFor(this)
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.wasReset || this.conn.closed) return callback()
    if (!this.accepted) this.accept()
    if (this.conn.sendData(this.id, chunk, false)) return callback()
    const socket = this.conn.socket
    const done = () => {
      socket.off('drain', done)
      socket.off('close', done)
      callback()
    }
    socket.on('drain', done)
    socket.on('close', done)
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.wasReset && !this.conn.closed) {
      if (!this.accepted) this.accept()
      this.conn.sendData(this.id, Buffer.alloc(0), true)
    }
    callback()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // Destroyed before both sides ended: the peer must not wait for this stream.
    if (!this.wasReset && !this.conn.closed && !(this.remoteEnded && this.writableFinished)) {
      this.wasReset = true
      this.conn.sendReset(this.id, rstStatus.cancel)
    }
    this.conn.forget(this)
    callback(error)
  }
}
